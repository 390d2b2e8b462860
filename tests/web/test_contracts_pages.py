"""Contract pages: buttons from the flow table per role and state, refused actions change nothing, funding
and delivery forms, offer form, timers in words, the timeline; the non-party 404 table for every URL of
the contract and message pages; bounded queries."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from anshin.contracts import services as contracts
from anshin.contracts.flow import CONTRACT_FLOW
from anshin.contracts.models import Contract, Delivery
from anshin.contracts.views import PARTY_ACTIONS
from anshin.core import clock
from anshin.core.flows import Actor
from anshin.core.models import AuditEvent
from anshin.jobs.models import Application
from anshin.ledger.models import JournalEntry
from anshin.messaging import services as messaging
from anshin.messaging.models import Attachment, Message, Receipt
from anshin.notifications.models import Notification
from tests import factories
from tests.web.helpers import login, text


def detail_url(contract):
    return reverse("contracts:detail", args=[contract.pk])


def action_url(contract, action):
    return reverse("contracts:action", args=[contract.pk, action])


def buttons(page: str) -> set[str]:
    return set(re.findall(r'data-action="([a-z_]+)"', page))


def pdf(name="納品物.pdf", size=None):
    content = b"%PDF-1.4 " + b"x" * ((size or 20) - 9)
    return SimpleUploadedFile(name, content, content_type="application/pdf")


STATES = ["offered", "awaiting_funding", "funded", "delivered", "revision_requested", "accepted"]


@pytest.mark.parametrize("state", STATES)
def test_buttons_are_exactly_the_flow_table_rows_for_each_role(state, client_user, worker, operator):
    c = factories.contract(client_user, worker, state=state)
    for user, role in ((client_user, Actor.CLIENT), (worker, Actor.WORKER), (operator, Actor.OPERATOR)):
        page = text(login(user).get(detail_url(c)))
        # the table's rows for this role whose guard holds now (no overdue here); `terminate` is the clock's
        expected = {t.action for t in CONTRACT_FLOW.allowed(state, [role], c) if t.label}
        assert buttons(page) == expected, (state, role)
        assert c.state_label in page
    if state == "accepted":
        assert 'data-testid="actions"' not in page


def test_action_not_allowed_shows_japanese_error_and_changes_nothing(client_user, worker):
    c = factories.contract(client_user, worker, state="delivered")
    events = AuditEvent.objects.count()
    response = login(worker).post(action_url(c, "accept"))  # only the client may accept
    assert response.status_code == 400
    assert "現在の状態（検収待ち）ではこの操作はできません。" in text(response)
    response = login(client_user).post(action_url(c, "accept_offer"))  # wrong state
    assert "この操作はできません" in text(response)
    c.refresh_from_db()
    assert c.state == "delivered"
    assert AuditEvent.objects.count() == events
    for name in ("explode", "deem_accept", "lapse"):  # unknown, and the clock's own moves
        assert login(client_user).post(action_url(c, name)).status_code == 404


def test_simple_actions_walk_the_contract(client_user, worker):
    c = factories.contract(client_user, worker, state="offered")
    response = login(worker).post(action_url(c, "accept_offer"))
    assert response.status_code == 302 and response["Location"] == detail_url(c)
    c.refresh_from_db()
    assert c.state == "awaiting_funding"
    page = text(login(worker).get(detail_url(c)))
    assert "オファーを承諾しました" in page  # flash
    assert "仮払い待ち" in page


def test_fund_declined_card_shows_the_message_and_stays_awaiting_funding(client_user, worker):
    c = factories.contract(client_user, worker, state="awaiting_funding")
    entries = JournalEntry.objects.count()
    response = login(client_user).post(action_url(c, "fund"), {"card_token": "tok_decline"})
    page = text(response)
    assert response.status_code == 402
    assert "カード会社により決済が承認されませんでした。" in page
    assert 'data-testid="state">仮払い待ち<' in page
    c.refresh_from_db()
    assert c.state == "awaiting_funding" and c.funded_at is None
    assert JournalEntry.objects.count() == entries

    response = login(client_user).post(action_url(c, "fund"), {"card_token": "tok_visa"})
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.state == "funded"


def test_fund_form_offers_the_two_test_cards(client_user, worker):
    c = factories.contract(client_user, worker, state="awaiting_funding")
    page = text(login(client_user).get(detail_url(c)))
    assert '<option value="tok_visa">テストカード（承認）</option>' in page
    assert '<option value="tok_decline">テストカード（拒否）</option>' in page


@pytest.mark.parametrize("upload, message", [
    (lambda: pdf(size=11 * 1024 * 1024), "は大きすぎます（1ファイル10MBまで）"),
    (lambda: SimpleUploadedFile("setup.exe", b"MZ" + b"0" * 50), "は添付できない形式です"),
])
def test_deliver_refuses_big_or_forbidden_files_and_changes_nothing(upload, message, client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    response = login(worker).post(action_url(c, "deliver"), {"body": "納品します。", "files": [upload()]})
    assert response.status_code == 400
    assert message in text(response)
    c.refresh_from_db()
    assert c.state == "funded"
    assert not Delivery.objects.filter(contract=c).exists()
    assert not Attachment.objects.exists()


def test_deliver_with_files_and_links_then_revision_then_accept(client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    response = login(worker).post(action_url(c, "deliver"), {
        "body": "納品します。ご確認ください。", "links": "https://example.com/a\nhttps://example.com/b",
        "files": [pdf("原稿.pdf"), SimpleUploadedFile("写真.png", b"\x89PNG....", content_type="image/png")],
    })
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.state == "delivered"
    page = text(login(client_user).get(detail_url(c)))
    assert "原稿.pdf" in page and "写真.png" in page and "https://example.com/b" in page
    token = Attachment.objects.get(name="原稿.pdf").token
    download = login(client_user).get(reverse("messaging:attachment", args=[token]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment;")
    assert "自動検収まで" in page

    assert login(client_user).post(action_url(c, "request_revision"), {"reason": ""}).status_code == 400
    response = login(client_user).post(action_url(c, "request_revision"), {"reason": "写真の位置を直してください"})
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.state == "revision_requested"
    page = text(login(worker).get(detail_url(c)))
    assert "修正を依頼" in page and "理由: 写真の位置を直してください" in page  # the timeline

    login(worker).post(action_url(c, "deliver"), {"body": "修正しました。"})
    login(client_user).post(action_url(c, "accept"))
    c.refresh_from_db()
    assert c.state == "accepted"
    page = text(login(worker).get(detail_url(c)))
    assert "完了（支払済み）" in page and "第2回納品" in page and "検収合格" in page


def test_deliver_with_a_bad_link_is_refused(client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    response = login(worker).post(action_url(c, "deliver"), {"body": "納品", "links": "javascript:alert(1)"})
    assert response.status_code == 400 and "http:// または https://" in text(response)
    c.refresh_from_db()
    assert c.state == "funded"


def test_worker_is_told_not_to_start_before_funding(client_user, worker):
    notice = "仮払い前に作業を始めないでください"
    c = factories.contract(client_user, worker, state="offered")
    assert notice in text(login(worker).get(detail_url(c)))
    assert notice not in text(login(client_user).get(detail_url(c)))
    contracts.contract_simple_action(contract_id=c.pk, user=worker, action="accept_offer")
    assert notice in text(login(worker).get(detail_url(c)))
    contracts.contract_fund(contract_id=c.pk, user=client_user)
    assert notice not in text(login(worker).get(detail_url(c)))


def test_fee_preview_is_shown_to_the_worker_only(client_user, worker):
    c = factories.contract(client_user, worker, state="offered", amount=150_000)
    page = text(login(worker).get(detail_url(c)))
    assert "¥25,000" in page and "¥125,000" in page
    assert "受取額" not in text(login(client_user).get(detail_url(c)))


def test_timers_in_words_on_the_page_and_the_list(client_user, worker):
    offered = factories.contract(client_user, worker, state="offered")
    assert "承諾期限" in text(login(worker).get(detail_url(offered)))
    waiting = factories.contract(client_user, worker, state="awaiting_funding")
    assert "仮払い期限" in text(login(client_user).get(detail_url(waiting)))
    delivered = factories.contract(client_user, worker, state="delivered")
    listing = text(login(client_user).get(reverse("contracts:list")))
    local = timezone.localtime(delivered.due_at)
    assert f"自動検収: {local.month}/{local.day} {local:%H:%M}" in listing
    assert listing.count('data-testid="contract-row"') == 3
    assert "¥30,000" in listing and "検収待ち" in listing


def test_list_shows_only_my_contracts_in_both_roles(client_user, worker, stranger):
    factories.contract(client_user, worker, state="offered")
    factories.contract(worker, stranger, state="offered")
    as_worker = text(login(worker).get(reverse("contracts:list")))
    assert as_worker.count('data-testid="contract-row"') == 2
    assert "発注者" in as_worker and "受注者" in as_worker
    assert text(login(client_user).get(reverse("contracts:list"))).count('data-testid="contract-row"') == 1


def test_a_contract_read_after_its_deadline_is_settled_on_the_spot(client_user, worker):
    c = factories.contract(client_user, worker, state="delivered")
    with time_machine.travel(c.due_at + timedelta(seconds=1), tick=False):
        page = text(login(worker).get(detail_url(c)))
    assert "完了（支払済み）" in page
    assert "期限切れで自動検収合格" in page


# --- offer form -----------------------------------------------------------------------------------------

def test_offer_form_prefills_from_the_application_and_creates_the_contract(client_user, worker):
    app = factories.application(client_user, worker, amount=45_000)
    url = reverse("contracts:offer", args=[app.pk])
    page = text(login(client_user).get(url))
    assert 'value="45000"' in page and f'value="{app.estimated_date.isoformat()}"' in page
    response = login(client_user).post(url, {"title": "写真挿入（10記事）", "amount": 45_000,
                                             "delivery_date": app.estimated_date.isoformat()})
    contract = Contract.objects.get(application=app)
    assert response.status_code == 302 and response["Location"] == detail_url(contract)
    assert contract.title == "写真挿入（10記事）" and contract.amount == 45_000 and contract.state == "offered"


@pytest.mark.parametrize("amount, message", [
    ("500", "金額は¥1,000以上¥10,000,000以下で入力してください。"),
    ("100000000000", "金額は¥1,000以上¥10,000,000以下で入力してください。"),
    ("-3000", "金額は¥1,000以上"),
    ("abc", "整数を入力してください"),
])
def test_offer_with_a_bad_amount_is_refused_and_creates_nothing(amount, message, client_user, worker):
    app = factories.application(client_user, worker)
    response = login(client_user).post(reverse("contracts:offer", args=[app.pk]), {
        "amount": amount, "delivery_date": (clock.today() + timedelta(days=10)).isoformat()})
    assert response.status_code == 400
    assert message in text(response)
    assert not Contract.objects.exists()
    app.refresh_from_db()
    assert app.state == "applied"


def test_offer_with_a_past_date_or_missing_fields_is_refused(client_user, worker):
    app = factories.application(client_user, worker)
    url = reverse("contracts:offer", args=[app.pk])
    past = (clock.today() - timedelta(days=1)).isoformat()
    assert "納期には今日以降の日付を指定してください。" in text(login(client_user).post(url, {"amount": 30_000,
                                                                                  "delivery_date": past}))
    assert "このフィールドは必須です" in text(login(client_user).post(url, {}))
    assert not Contract.objects.exists()


def test_the_applicant_cannot_open_the_offer_form(client_user, worker):
    app = factories.application(client_user, worker)
    url = reverse("contracts:offer", args=[app.pk])
    assert login(worker).get(url).status_code == 404
    assert login(worker).post(url, {"amount": 30_000, "delivery_date": "2099-01-01"}).status_code == 404
    assert not Contract.objects.exists()


# --- the non-party table --------------------------------------------------------------------------------

@pytest.fixture
def deal(client_user, worker):
    """An application thread with a message attachment, and a delivered contract with a delivery file."""
    app = factories.application(client_user, worker)
    messaging.message_send(thread=app.thread, sender=client_user, body="資料です", files=[pdf("資料.pdf")])
    other = factories.application(client_user, worker)  # still open for an offer
    contract = factories.contract(client_user, worker, state="funded")
    contracts.contract_deliver(contract_id=contract.pk, user=worker, body="納品します", files=[pdf("納品.pdf")])
    contract.refresh_from_db()
    return {"app": app, "offerable": other, "contract": contract,
            "message_file": Attachment.objects.get(name="資料.pdf"),
            "delivery_file": Attachment.objects.get(name="納品.pdf")}


def _urls(deal):
    t = deal["app"].thread
    c = deal["contract"]
    urls = {
        "thread": reverse("messaging:thread", args=[t.pk]),
        "contract thread": reverse("messaging:thread", args=[c.thread.pk]),
        "poll": reverse("messaging:poll", args=[t.pk]) + "?after=0",
        "send": reverse("messaging:send", args=[t.pk]),
        "message attachment": reverse("messaging:attachment", args=[deal["message_file"].token]),
        "delivery attachment": reverse("messaging:attachment", args=[deal["delivery_file"].token]),
        "contract": detail_url(c),
        "offer": reverse("contracts:offer", args=[deal["offerable"].pk]),
    }
    for action in sorted(PARTY_ACTIONS):
        urls[f"action {action}"] = action_url(c, action)
    return urls


URL_NAMES = ["thread", "contract thread", "poll", "send", "message attachment", "delivery attachment", "contract",
             "offer"] + [f"action {a}" for a in sorted(PARTY_ACTIONS)]

POST_DATA = {"body": "部外者です", "card_token": "tok_visa", "reason": "部外者", "amount": 30_000,
             "delivery_date": "2099-01-01", "after": 0}


def _snapshot():
    return {
        "messages": Message.objects.count(),
        "unread": Receipt.objects.filter(read_at__isnull=True).count(),
        "contracts": sorted(Contract.objects.values_list("pk", "state", "due_at")),
        "applications": sorted(Application.objects.values_list("pk", "state")),
        "events": AuditEvent.objects.count(),
        "entries": JournalEntry.objects.count(),
        "deliveries": Delivery.objects.count(),
        "attachments": Attachment.objects.count(),
        "notifications": sorted(Notification.objects.values_list("pk", "read_at")),
    }


def test_the_table_covers_every_party_action():
    assert {name.removeprefix("action ") for name in URL_NAMES if name.startswith("action ")} == {
        "accept_offer", "decline_offer", "withdraw_offer", "fund", "cancel", "deliver", "accept", "request_revision",
        "terminate_overdue", "open_dispute"}


@pytest.mark.parametrize("name", URL_NAMES)
def test_non_party_gets_404_on_get_and_post_and_nothing_changes(name, deal, stranger):
    url = _urls(deal)[name]
    before = _snapshot()
    browser = login(stranger)
    assert browser.get(url).status_code == 404
    assert browser.post(url, POST_DATA).status_code == 404
    assert browser.post(url, POST_DATA, HTTP_HX_REQUEST="true").status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize("name", ["thread", "message attachment", "delivery attachment", "contract"])
def test_parties_do_get_the_pages_of_the_table(name, deal, client_user):
    assert login(client_user).get(_urls(deal)[name]).status_code == 200


# --- bounded queries ------------------------------------------------------------------------------------

def _queries(browser, url) -> int:
    browser.get(url)  # warm up: session, presence
    with CaptureQueriesContext(connection) as ctx:
        assert browser.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_contract_page_queries_do_not_grow_with_timeline_and_messages(client_user, worker):
    with time_machine.travel(clock.now(), tick=False):
        c = factories.contract(client_user, worker, state="delivered")
        browser = login(client_user)
        few_events = AuditEvent.objects.count()
        few = _queries(browser, detail_url(c))
        for i in range(23):
            contracts.contract_request_revision(contract_id=c.pk, user=client_user, reason=f"修正{i}")
            contracts.contract_deliver(contract_id=c.pk, user=worker, body=f"再納品{i}", files=[pdf(f"v{i}.pdf")])
            messaging.message_send(thread=c.thread, sender=worker, body=f"補足{i}")
        assert AuditEvent.objects.count() - few_events == 46
        many = _queries(browser, detail_url(c))
        page = text(browser.get(detail_url(c)))
    assert page.count('data-testid="timeline-event"') == 50
    assert page.count('data-testid="delivery"') == 24
    assert few == many
    assert many <= 25, many


def test_contract_list_queries_do_not_grow(client_user, worker):
    with time_machine.travel(clock.now(), tick=False):
        for _ in range(2):
            factories.contract(client_user, worker, state="offered")
        browser = login(client_user)
        few = _queries(browser, reverse("contracts:list"))
        for _ in range(8):
            factories.contract(client_user, worker, state="offered")
        many = _queries(browser, reverse("contracts:list"))
    assert few == many


def test_the_list_settles_due_contracts_before_showing_them(client_user, worker):
    c = factories.contract(client_user, worker, state="offered")
    with time_machine.travel(c.due_at + timedelta(minutes=1), tick=False):
        listing = text(login(client_user).get(reverse("contracts:list")))
    assert "オファー期限切れ" in listing
    c.refresh_from_db()
    assert c.state == "lapsed"
