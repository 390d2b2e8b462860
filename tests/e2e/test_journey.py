"""The contract spine walked through the browser, as two people (issue 2, "Done when"):

sign up → post a job → find it with a Japanese substring → apply → message with read receipts (live, no
reload) → offer → accept → fund → deliver → revision → redeliver → 7 days pass (`timetravel` + `tick`)
→ deemed acceptance → the worker's balance is credited with the net amount.

Only the UI moves the story; the database is read at the end to check what the pages said."""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from anshin.core import clock
from anshin.core.money import tiered_fee, yen
from tests.e2e.helpers import PASSWORD, screenshotter

shot = screenshotter("journey-")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "記事に写真を挿入する業務"
AMOUNT = 50_000
NET = AMOUNT - tiered_fee(AMOUNT)  # ¥40,000: 20% of the part ≤ ¥100,000
POLL = 10_000  # ms; the thread polls every 4 s
APPLY_TEXT = "写真の挿入作業の経験が3年あります。1記事あたり15分ほどで対応できます。"
REPLY_TEXT = "ご応募ありがとうございます。ぜひお願いしたいと考えています。"
REVISION_REASON = "3枚目の写真の位置を見出しの直後に移してください。"
RECEIPT = re.compile(r"^既読 \d{1,2}/\d{1,2} \d{2}:\d{2}$")


def iso(days: int) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


def sign_up(page: Page, email: str, display_name: str) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ユーザー登録").click()
    expect(page.get_by_role("button", name="ログアウト")).to_be_visible()
    page.goto("/settings/profile/")
    page.get_by_label("表示名").fill(display_name)
    page.get_by_role("button", name="保存する").click()
    expect(page.locator(".flash")).to_contain_text("プロフィールを更新しました。")
    expect(page.get_by_role("navigation").get_by_role("link", name=display_name)).to_be_visible()


def open_contract(page: Page) -> None:
    page.get_by_role("navigation").get_by_role("link", name="契約", exact=True).click()
    page.get_by_test_id("contract-row").get_by_role("link", name=TITLE).click()


def test_whole_journey_from_sign_up_to_deemed_acceptance(new_page, settings):
    from anshin.accounts.models import User
    from anshin.contracts.models import Contract
    from anshin.ledger import services as ledger

    client, worker = new_page(), new_page()

    # 1. The client signs up, names herself and posts a job.
    sign_up(client, "client-e2e@example.com", "株式会社フォトメディア")
    client.get_by_role("link", name="仕事を依頼する").click()
    client.get_by_label("タイトル").fill(TITLE)
    client.get_by_label("カテゴリ").select_option(label="ライティング")
    client.get_by_label("仕事の詳細").fill("ブログ記事10本に、支給する写真を指定の位置へ挿入してください。")
    client.get_by_label("予算（円・税込）").fill(str(AMOUNT))
    client.get_by_label("応募期限").fill(iso(10))
    client.get_by_label("希望納期").fill(iso(20))
    client.get_by_role("button", name="この内容で掲載する").click()
    expect(client.locator(".flash")).to_contain_text("仕事を掲載しました。")
    expect(client.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(client.locator(".job-detail .budget")).to_contain_text("¥50,000")

    # 2. The worker signs up in her own browser context and finds the job by a Japanese substring.
    sign_up(worker, "worker-e2e@example.com", "山田花子")
    worker.goto("/")
    search = worker.get_by_role("searchbox", name="キーワード")
    search.fill("翻訳")
    worker.get_by_role("button", name="検索する").click()
    expect(worker.locator("#results")).to_contain_text("条件に合う仕事が見つかりませんでした。")
    search.fill("写真")
    worker.get_by_role("button", name="検索する").click()
    expect(worker.locator("#results").get_by_role("link", name=TITLE)).to_be_visible()
    worker.locator("#results").get_by_role("link", name=TITLE).click()
    worker.get_by_label("応募メッセージ").fill(APPLY_TEXT)
    worker.get_by_label("提案金額（円・税込）").fill(str(AMOUNT))
    worker.get_by_label("完了予定日").fill(iso(14))
    worker.get_by_role("button", name="応募する", exact=True).click()
    expect(worker.locator(".flash")).to_contain_text("応募しました。")

    # 3. Messages with read receipts. The application opened a thread; the worker's message is unread.
    worker.get_by_role("link", name="メッセージを開く").click()
    first = worker.locator("article.msg.mine").filter(has_text=APPLY_TEXT)
    expect(first.get_by_test_id("receipt")).to_have_text("未読")
    worker.evaluate("window.__sameDocument = true")  # survives only if the page is never reloaded

    client.goto("/")
    expect(client.get_by_test_id("unread-count")).to_have_text("1")
    client.get_by_role("navigation").get_by_role("link", name="メッセージ").click()
    row = client.get_by_test_id("inbox-row").filter(has_text=TITLE)
    expect(row.get_by_title("未読 1件")).to_be_visible()
    expect(row).to_contain_text("あなたの返信待ち")
    row.get_by_role("link", name=f"応募: {TITLE}").click()
    expect(client.locator("#messages")).to_contain_text(APPLY_TEXT)
    expect(client.get_by_test_id("unread-count")).to_have_count(0)  # opening the thread read it
    client.get_by_label("メッセージ", exact=True).fill(REPLY_TEXT)
    client.get_by_role("button", name="送信する").click()
    expect(client.locator("#messages article.msg.mine").filter(has_text=REPLY_TEXT)).to_be_visible()

    # The worker's open page shows the reply and the receipt of her message without a reload.
    expect(worker.locator("#messages")).to_contain_text(REPLY_TEXT, timeout=POLL)
    expect(first.get_by_test_id("receipt")).to_have_text(RECEIPT, timeout=POLL)
    expect(first.get_by_test_id("away")).to_have_count(0)  # she read it, so she has been here since
    assert worker.evaluate("window.__sameDocument === true"), "the thread page was reloaded"
    shot(worker, "thread-receipts")
    # …and the client's reply is shown to the client as 未読 until the worker's poll reads it.
    reply = client.locator("article.msg.mine").filter(has_text=REPLY_TEXT)
    expect(reply.get_by_test_id("receipt")).to_have_text(RECEIPT, timeout=POLL)

    # 4. The client hires from the applicant list.
    client.goto("/")
    client.get_by_role("link", name=TITLE).click()
    client.get_by_role("link", name=re.compile(r"応募者一覧（1人）")).click()
    applicant = client.locator("article.applicant").filter(has_text="山田花子")
    expect(applicant).to_contain_text("¥50,000")
    applicant.get_by_role("link", name="契約をオファーする").click()
    client.get_by_label("契約金額（税込・円）").fill(str(AMOUNT))
    client.get_by_label("納期").fill(iso(14))
    client.get_by_role("button", name="オファーを送る").click()
    expect(client.get_by_test_id("state")).to_have_text("オファー中")

    worker.goto("/")
    open_contract(worker)
    expect(worker.get_by_test_id("state")).to_have_text("オファー中")
    worker.get_by_role("button", name="オファーを承諾する").click()
    expect(worker.locator(".flash")).to_contain_text("オファーを承諾しました。")
    expect(worker.get_by_test_id("state")).to_have_text("仮払い待ち")
    expect(worker.get_by_test_id("no-work-notice")).to_contain_text("仮払い前に作業を始めないでください")
    expect(worker.get_by_role("button", name="納品する")).to_have_count(0)
    shot(worker, "contract-before-funding")

    client.reload()
    expect(client.get_by_test_id("state")).to_have_text("仮払い待ち")
    client.get_by_label("お支払い方法").select_option(label="テストカード（承認）")
    client.get_by_role("button", name="仮払いする").click()
    expect(client.locator(".flash")).to_contain_text("仮払いが完了しました。")
    expect(client.get_by_test_id("state")).to_have_text("作業中")

    # 5. Delivery (message, link, file), a revision with a reason, and a redelivery.
    worker.reload()
    expect(worker.get_by_test_id("state")).to_have_text("作業中")
    expect(worker.get_by_test_id("no-work-notice")).to_have_count(0)
    worker.get_by_label("納品メッセージ").fill("10記事すべてに写真を挿入しました。ご確認ください。")
    worker.get_by_label("納品物のURL（1行に1つ）").fill("https://example.com/drafts/photos")
    worker.get_by_label("納品ファイル").set_input_files(
        files=[{"name": "挿入箇所一覧.txt", "mimeType": "text/plain", "buffer": "記事1: 見出し2の下\n".encode()}]
    )
    worker.get_by_role("button", name="納品する").click()
    expect(worker.locator(".flash")).to_contain_text("納品しました。")
    expect(worker.get_by_test_id("state")).to_have_text("検収待ち")
    delivery = worker.get_by_test_id("delivery").first
    expect(delivery.get_by_role("link", name="https://example.com/drafts/photos")).to_be_visible()
    expect(delivery.get_by_role("link", name=re.compile("挿入箇所一覧.txt"))).to_be_visible()

    client.reload()
    expect(client.get_by_test_id("state")).to_have_text("検収待ち")
    expect(client.get_by_test_id("timer")).to_be_visible()  # 自動検収まで …
    client.get_by_label("修正してほしい点").fill(REVISION_REASON)
    client.get_by_role("button", name="修正を依頼する").click()
    expect(client.locator(".flash")).to_contain_text("修正を依頼しました。")
    expect(client.get_by_test_id("state")).to_have_text("修正対応中")

    worker.reload()
    expect(worker.get_by_test_id("state")).to_have_text("修正対応中")
    expect(worker.get_by_test_id("timeline-event").filter(has_text="修正を依頼")).to_contain_text(REVISION_REASON)
    worker.get_by_label("納品メッセージ").fill("3枚目の写真を見出しの直後に移しました。")
    worker.get_by_role("button", name="納品する").click()
    expect(worker.get_by_test_id("state")).to_have_text("検収待ち")
    expect(worker.get_by_test_id("delivery")).to_have_count(2)

    client.reload()
    expect(client.get_by_role("button", name="検収合格にする")).to_be_visible()
    shot(client, "contract-delivered")

    # 6. The client stays silent; seven days pass; the sweeper deems the delivery accepted.
    settings.ANSHIN_ALLOW_TIME_TRAVEL = True
    call_command("timetravel", "+7d", stdout=io.StringIO())
    out = io.StringIO()
    call_command("tick", stdout=out)
    assert "1 timer(s) settled" in out.getvalue()

    client.reload()
    expect(client.get_by_test_id("state")).to_have_text("完了（支払済み）")
    expect(client.get_by_role("button", name="検収合格にする")).to_have_count(0)
    worker.reload()
    expect(worker.get_by_test_id("state")).to_have_text("完了（支払済み）")
    expect(worker.get_by_test_id("timeline-event").filter(has_text="期限切れで自動検収合格")).to_be_visible()
    shot(worker, "contract-accepted")
    worker.get_by_role("link", name="メッセージを開く").click()
    expect(worker.locator("#messages article.msg.system").last).to_contain_text(
        f"検収期限を過ぎたため、自動で検収合格になりました。{yen(NET)}が山田花子さんに支払われました。"
    )

    # 7. The worker's balance: the net amount and the entry that brought it.
    worker.get_by_role("navigation").get_by_role("link", name="残高").click()
    expect(worker.get_by_test_id("balance")).to_have_text("¥40,000")
    entry = worker.get_by_role("row").filter(has_text=f"検収合格: {TITLE}")
    expect(entry).to_contain_text("+¥40,000")
    shot(worker, "balance")

    # What the pages said is what the books say.
    contract = Contract.objects.get()
    assert contract.state == "accepted"
    assert contract.deliveries.count() == 2
    assert ledger.balance(ledger.worker_code(User.objects.get(email="worker-e2e@example.com").pk)) == NET
