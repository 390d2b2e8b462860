"""Listing and order pages: search, the listing page with the hearing sheet and the purchase form, the
listing form with its hearing-sheet builder, my orders, and the order page (buttons from the flow table with
guards, amounts per side, cancel requests, the timeline). Refused input gets a Japanese message and changes
nothing; a stranger gets 404 on every party-only URL; query counts do not grow with rows."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from anshin.core import clock as anshin_clock
from anshin.core.flows import Actor
from anshin.core.models import AuditEvent
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import balance, escrow_code
from anshin.messaging import services as messaging
from anshin.messaging.models import Attachment, Message
from anshin.notifications.models import Notification
from anshin.orders import services as orders
from anshin.orders.flow import ORDER_FLOW
from anshin.orders.models import CancelRequest, HearingQuestion, Listing, ListingOption, Order
from anshin.orders.views import ANSWER_ACTIONS, LISTING_ACTIONS, PARTY_ACTIONS
from tests import factories
from tests.web.helpers import login, text


def detail_url(order):
    return reverse("orders:detail", args=[order.pk])


def action_url(order, action):
    return reverse("orders:action", args=[order.pk, action])


def listing_url(listing):
    return reverse("orders:listing", args=[listing.pk])


def buttons(page: str) -> set[str]:
    return set(re.findall(r'data-action="([a-z_-]+)"', page))


def purchase_data(listing, **over) -> dict:
    data = {"card_token": "tok_visa"}
    for q in listing.questions.all():
        if q.kind == "text":
            data[f"q_{q.pk}"] = "ロゴを作ってほしいです"
        elif q.kind == "single":
            data[f"q_{q.pk}"] = q.choices[0]
        else:
            data[f"q_{q.pk}"] = q.choices[:2]
    data.update(over)
    return data


def _snapshot():
    return {
        "listings": sorted(Listing.objects.values_list("pk", "state", "title", "price", "updated_at")),
        "options": ListingOption.objects.count(),
        "questions": HearingQuestion.objects.count(),
        "orders": sorted(Order.objects.values_list("pk", "state", "due_at", "revisions_used")),
        "cancel_requests": sorted(CancelRequest.objects.values_list("pk", "state")),
        "events": AuditEvent.objects.count(),
        "entries": JournalEntry.objects.count(),
        "messages": Message.objects.count(),
        "attachments": Attachment.objects.count(),
        "notifications": Notification.objects.count(),
    }


# --- listing search -------------------------------------------------------------------------------------


def test_search_finds_listings_by_substring_category_price_and_sorts(buyer, seller, make_user):
    other = make_user("other", display_name="佐藤デザイン")
    factories.listing(seller, title="ロゴをデザインします", price=10_000, questions=[])
    factories.listing(other, title="名刺のデザイン", price=5_000, category="design", questions=[])
    factories.listing(seller, title="英文を日本語に翻訳します", price=20_000, category="translation", questions=[])
    paused = factories.listing(seller, title="休止中のデザイン", questions=[])
    orders.listing_transition(listing_id=paused.pk, user=seller, action="pause")
    url = reverse("orders:listings")

    page = text(login(buyer).get(url))
    assert page.count('data-testid="listing-card"') == 3
    assert "休止中のデザイン" not in page
    assert "¥10,000" in page and "山田花子" in page and "5日" in page

    page = text(login(buyer).get(url, {"q": "デザイン"}))
    assert page.count('data-testid="listing-card"') == 2 and "英文を日本語に翻訳します" not in page
    page = text(login(buyer).get(url, {"category": "translation"}))
    assert page.count('data-testid="listing-card"') == 1 and "英文を日本語に翻訳します" in page
    page = text(login(buyer).get(url, {"price_min": 6000, "price_max": 15000}))
    assert page.count('data-testid="listing-card"') == 1 and "ロゴをデザインします" in page
    page = text(login(buyer).get(url, {"sort": "price_low"}))
    assert page.index("名刺のデザイン") < page.index("ロゴをデザインします") < page.index("英文を日本語に翻訳します")
    page = text(login(buyer).get(url, {"sort": "price_high"}))
    assert page.index("英文を日本語に翻訳します") < page.index("ロゴをデザインします")
    page = text(login(buyer).get(url, {"q": "存在しない言葉"}))
    assert "条件に合うサービスが見つかりませんでした。" in page


def test_search_is_public_and_htmx_gets_only_the_results(client, seller):
    factories.listing(seller, questions=[])
    response = client.get(reverse("orders:listings"), {"q": "ロゴ"}, HTTP_HX_REQUEST="true")
    page = text(response)
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="results">') and "<html" not in page
    assert "ロゴをデザインします" in page


def test_search_with_bad_price_shows_a_message_and_ignores_the_field(client, seller):
    factories.listing(seller, questions=[])
    page = text(client.get(reverse("orders:listings"), {"price_min": "abc"}))
    assert "価格（下限）: 整数を入力してください。" in page
    assert page.count('data-testid="listing-card"') == 1


def test_nav_links_to_services_and_my_orders(client, buyer):
    assert f'href="{reverse("orders:listings")}">サービスを探す<' in text(client.get(reverse("orders:listings")))
    page = text(login(buyer).get(reverse("orders:listings")))
    assert f'href="{reverse("orders:list")}">注文<' in page


# --- listing page, hearing sheet, purchase --------------------------------------------------------------


def test_listing_page_renders_the_hearing_sheet_and_the_total(buyer, seller):
    listing = factories.listing(seller)
    page = text(login(buyer).get(listing_url(listing)))
    text_q, single_q, multiple_q = listing.questions.all()
    option = listing.options.get()
    assert "シンプルで覚えやすいロゴをお作りします。" in page
    assert "修正回数" in page and "1回まで" in page and "注文の承諾から5日" in page
    # free text → a textarea with the example as placeholder, marked 必須
    assert re.search(rf'<textarea name="q_{text_q.pk}"[^>]*placeholder="ロゴの作成"', page)
    assert re.search(r'ご依頼の内容を教えてください <span class="required">必須</span>', page)
    # single → radios; multiple → checkboxes (optional: no 必須)
    assert page.count(f'type="radio" name="q_{single_q.pk}"') == 3
    assert page.count(f'type="checkbox" name="q_{multiple_q.pk}"') == 3
    assert not re.search(r'納品形式 <span class="required">', page)
    # options with prices, the total with the 5.5% buyer fee, the two test cards
    assert f'name="options" value="{option.pk}"' in page and "特急対応" in page and "+¥3,000" in page
    assert "¥10,000" in page and "¥550" in page and 'data-testid="total">¥10,550<' in page
    assert '<option value="tok_decline">テストカード（拒否）</option>' in page


def test_quote_follows_the_options_ticked(client, seller):
    listing = factories.listing(seller)
    option = listing.options.get()
    page = text(client.get(reverse("orders:listing_quote", args=[listing.pk]), {"options": [option.pk]}))
    assert 'data-testid="total">¥13,715<' in page  # 13,000 + 715 (5.5%, rounded down)


def test_the_seller_sees_edit_and_pause_instead_of_the_purchase_form(seller, buyer):
    listing = factories.listing(seller)
    page = text(login(seller).get(listing_url(listing)))
    assert "出品内容を編集する" in page and buttons(page) == {"pause"} and "購入する</button>" not in page
    login(seller).post(reverse("orders:listing_action", args=[listing.pk, "pause"]))
    listing.refresh_from_db()
    assert listing.state == "paused"
    page = text(login(seller).get(listing_url(listing)))
    assert buttons(page) == {"resume"} and "一時停止中" in page
    assert login(buyer).get(listing_url(listing)).status_code == 404  # paused: only its seller sees it
    login(seller).post(reverse("orders:listing_action", args=[listing.pk, "resume"]))
    assert login(buyer).get(listing_url(listing)).status_code == 200


def test_anonymous_visitors_are_asked_to_log_in(client, seller):
    listing = factories.listing(seller)
    page = text(client.get(listing_url(listing)))
    assert "ログインして購入する" in page and "ヒアリングシート" not in page
    response = client.post(reverse("orders:purchase", args=[listing.pk]), purchase_data(listing))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Order.objects.exists()


def test_purchase_with_the_hearing_sheet_opens_the_order(buyer, seller):
    listing = factories.listing(seller)
    option = listing.options.get()
    data = purchase_data(listing, options=[str(option.pk)])
    browser = login(buyer)
    response = browser.post(reverse("orders:purchase", args=[listing.pk]), data)
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(order)
    assert order.state == "purchased" and order.total == 13_715 and order.options[0]["title"] == "特急対応"
    assert [a.answer for a in order.answers.all()] == [["ロゴを作ってほしいです"], ["シンプル"], ["PNG", "AI"]]
    assert balance(escrow_code(order.ledger_ref)) == 13_715

    page = text(browser.get(detail_url(order)))
    assert "購入しました。" in page  # flash
    assert 'data-testid="total">¥13,715<' in page and "¥715" in page and "受取額" not in page
    assert "ご希望のテイスト" in page and "PNG" in page and "AI" in page
    assert "自動キャンセルまで" in page
    assert 'data-testid="buy-again"' in page

    page = text(login(seller).get(detail_url(order)))
    assert 'data-testid="seller-fee">¥2,860' in page and 'data-testid="net">¥10,140<' in page  # 22% of 13,000
    assert "購入手数料" not in page
    assert "48時間以内に注文を承諾するか、メッセージで返答してください。" in page


def test_the_buyer_can_buy_the_same_service_again(buyer, seller):
    listing = factories.listing(seller)
    for _ in range(2):
        assert login(buyer).post(reverse("orders:purchase", args=[listing.pk]),
                                 purchase_data(listing)).status_code == 302
    assert Order.objects.filter(buyer=buyer, listing=listing).count() == 2
    assert 'data-testid="past-orders"' in text(login(buyer).get(listing_url(listing)))


def _refused_purchase(user, listing, data, status=400):
    before = _snapshot()
    response = login(user).post(reverse("orders:purchase", args=[listing.pk]), data)
    assert response.status_code == status
    assert _snapshot() == before
    return text(response)


def test_missing_required_answers_are_refused_next_to_the_question(buyer, seller):
    listing = factories.listing(seller)
    text_q, single_q, _ = listing.questions.all()
    data = purchase_data(listing)
    del data[f"q_{single_q.pk}"]
    data[f"q_{text_q.pk}"] = "   "
    page = _refused_purchase(buyer, listing, data)
    assert "入力内容を確認してください。" in page
    assert "この質問は必須です。回答を入力してください。" in page
    assert "この質問は必須です。選択肢から1つ選んでください。" in page
    # the other answers are kept for the second try
    assert re.search(r'value="PNG"[^>]*checked', page) and re.search(r'value="AI"[^>]*checked', page)


def test_bad_choices_and_unknown_options_are_refused(buyer, seller):
    listing = factories.listing(seller)
    _, single_q, _ = listing.questions.all()
    page = _refused_purchase(buyer, listing, purchase_data(listing, **{f"q_{single_q.pk}": "<b>存在しない</b>"}))
    assert "正しく選択してください" in page and "<b>存在しない</b>" not in page
    other = factories.listing(seller, title="別のサービス").options.get()
    page = _refused_purchase(buyer, listing, purchase_data(listing, options=[str(other.pk)]))
    assert "選択できないオプションです。" in page
    page = _refused_purchase(buyer, listing, purchase_data(listing, options=["abc"]))
    assert "選択できないオプションです。" in page


def test_a_declined_card_changes_nothing(buyer, seller):
    listing = factories.listing(seller)
    page = _refused_purchase(buyer, listing, purchase_data(listing, card_token="tok_decline"), status=402)
    assert "カード会社により決済が承認されませんでした。" in page
    assert "ロゴを作ってほしいです" in page  # the answers are kept


def test_the_seller_cannot_buy_her_own_service(seller):
    listing = factories.listing(seller)
    page = _refused_purchase(seller, listing, purchase_data(listing))
    assert "自分のサービスは購入できません。" in page


def test_purchase_by_get_goes_back_to_the_listing(buyer, seller):
    listing = factories.listing(seller)
    response = login(buyer).get(reverse("orders:purchase", args=[listing.pk]))
    assert response.status_code == 302 and response["Location"] == listing_url(listing)
    assert not Order.objects.exists()


# --- listing form and hearing-sheet builder ------------------------------------------------------------


def listing_post(**over) -> dict:
    data = {
        "title": "商品写真の背景を白く切り抜きます", "category": "design",
        "description": "ECサイト用の商品写真を切り抜きます。", "price": "5000", "delivery_days": "3",
        "included_revisions": "2",
        "opt-TOTAL_FORMS": "2", "opt-INITIAL_FORMS": "0",
        "opt-0-title": "影をつける", "opt-0-price": "1000", "opt-0-extra_days": "1",
        "opt-1-title": "", "opt-1-price": "", "opt-1-extra_days": "",
        "q-TOTAL_FORMS": "4", "q-INITIAL_FORMS": "0",
        "q-0-kind": "text", "q-0-text": "写真の枚数", "q-0-example": "10枚", "q-0-required": "on",
        "q-1-kind": "single", "q-1-text": "背景の色", "q-1-choices": "白\nグレー\n", "q-1-required": "on",
        "q-2-kind": "multiple", "q-2-text": "用途", "q-2-choices": "EC\nSNS\n印刷",
        "q-3-kind": "text", "q-3-text": "",
    }
    data.update(over)
    return data


def test_create_a_listing_with_options_and_a_hearing_sheet(seller):
    page = text(login(seller).get(reverse("orders:listing_create")))
    assert page.count('data-testid="question-row"') == 4 and page.count('data-testid="option-row"') == 2
    response = login(seller).post(reverse("orders:listing_create"), listing_post())
    listing = Listing.objects.get()
    assert response.status_code == 302 and response["Location"] == listing_url(listing)
    assert (listing.price, listing.delivery_days, listing.included_revisions) == (5000, 3, 2)
    assert [(o.title, o.price, o.extra_days) for o in listing.options.all()] == [("影をつける", 1000, 1)]
    assert [(q.kind, q.text, q.choices, q.example, q.required) for q in listing.questions.all()] == [
        ("text", "写真の枚数", [], "10枚", True),
        ("single", "背景の色", ["白", "グレー"], "", True),
        ("multiple", "用途", ["EC", "SNS", "印刷"], "", False),
    ]


def test_add_question_adds_a_blank_row_without_saving(seller):
    response = login(seller).post(reverse("orders:listing_create"), listing_post(add_question="1"))
    page = text(response)
    assert response.status_code == 200
    assert page.count('data-testid="question-row"') == 5
    assert "背景の色" in page and "白\nグレー" in page  # what was typed stays
    assert not Listing.objects.exists()


def test_edit_keeps_existing_questions_and_removes_the_deleted_one(seller, buyer):
    listing = factories.listing(seller)
    order = factories.order(buyer, seller, a_listing=listing)
    page = text(login(seller).get(reverse("orders:listing_edit", args=[listing.pk])))
    assert "ご依頼の内容を教えてください" in page and "シンプル\nポップ\n高級感" in page
    data = listing_post(**{
        "opt-TOTAL_FORMS": "0", "q-TOTAL_FORMS": "3", "q-INITIAL_FORMS": "3",
        "q-0-kind": "text", "q-0-text": "ご依頼の内容", "q-0-required": "on",
        "q-1-kind": "single", "q-1-text": "ご希望のテイスト", "q-1-choices": "シンプル\nポップ", "q-1-DELETE": "on",
        "q-2-kind": "multiple", "q-2-text": "納品形式", "q-2-choices": "PNG\nAI",
    })
    response = login(seller).post(reverse("orders:listing_edit", args=[listing.pk]), data)
    assert response.status_code == 302
    assert [q.text for q in listing.questions.all()] == ["ご依頼の内容", "納品形式"]
    assert not listing.options.exists()
    assert [a.question for a in order.answers.all()][1] == "ご希望のテイスト"  # the order keeps what was asked


@pytest.mark.parametrize("over, message", [
    ({"price": "-3000"}, "価格は¥1,000以上¥10,000,000以下の整数で入力してください。"),
    ({"price": "99999999999999"}, "価格は¥1,000以上¥10,000,000以下の整数で入力してください。"),
    ({"price": "abc"}, "整数を入力してください"),
    ({"delivery_days": "0"}, "お届け日数は1〜90日で入力してください。"),
    ({"title": ""}, "このフィールドは必須です"),
    ({"q-1-choices": "白"}, "選択式の質問には選択肢を2つ以上、1行に1つ入力してください。"),
    ({"q-1-kind": ""}, "回答形式を選択してください。"),
    ({"opt-0-price": ""}, "追加料金を入力してください。"),
    ({"opt-0-price": "-1"}, "オプション1の追加料金は0〜¥10,000,000の整数で入力してください。"),
])
def test_bad_listing_input_is_refused_and_creates_nothing(over, message, seller):
    before = _snapshot()
    response = login(seller).post(reverse("orders:listing_create"), listing_post(**over))
    assert response.status_code == 400
    assert message in text(response)
    assert _snapshot() == before


def test_tampered_row_counts_are_refused(seller):
    before = _snapshot()
    tampered = "ManagementForm のデータが不足しているか改竄されています。"
    cases = [({"q-TOTAL_FORMS": "abc"}, 400, tampered),
             ({"q-TOTAL_FORMS": "abc", "add_question": "1"}, 200, tampered),
             ({"opt-TOTAL_FORMS": "999"}, 400, "最大で 10 個のフォームを送信してください。")]
    for over, status, message in cases:
        response = login(seller).post(reverse("orders:listing_create"), listing_post(**over))
        assert response.status_code == status and message in text(response)
    assert _snapshot() == before


def test_bad_edit_changes_nothing(seller):
    listing = factories.listing(seller)
    before = _snapshot()
    data = listing_post(price="-1", **{"q-TOTAL_FORMS": "0", "opt-TOTAL_FORMS": "0"})
    response = login(seller).post(reverse("orders:listing_edit", args=[listing.pk]), data)
    assert response.status_code == 400 and "価格は¥1,000以上" in text(response)
    assert _snapshot() == before


# --- my orders ------------------------------------------------------------------------------------------


def test_my_orders_as_buyer_and_seller_with_deadlines_in_words(buyer, seller, stranger):
    factories.order(buyer, seller, state="purchased")
    factories.order(buyer, seller, state="delivered")
    factories.order(seller, stranger, state="in_progress", title="翻訳します")  # the seller buys elsewhere
    page = text(login(seller).get(reverse("orders:list")))
    assert page.count('data-testid="order-row"') == 3
    assert "購入者" in page and "出品者" in page
    assert "自動キャンセルまで: 1日23時間" in page or "自動キャンセルまで: 2日" in page
    assert "自動承諾まで: 2日" in page or "自動承諾まで: 3日" in page
    assert "お届け予定日:" in page
    assert "¥10,000" in page and "¥10,550" in page  # seller sees the subtotal, buyer the total
    assert page.count('data-testid="my-listing"') == 2  # her own listings (one per factory order), to edit
    page = text(login(buyer).get(reverse("orders:list")))
    assert page.count('data-testid="order-row"') == 2 and "翻訳します" not in page
    assert 'data-testid="my-listing"' not in page
    assert text(login(stranger).get(reverse("orders:list"))).count('data-testid="order-row"') == 1


def test_the_list_settles_due_orders_before_showing_them(buyer, seller):
    order = factories.order(buyer, seller)
    with time_machine.travel(order.due_at + timedelta(seconds=1), tick=False):
        page = text(login(buyer).get(reverse("orders:list")))
    assert "キャンセル" in page
    order.refresh_from_db()
    assert order.state == "cancelled"


# --- the order page -------------------------------------------------------------------------------------

STATES = ["purchased", "responded", "in_progress", "delivered", "completed"]


@pytest.mark.parametrize("state", STATES)
def test_buttons_are_the_flow_rows_with_guards_for_each_side(state, buyer, seller):
    order = factories.order(buyer, seller, state=state)
    for user, role in ((buyer, Actor.CLIENT), (seller, Actor.WORKER)):
        page = text(login(user).get(detail_url(order)))
        expected = {t.action for t in ORDER_FLOW.allowed(state, [role], order) if t.label}
        shown = buttons(page) - {"cancel_request"}
        assert shown == expected, (state, role)
        assert order.state_label in page
        assert ("cancel_request" in buttons(page)) == (state not in ORDER_FLOW.terminal)
    assert "terminate_overdue" not in buttons(text(login(buyer).get(detail_url(order))))


def test_terminate_overdue_appears_only_when_the_guard_allows(buyer, seller):
    order = factories.order(buyer, seller, state="in_progress")
    almost = order.delivery_date + timedelta(days=3)
    with time_machine.travel(f"{almost.isoformat()} 12:00 +0900", tick=False):
        assert "terminate_overdue" not in buttons(text(login(buyer).get(detail_url(order))))
        response = login(buyer).post(action_url(order, "terminate_overdue"))
        assert response.status_code == 400 and "お届け予定日を3日過ぎても納品がない場合にのみ" in text(response)
    with time_machine.travel(f"{(almost + timedelta(days=1)).isoformat()} 12:00 +0900", tick=False):
        page = text(login(buyer).get(detail_url(order)))
        assert "terminate_overdue" in buttons(page)
        assert "terminate_overdue" not in buttons(text(login(seller).get(detail_url(order))))
        assert login(buyer).post(action_url(order, "terminate_overdue")).status_code == 302
    order.refresh_from_db()
    assert order.state == "cancelled"
    assert balance(escrow_code(order.ledger_ref)) == 0


def test_accept_deliver_revise_redeliver_approve(buyer, seller):
    order = factories.order(buyer, seller)
    browser = login(seller)
    assert browser.post(action_url(order, "accept")).status_code == 302
    order.refresh_from_db()
    page = text(browser.get(detail_url(order)))
    assert "注文を承諾しました。" in page and order.delivery_date.strftime("%Y/%-m/%-d") in page

    pdf = SimpleUploadedFile("ロゴ案.pdf", b"%PDF-1.4 logo", content_type="application/pdf")
    response = login(seller).post(action_url(order, "deliver"), {"body": "ロゴ案です。", "files": [pdf]})
    assert response.status_code == 302
    page = text(login(buyer).get(detail_url(order)))
    assert "ロゴ案です。" in page and "ロゴ案.pdf" in page and "自動承諾まで" in page
    assert "差し戻しできる残り回数: 1回" in page
    token = Attachment.objects.get(name="ロゴ案.pdf").token
    assert login(buyer).get(reverse("messaging:attachment", args=[token])).status_code == 200

    assert login(buyer).post(action_url(order, "request_revision"), {"reason": ""}).status_code == 400
    assert login(buyer).post(action_url(order, "request_revision"), {"reason": "色を青に"}).status_code == 302
    page = text(login(seller).get(detail_url(order)))
    assert "差し戻し（修正依頼）" in page and "理由: 色を青に" in page and "1 / 1回" in page
    login(seller).post(action_url(order, "deliver"), {"body": "青にしました。"})
    page = text(login(buyer).get(detail_url(order)))
    assert "request_revision" not in buttons(page)  # the one included revision is used
    response = login(buyer).post(action_url(order, "request_revision"), {"reason": "もう一度"})
    assert response.status_code == 400 and "修正依頼は1回までです" in text(response)
    assert login(buyer).post(action_url(order, "approve")).status_code == 302
    order.refresh_from_db()
    assert order.state == "completed"
    page = text(login(seller).get(detail_url(order)))
    assert "完了（支払済み）" in page and "第2回納品" in page and 'data-testid="actions"' not in page


def test_refused_actions_show_a_japanese_message_and_change_nothing(buyer, seller):
    order = factories.order(buyer, seller, state="delivered")
    before = _snapshot()
    response = login(seller).post(action_url(order, "approve"))  # only the buyer approves
    assert response.status_code == 400 and "この操作はできません" in text(response)
    response = login(buyer).post(action_url(order, "accept"))
    assert response.status_code == 400 and "この操作はできません" in text(response)
    big = SimpleUploadedFile("setup.exe", b"MZ" + b"0" * 50)
    order2 = factories.order(buyer, seller, state="in_progress")
    before = _snapshot()
    response = login(seller).post(action_url(order2, "deliver"), {"body": "納品", "files": [big]})
    assert response.status_code == 400 and "は添付できない形式です" in text(response)
    assert _snapshot() == before
    for name in ("explode", "expire", "auto_approve", "respond", "cancel"):
        assert login(buyer).post(action_url(order, name)).status_code == 404


def test_cancel_request_reasons_follow_the_state_and_the_other_side_answers(buyer, seller):
    order = factories.order(buyer, seller)
    page = text(login(buyer).get(detail_url(order)))
    assert "依頼内容が変わった・不要になった" in page and "サービス内容が説明と異なる" not in page
    page = text(login(seller).get(detail_url(order)))
    assert "依頼内容に対応できない" in page and "購入者と連絡が取れない" not in page

    url = reverse("orders:cancel_request", args=[order.pk])
    before = _snapshot()
    response = login(buyer).post(url, {"cancel-reason": "not_as_described"})  # not in `purchased`
    assert response.status_code == 400 and "この状態では選べない理由です。" in text(response)
    response = login(buyer).post(url, {"cancel-reason": "other", "cancel-detail": ""})
    assert response.status_code == 400 and "「その他」を選んだ場合は詳細を入力してください。" in text(response)
    assert _snapshot() == before

    assert login(buyer).post(url, {"cancel-reason": "changed_mind", "cancel-detail": "<b>不要</b>"}).status_code == 302
    request = CancelRequest.objects.get()
    page = text(login(buyer).get(detail_url(order)))
    assert "あなたがキャンセルを申請しています。" in page and buttons(page) >= {"cancel-withdraw"}
    assert "cancel-agree" not in buttons(page)
    page = text(login(seller).get(detail_url(order)))
    assert "株式会社サンプルさんからキャンセルの申請が届いています。" in page
    assert "依頼内容が変わった・不要になった" in page and "&lt;b&gt;不要&lt;/b&gt;" in page
    assert {"cancel-agree", "cancel-refuse"} <= buttons(page) and "cancel-withdraw" not in buttons(page)
    assert "cancel_request" not in buttons(page)  # one pending request at a time

    answer = reverse("orders:cancel_answer", args=[request.pk, "agree"])
    response = login(buyer).post(answer)  # the requester cannot agree to her own request
    assert response.status_code == 400 and "自分の申請には回答できません" in text(response)
    assert login(seller).post(answer).status_code == 302
    order.refresh_from_db()
    assert order.state == "cancelled" and balance(escrow_code(order.ledger_ref)) == 0
    page = text(login(buyer).get(detail_url(order)))
    assert 'data-testid="refund-notice"' in page and "¥10,550 は全額返金されます" in page


def test_refuse_and_withdraw(buyer, seller):
    order = factories.order(buyer, seller, state="in_progress")
    login(seller).post(reverse("orders:cancel_request", args=[order.pk]), {"cancel-reason": "cannot_take"})
    request = CancelRequest.objects.get()
    browser = login(buyer)
    assert browser.post(reverse("orders:cancel_answer", args=[request.pk, "refuse"])).status_code == 302
    assert "キャンセルを拒否しました。" in text(browser.get(detail_url(order)))
    login(buyer).post(reverse("orders:cancel_request", args=[order.pk]), {"cancel-reason": "no_progress"})
    second = CancelRequest.objects.get(state="pending")
    assert login(buyer).post(reverse("orders:cancel_answer", args=[second.pk, "withdraw"])).status_code == 302
    order.refresh_from_db()
    assert order.state == "in_progress"
    assert sorted(CancelRequest.objects.values_list("state", flat=True)) == ["refused", "withdrawn"]


def test_an_order_read_after_48_hours_is_cancelled_and_refunded(buyer, seller):
    order = factories.order(buyer, seller)
    with time_machine.travel(order.due_at - timedelta(seconds=1), tick=False):
        assert "自動キャンセルまで" in text(login(buyer).get(detail_url(order)))
    with time_machine.travel(order.due_at, tick=False):
        page = text(login(buyer).get(detail_url(order)))
    assert 'data-testid="state">キャンセル<' in page
    assert "48時間以内に返答がなく自動キャンセル（全額返金）" in page
    assert balance(escrow_code(order.ledger_ref)) == 0


def test_the_thread_link_and_last_messages(buyer, seller):
    order = factories.order(buyer, seller)
    messaging.message_send(thread=order.thread, sender=seller, body="ご購入ありがとうございます！")
    page = text(login(buyer).get(detail_url(order)))
    assert reverse("messaging:thread", args=[order.thread.pk]) in page
    assert "ご購入ありがとうございます！" in page
    order.refresh_from_db()
    assert order.state == "responded"  # the seller's first message is a 返答


# --- escaping -------------------------------------------------------------------------------------------


def test_user_text_is_escaped_everywhere(buyer, seller):
    evil = "<script>alert(1)</script>"
    listing = factories.listing(seller, title=f"ロゴ{evil}", description=evil, questions=[
        {"kind": "text", "text": f"質問{evil}", "choices": [], "example": evil, "required": True},
        {"kind": "single", "text": "選択", "choices": [evil, "普通"], "example": evil, "required": True},
    ], options=[{"title": evil, "price": 100, "extra_days": 0}])
    text_q, single_q = listing.questions.all()
    pages = [text(login(buyer).get(reverse("orders:listings"))), text(login(buyer).get(listing_url(listing)))]
    login(buyer).post(reverse("orders:purchase", args=[listing.pk]),
                      {f"q_{text_q.pk}": evil, f"q_{single_q.pk}": evil, "card_token": "tok_visa"})
    order = Order.objects.get()
    pages += [text(login(u).get(detail_url(order))) for u in (buyer, seller)]
    pages.append(text(login(seller).get(reverse("orders:listing_edit", args=[listing.pk]))))
    pages.append(text(login(seller).get(reverse("orders:list"))))
    for page in pages:
        assert evil not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- the non-party table --------------------------------------------------------------------------------


@pytest.fixture
def deal(buyer, seller):
    listing = factories.listing(seller)
    order = factories.order(buyer, seller, state="delivered", a_listing=listing)
    pending = factories.order(buyer, seller, state="in_progress", a_listing=listing)
    request = orders.order_cancel_request(order_id=pending.pk, user=seller, reason="cannot_take")
    return {"listing": listing, "order": order, "pending": pending, "request": request}


def _urls(deal):
    order, listing, request = deal["order"], deal["listing"], deal["request"]
    urls = {
        "order": detail_url(order),
        "order with a pending request": detail_url(deal["pending"]),
        "cancel request": reverse("orders:cancel_request", args=[order.pk]),
        "listing edit": reverse("orders:listing_edit", args=[listing.pk]),
    }
    for action in sorted(PARTY_ACTIONS):
        urls[f"action {action}"] = action_url(order, action)
    for action in sorted(ANSWER_ACTIONS):
        urls[f"answer {action}"] = reverse("orders:cancel_answer", args=[request.pk, action])
    for action in sorted(LISTING_ACTIONS):
        urls[f"listing {action}"] = reverse("orders:listing_action", args=[listing.pk, action])
    return urls


URL_NAMES = (["order", "order with a pending request", "cancel request", "listing edit"]
             + [f"action {a}" for a in sorted(PARTY_ACTIONS)]
             + [f"answer {a}" for a in sorted(ANSWER_ACTIONS)]
             + [f"listing {a}" for a in sorted(LISTING_ACTIONS)])

POST_DATA = {"body": "部外者です", "reason": "部外者", "cancel-reason": "changed_mind", "cancel-detail": "部外者",
             **listing_post()}


def test_the_table_covers_every_action():
    assert PARTY_ACTIONS == {"accept", "deliver", "approve", "request_revision", "terminate_overdue", "open_dispute"}
    assert ANSWER_ACTIONS == {"agree", "refuse", "withdraw"}
    assert LISTING_ACTIONS == {"pause", "resume"}


@pytest.mark.parametrize("name", URL_NAMES)
def test_a_stranger_gets_404_on_get_and_post_and_nothing_changes(name, deal, stranger):
    url = _urls(deal)[name]
    before = _snapshot()
    browser = login(stranger)
    assert browser.get(url).status_code == 404
    assert browser.post(url, POST_DATA).status_code == 404
    assert browser.post(url, POST_DATA, HTTP_HX_REQUEST="true").status_code == 404
    assert _snapshot() == before


def test_the_buyer_cannot_edit_or_pause_the_sellers_listing(deal, buyer):
    before = _snapshot()
    for name in ("listing edit", "listing pause"):
        assert login(buyer).post(_urls(deal)[name], POST_DATA).status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize("name", ["order", "order with a pending request"])
def test_parties_do_get_the_order_pages(name, deal, buyer, seller):
    for user in (buyer, seller):
        assert login(user).get(_urls(deal)[name]).status_code == 200


# --- bounded queries ------------------------------------------------------------------------------------


def _queries(browser, url, params=None) -> int:
    browser.get(url, params)  # warm up: session, presence
    with CaptureQueriesContext(connection) as ctx:
        assert browser.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def test_search_queries_do_not_grow_with_listings(buyer, make_user):
    sellers = [make_user(f"s{i}") for i in range(5)]
    for i in range(5):
        factories.listing(sellers[i], title=f"デザイン{i}", questions=[])
    browser = login(buyer)
    few = _queries(browser, reverse("orders:listings"), {"q": "デザイン"})
    for i in range(45):
        factories.listing(sellers[i % 5], title=f"デザイン{i + 5}", questions=[])
    many = _queries(browser, reverse("orders:listings"), {"q": "デザイン"})
    page = text(browser.get(reverse("orders:listings"), {"q": "デザイン"}))
    assert page.count('data-testid="listing-card"') == 20  # a page of them
    assert few == many


def test_order_list_queries_do_not_grow_with_orders(buyer, seller):
    with time_machine.travel(anshin_clock.now(), tick=False):
        listing = factories.listing(seller, questions=[])
        for _ in range(5):
            orders.order_purchase(listing_id=listing.pk, user=buyer)
        browser = login(buyer)
        few = _queries(browser, reverse("orders:list"))
        for _ in range(45):
            orders.order_purchase(listing_id=listing.pk, user=buyer)
        many = _queries(browser, reverse("orders:list"))
        assert text(browser.get(reverse("orders:list"))).count('data-testid="order-row"') == 50
    assert few == many


def test_order_page_queries_do_not_grow_with_messages_events_and_deliveries(buyer, seller):
    with time_machine.travel(anshin_clock.now(), tick=False):
        order = factories.order(buyer, seller, state="delivered", included_revisions=10)
        browser = login(buyer)
        few = _queries(browser, detail_url(order))
        for i in range(10):
            orders.order_request_revision(order_id=order.pk, user=buyer, reason=f"修正{i}")
            pdf = SimpleUploadedFile(f"v{i}.pdf", b"%PDF-1.4 x", content_type="application/pdf")
            orders.order_deliver(order_id=order.pk, user=seller, body=f"再納品{i}", files=[pdf])
        for i in range(25):
            messaging.message_send(thread=order.thread, sender=seller, body=f"補足{i}")
        assert Message.objects.filter(thread=order.thread).count() >= 50
        many = _queries(browser, detail_url(order))
        page = text(browser.get(detail_url(order)))
    assert page.count('data-testid="timeline-event"') == 23
    assert page.count('data-testid="delivery"') == 11
    assert few == many
    assert many <= 30, many
