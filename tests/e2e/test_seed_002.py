"""Seed 002 in the browser, as two people (issue 3, "Done when"):

the seller puts a service up with a hearing sheet → the buyer purchases, answering it → the seller stays
silent → 48 h pass (`timetravel` + `tick`) → the order is cancelled and fully refunded → the buyer buys again
→ the seller accepts → the delivery date passes → the seller asks for more days, the buyer declines → the
seller delivers → the buyer asks for a revision → the seller redelivers → 72 h of silence (`timetravel` +
`tick`) → approved: the seller is paid the price − 22%, the platform keeps that fee and the buyer fee.

Only the UI moves the story; the database is read at the end to check what the pages said."""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from anshin import rules
from anshin.core import clock
from anshin.core.money import yen
from tests.e2e.helpers import PASSWORD, log_in, screenshotter

shot = screenshotter("seed002-")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "ロゴをデザインします（商用利用OK）"
PRICE = 20_000
BUYER_FEE = PRICE * rules.ORDER_BUYER_FEE_PERMILLE // 1000  # ¥1,100
TOTAL = PRICE + BUYER_FEE  # ¥21,100
SELLER_FEE = PRICE * rules.ORDER_SELLER_FEE_PERCENT // 100  # ¥4,400
NET = PRICE - SELLER_FEE  # ¥15,600
DAYS = 3
Q_TEXT = "ロゴに入れる文字を教えてください"
Q_SINGLE = "ご希望のテイスト"
Q_MULTI = "納品形式"
ANSWER = "ANSHIN COFFEE"
EXPRESS = 5_000  # an option the buyer looks at, then leaves out
REVISION_REASON = "文字をもう少し太くしてください。"


def travel(settings, by: str) -> str:
    """Move the shared clock, then run the sweeper once; returns what `tick` printed."""
    settings.ANSHIN_ALLOW_TIME_TRAVEL = True
    call_command("timetravel", by, stdout=io.StringIO())
    out = io.StringIO()
    call_command("tick", stdout=out)
    return out.getvalue()


def open_order(page: Page, state_label: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name="注文", exact=True).click()
    row = page.get_by_test_id("order-row").filter(has_text=state_label).first
    row.get_by_role("link", name=TITLE).click()


def answer_hearing_sheet(page: Page) -> None:
    sheet = page.get_by_test_id("hearing-sheet")
    expect(sheet.get_by_label(Q_TEXT)).to_have_attribute("placeholder", "例: 株式会社サンプル")
    sheet.get_by_label(Q_TEXT).fill(ANSWER)
    sheet.get_by_role("group", name=re.compile(Q_SINGLE)).get_by_label("シンプル").check()
    sheet.get_by_role("group", name=re.compile(Q_MULTI)).get_by_label("PNG").check()
    sheet.get_by_role("group", name=re.compile(Q_MULTI)).get_by_label("AI").check()
    expect(page.get_by_test_id("total")).to_have_text(yen(TOTAL))
    page.get_by_label("お支払い方法").select_option(label="テストカード（承認）")
    page.get_by_role("button", name="購入する", exact=True).click()


def test_seed_002_first_response_cancel_rebuy_date_change_revision_auto_approval(new_page, settings):
    from anshin.accounts.models import User
    from anshin.ledger import services as ledger
    from anshin.ledger.models import JournalEntry
    from anshin.orders.models import Order

    seller_user = User.objects.create_user(email="seller-e2e@example.com", password=PASSWORD,
                                           display_name="山田デザイン")
    buyer_user = User.objects.create_user(email="buyer-e2e@example.com", password=PASSWORD,
                                          display_name="アンシン珈琲店")
    seller, buyer = new_page(), new_page()
    log_in(seller, "seller-e2e@example.com")
    log_in(buyer, "buyer-e2e@example.com")

    # 1. The seller puts the service up, with a three-question hearing sheet.
    seller.get_by_role("navigation").get_by_role("link", name="サービスを探す").click()
    seller.get_by_role("link", name="サービスを出品する").click()
    seller.get_by_label("タイトル").fill(TITLE)
    seller.get_by_label("カテゴリ").select_option(label="デザイン")
    seller.get_by_label("サービス内容").fill("お店や会社のロゴを3案お作りします。")
    seller.get_by_label("価格（円・税込）").fill(str(PRICE))
    seller.get_by_label("お届け日数").fill(str(DAYS))
    seller.get_by_label("修正回数").fill("1")
    option = seller.get_by_test_id("option-row").first
    option.get_by_label("オプション名").fill("特急対応")
    option.get_by_label("追加料金（円）").fill(str(EXPRESS))
    rows = seller.get_by_test_id("question-row")
    expect(rows).to_have_count(4)
    rows.nth(0).get_by_label("質問", exact=True).fill(Q_TEXT)
    rows.nth(0).get_by_label("回答例").fill("例: 株式会社サンプル")
    rows.nth(1).get_by_label("質問", exact=True).fill(Q_SINGLE)
    rows.nth(1).get_by_label("回答形式").select_option(label="単一選択")
    rows.nth(1).get_by_label("選択肢（1行に1つ）").fill("シンプル\nポップ\n高級感")
    rows.nth(1).get_by_label("必須にする").check()
    rows.nth(2).get_by_label("質問", exact=True).fill(Q_MULTI)
    rows.nth(2).get_by_label("回答形式").select_option(label="複数選択")
    rows.nth(2).get_by_label("選択肢（1行に1つ）").fill("PNG\nAI\nPDF")
    rows.nth(1).scroll_into_view_if_needed()
    shot(seller, "listing-form")
    seller.get_by_role("button", name="この内容で出品する").click()
    expect(seller.locator(".flash")).to_contain_text("サービスを出品しました。")
    expect(seller.get_by_role("heading", name=TITLE)).to_be_visible()

    # 2. The buyer finds it and purchases, answering the hearing sheet; a required answer is enforced.
    buyer.get_by_role("navigation").get_by_role("link", name="サービスを探す").click()
    buyer.get_by_role("searchbox", name="キーワード").fill("ロゴ")
    buyer.get_by_role("button", name="検索する").click()
    card = buyer.get_by_test_id("listing-card").filter(has_text=TITLE)
    expect(card).to_contain_text(yen(PRICE))
    expect(card).to_contain_text("山田デザイン")
    card.get_by_role("link", name=TITLE).click()
    express = buyer.get_by_label(re.compile("特急対応"))
    express.check()  # the total follows the options without a reload (htmx)
    with_express = PRICE + EXPRESS + (PRICE + EXPRESS) * rules.ORDER_BUYER_FEE_PERMILLE // 1000
    expect(buyer.get_by_test_id("total")).to_have_text(yen(with_express))
    express.uncheck()
    expect(buyer.get_by_test_id("total")).to_have_text(yen(TOTAL))
    buyer.get_by_role("button", name="購入する", exact=True).click()  # nothing answered
    expect(buyer.get_by_test_id("error")).to_contain_text("入力内容を確認してください。")
    expect(buyer.get_by_test_id("question").filter(has_text=Q_TEXT)).to_contain_text("この質問は必須です。")
    buyer.get_by_test_id("hearing-sheet").scroll_into_view_if_needed()
    shot(buyer, "hearing-sheet-required")
    answer_hearing_sheet(buyer)
    expect(buyer.locator(".flash")).to_contain_text("購入しました。")
    expect(buyer.get_by_test_id("state")).to_have_text("購入済み（出品者の返答待ち）")
    expect(buyer.get_by_test_id("timer")).to_contain_text("あと1日23時間")
    expect(buyer.get_by_test_id("total")).to_have_text(yen(TOTAL))
    expect(buyer.get_by_test_id("answers")).to_contain_text(ANSWER)
    shot(buyer, "purchased")

    # 3. The seller stays silent for 48 hours: the sweeper cancels the order and refunds everything.
    first = Order.objects.get()
    assert f"order {first.pk}: expire" in travel(settings, "+48h")
    buyer.reload()
    expect(buyer.get_by_test_id("state")).to_have_text("キャンセル")
    expect(buyer.get_by_test_id("refund-notice")).to_contain_text(f"お支払い額 {yen(TOTAL)} は全額返金されます。")
    expect(buyer.get_by_test_id("timeline-event").filter(has_text="自動キャンセル")).to_be_visible()
    expect(buyer.get_by_test_id("recent-message").last).to_contain_text(
        "出品者から48時間以内に返答がなかったため、注文は自動でキャンセルされました。")
    shot(buyer, "auto-cancelled")
    assert ledger.balance(ledger.escrow_code(first.ledger_ref)) == 0
    refund = JournalEntry.objects.get(ref=first.ledger_ref, kind="refund")
    assert {(p.account.code, p.amount) for p in refund.postings.select_related("account")} == {
        (ledger.escrow_code(first.ledger_ref), -TOTAL), (ledger.GATEWAY, TOTAL)}

    # 4. The buyer buys again; this time the seller accepts.
    buyer.get_by_test_id("buy-again").click()
    answer_hearing_sheet(buyer)
    expect(buyer.get_by_test_id("state")).to_have_text("購入済み（出品者の返答待ち）")

    open_order(seller, "購入済み")
    expect(seller.get_by_test_id("respond-notice")).to_contain_text("48時間以内に注文を承諾するか")
    expect(seller.get_by_test_id("answers")).to_contain_text(ANSWER)
    expect(seller.get_by_test_id("net")).to_have_text(yen(NET))
    seller.get_by_role("button", name="注文を承諾する").click()
    expect(seller.locator(".flash")).to_contain_text("注文を承諾しました。")
    expect(seller.get_by_test_id("state")).to_have_text("作業中")
    second = Order.objects.exclude(pk=first.pk).get()
    due = second.delivery_date
    expect(seller.get_by_test_id("delivery-date")).to_have_text(f"{due.year}/{due.month}/{due.day}")

    # 5. The delivery date passes without a delivery; the seller asks for more days and the buyer declines.
    travel(settings, f"+{DAYS + 1}d")
    seller.reload()
    date_change = seller.get_by_test_id("date-change-form")  # the deals app's panel (issue 3 §3)
    date_change.locator("summary").click()
    new_date = clock.today() + timedelta(days=3)
    date_change.get_by_label("希望する納期").fill(new_date.isoformat())
    date_change.get_by_label("理由").fill("あと数日いただけますか。")
    date_change.get_by_role("button", name="納期の変更を申請する").click()
    expect(seller.get_by_test_id("date-change-pending")).to_contain_text(
        f"{due.year}/{due.month}/{due.day} → {new_date.year}/{new_date.month}/{new_date.day}")
    buyer.goto(f"/orders/{second.pk}/")
    pending = buyer.get_by_test_id("date-change-pending")
    expect(pending).to_contain_text("あと数日いただけますか。")
    shot(buyer, "date-change")
    pending.locator("[data-date-change-action=decline]").click()
    expect(buyer.get_by_test_id("date-change-pending")).to_have_count(0)
    expect(buyer.get_by_test_id("delivery-date")).to_have_text(f"{due.year}/{due.month}/{due.day}")
    expect(buyer.get_by_test_id("timeline-event").filter(has_text="お届け予定日の変更を拒否")).to_be_visible()
    seller.reload()

    # 6. The seller delivers; the buyer asks for a revision; the seller redelivers.
    expect(seller.get_by_test_id("state")).to_have_text("作業中")
    seller.get_by_label("納品メッセージ").fill("ロゴを3案お送りします。ご確認ください。")
    seller.get_by_label("納品ファイル").set_input_files(
        files=[{"name": "ロゴ案.txt", "mimeType": "text/plain", "buffer": "案1 / 案2 / 案3\n".encode()}])
    seller.get_by_role("button", name="正式な納品をする").click()
    expect(seller.locator(".flash")).to_contain_text("納品しました。")
    expect(seller.get_by_test_id("state")).to_have_text("納品確認待ち")
    expect(seller.get_by_test_id("delivery").first.get_by_role("link", name=re.compile("ロゴ案.txt"))).to_be_visible()

    buyer.goto(f"/orders/{second.pk}/")
    expect(buyer.get_by_test_id("state")).to_have_text("納品確認待ち")
    expect(buyer.get_by_test_id("timer")).to_contain_text("あと2日23時間")
    expect(buyer.get_by_test_id("revisions-left")).to_have_text("差し戻しできる残り回数: 1回")
    buyer.get_by_label("修正してほしい点").fill(REVISION_REASON)
    buyer.get_by_role("button", name="差し戻す（修正依頼）").click()
    expect(buyer.locator(".flash")).to_contain_text("差し戻しました")
    expect(buyer.get_by_test_id("state")).to_have_text("作業中")

    seller.reload()
    expect(seller.get_by_test_id("timeline-event").filter(has_text="差し戻し")).to_contain_text(REVISION_REASON)
    seller.get_by_label("納品メッセージ").fill("文字を太くしました。")
    seller.get_by_role("button", name="正式な納品をする").click()
    expect(seller.get_by_test_id("state")).to_have_text("納品確認待ち")
    expect(seller.get_by_test_id("delivery")).to_have_count(2)

    buyer.reload()
    expect(buyer.get_by_role("button", name="承諾する（取引完了）")).to_be_visible()
    expect(buyer.get_by_role("button", name="差し戻す（修正依頼）")).to_have_count(0)  # the one revision is used
    shot(buyer, "redelivered")

    # 7. The buyer stays silent for 72 hours: approved, and the seller is paid the price − 22%.
    assert f"order {second.pk}: auto_approve" in travel(settings, "+72h")
    buyer.reload()
    expect(buyer.get_by_test_id("state")).to_have_text("完了（支払済み）")
    expect(buyer.get_by_test_id("timeline-event").filter(has_text="自動承諾")).to_be_visible()
    seller.reload()
    expect(seller.get_by_test_id("state")).to_have_text("完了（支払済み）")
    seller.get_by_role("navigation").get_by_role("link", name="残高").click()
    expect(seller.get_by_test_id("balance")).to_have_text(yen(NET))
    expect(seller.get_by_role("row").filter(has_text=f"取引完了: {TITLE}")).to_contain_text(f"+{yen(NET)}")
    shot(seller, "balance")

    # What the pages said is what the books say.
    second.refresh_from_db()
    assert second.state == "completed" and second.deliveries.count() == 2 and second.revisions_used == 1
    assert ledger.balance(ledger.escrow_code(second.ledger_ref)) == 0
    assert ledger.balance(ledger.worker_code(seller_user.pk)) == NET
    assert ledger.balance(ledger.REVENUE) == SELLER_FEE + BUYER_FEE  # the first order was refunded in full
    assert ledger.balance(ledger.worker_code(buyer_user.pk)) == 0
