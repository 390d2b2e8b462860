"""Inbox and thread pages: read receipts, who waits for whom, the counterpart's presence, live updates,
attachments, escaping, bounded queries."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from anshin.accounts.models import Presence
from anshin.messaging import services
from anshin.messaging.models import Message, Receipt
from tests import factories
from tests.web.helpers import login, text

TOKYO = ZoneInfo("Asia/Tokyo")
T0 = datetime(2026, 7, 19, 9, 0, tzinfo=TOKYO)


@pytest.fixture
def thread(client_user, worker):
    """An application thread: the worker's application message is its first message (at T0)."""
    with time_machine.travel(T0, tick=False):
        app = factories.application(client_user, worker)
    return app.thread


def thread_url(thread):
    return reverse("messaging:thread", args=[thread.pk])


def test_receipt_shows_unread_then_read_time_to_the_sender(thread, client_user, worker):
    sender = login(worker)
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        page = text(sender.get(thread_url(thread)))
    assert "未読" in page
    assert "既読" not in page

    with time_machine.travel(datetime(2026, 7, 19, 10, 31, 12, tzinfo=TOKYO), tick=False):
        assert login(client_user).get(thread_url(thread)).status_code == 200  # the recipient opens it

    with time_machine.travel(datetime(2026, 7, 19, 10, 40, tzinfo=TOKYO), tick=False):
        page = text(sender.get(thread_url(thread)))
    assert "既読 7/19 10:31" in page
    assert 'data-testid="receipt">未読' not in page


def test_recipient_sees_no_receipt_on_messages_of_the_other_side(thread, client_user):
    page = text(login(client_user).get(thread_url(thread)))
    assert "よろしくお願いいたします。" in page
    assert 'data-testid="receipt"' not in page


def test_unread_count_in_header_drops_after_opening_the_thread(thread, client_user):
    browser = login(client_user)
    before = text(browser.get(reverse("messaging:inbox")))
    assert re.search(r'data-testid="unread-count">1<', before)
    after = text(browser.get(thread_url(thread)))
    assert 'data-testid="unread-count"' not in after
    assert Receipt.objects.filter(user=client_user, read_at__isnull=True).count() == 0


def test_inbox_shows_who_waits_for_whom_and_since_when(thread, client_user, worker):
    with time_machine.travel(T0 + timedelta(hours=3, minutes=5), tick=False):
        as_client = text(login(client_user).get(reverse("messaging:inbox")))
        as_worker = text(login(worker).get(reverse("messaging:inbox")))
    assert "あなたの返信待ち（約3時間前から）" in as_client
    assert "相手の返信待ち" not in as_client
    assert "相手の返信待ち（約3時間前から）" in as_worker
    assert thread.subject in as_worker and "山田花子" in as_client and "株式会社サンプル" in as_worker

    # The client answers: the roles flip.
    with time_machine.travel(T0 + timedelta(hours=4), tick=False):
        services.message_send(thread=thread, sender=client_user, body="ご応募ありがとうございます。")
    with time_machine.travel(T0 + timedelta(hours=6), tick=False):
        as_client = text(login(client_user).get(reverse("messaging:inbox")))
        as_worker = text(login(worker).get(reverse("messaging:inbox")))
    assert "相手の返信待ち（約2時間前から）" in as_client
    assert "あなたの返信待ち（約2時間前から）" in as_worker
    assert "ご応募ありがとうございます。" in as_worker  # last message excerpt


def test_inbox_is_sorted_by_activity_with_unread_badges(client_user, worker):
    with time_machine.travel(T0, tick=False):
        first = factories.application(client_user, worker, job=factories.job(client_user, title="最初の案件")).thread
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        factories.application(client_user, worker, job=factories.job(client_user, title="二番目の案件"))
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        services.message_send(thread=first, sender=worker, body="追加の質問です。")
    page = text(login(client_user).get(reverse("messaging:inbox")))
    assert page.index("最初の案件") < page.index("二番目の案件")
    assert 'title="未読 2件">2</span>' in page


def test_not_logged_in_since_my_message_appears_and_disappears(thread, client_user, worker):
    notice = "このメッセージの送信後、相手はまだログインしていません"
    Presence.objects.update_or_create(user=client_user, defaults={"last_seen_at": T0 - timedelta(hours=1)})
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        page = text(login(worker).get(thread_url(thread)))
    assert notice in page
    assert "株式会社サンプルさんの最終アクセス" in page and "約3時間前" in page

    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        login(client_user).get(reverse("notifications:list"))  # logs in somewhere, does not open the thread
    assert Presence.objects.get(user=client_user).last_seen_at > T0
    with time_machine.travel(T0 + timedelta(hours=3, minutes=5), tick=False):
        page = text(login(worker).get(thread_url(thread)))
    assert notice not in page
    assert "未読" in page  # still unread: presence and receipts are separate facts


def test_hidden_last_access_shows_private(thread, client_user, worker):
    client_user.hide_last_access = True
    client_user.save()
    page = text(login(worker).get(thread_url(thread)))
    assert "株式会社サンプルさんの最終アクセス: <span class=\"last-access\">非公開</span>" in page


def test_poll_returns_only_new_messages_and_marks_them_read(thread, client_user, worker):
    reader = login(worker)
    reader.get(thread_url(thread))
    last_id = Message.objects.filter(thread=thread).latest("id").pk
    new = services.message_send(thread=thread, sender=client_user, body="新しい質問があります。")

    response = reader.get(reverse("messaging:poll", args=[thread.pk]), {"after": last_id}, HTTP_HX_REQUEST="true")
    body = text(response)
    assert response.status_code == 200
    assert "新しい質問があります。" in body
    assert "よろしくお願いいたします。" not in body  # only what came after `after`
    assert f'name="after" value="{new.pk}"' in body  # the poller moves on
    assert Receipt.objects.get(message=new, user=worker).read_at is not None

    again = text(reader.get(reverse("messaging:poll", args=[thread.pk]), {"after": new.pk}))
    assert "新しい質問があります。" not in again


def test_poll_refreshes_the_receipts_of_my_pending_messages(thread, client_user, worker):
    sender = login(worker)
    page = text(sender.get(thread_url(thread)))
    mine = Message.objects.get(thread=thread, sender=worker)
    assert f'name="pending" value="{mine.pk}"' in page
    with time_machine.travel(datetime(2026, 7, 20, 8, 5, tzinfo=TOKYO), tick=False):
        login(client_user).get(thread_url(thread))
    body = text(sender.get(reverse("messaging:poll", args=[thread.pk]), {"after": mine.pk, "pending": mine.pk}))
    assert f'id="status-{mine.pk}" hx-swap-oob="true"' in body
    assert "既読 7/20 08:05" in body
    assert 'name="pending"' not in body  # nothing left to watch


def test_send_without_js_redirects_back_and_with_htmx_returns_the_new_message(thread, client_user, worker):
    browser = login(client_user)
    url = reverse("messaging:send", args=[thread.pk])
    response = browser.post(url, {"body": "はじめまして。"})
    assert response.status_code == 302 and response["Location"] == thread_url(thread)
    assert Message.objects.filter(thread=thread, sender=client_user, body="はじめまして。").exists()

    after = Message.objects.filter(thread=thread).latest("id").pk
    response = browser.post(url, {"body": "資料をお送りします。", "after": after}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Trigger"] == "sent"
    assert "資料をお送りします。" in text(response)
    assert "はじめまして。" not in text(response)


def test_send_refuses_bad_input_in_japanese_and_changes_nothing(thread, client_user):
    browser = login(client_user)
    url = reverse("messaging:send", args=[thread.pk])
    count = Message.objects.count()
    response = browser.post(url, {"body": "   "})
    assert response.status_code == 400
    assert "メッセージを入力するか、ファイルを添付してください。" in text(response)
    exe = SimpleUploadedFile("tool.exe", b"MZ" + b"0" * 100, content_type="application/octet-stream")
    response = browser.post(url, {"body": "ツールです", "files": [exe]}, HTTP_HX_REQUEST="true")
    assert "添付できない形式です" in text(response)
    assert "HX-Trigger" not in response
    assert Message.objects.count() == count


def test_message_body_is_escaped(thread, client_user, worker):
    services.message_send(thread=thread, sender=client_user, body='<script>alert("x")</script>')
    page = text(login(worker).get(thread_url(thread)))
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    inbox = text(login(worker).get(reverse("messaging:inbox")))
    assert '<script>alert("x")</script>' not in inbox


def test_attachment_is_listed_and_downloaded_as_attachment_by_members_only(thread, client_user, worker, stranger):
    upload = SimpleUploadedFile("見積書.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = login(worker).post(reverse("messaging:send", args=[thread.pk]),
                                  {"body": "見積書です", "files": [upload]})
    assert response.status_code == 302
    attachment = Message.objects.get(body="見積書です").attachments.get()
    page = text(login(client_user).get(thread_url(thread)))
    url = reverse("messaging:attachment", args=[attachment.token])
    assert url in page and "見積書.pdf" in page

    download = login(client_user).get(url)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == b"%PDF-1.4 test"
    assert login(stranger).get(url).status_code == 404


def test_thread_links_back_to_its_application(thread, client_user):
    page = text(login(client_user).get(thread_url(thread)))
    assert reverse("jobs:application", args=[thread.application_id]) in page


def test_anonymous_is_sent_to_login(thread):
    response = Client().get(thread_url(thread))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- bounded queries ----------------------------------------------------------------------------------

def _queries(browser, url) -> int:
    browser.get(url)  # warm up: session, presence
    with CaptureQueriesContext(connection) as ctx:
        assert browser.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_poll_does_not_count_the_headers_badges_it_does_not_show(thread, client_user, worker):
    """The header's unread counts are read only by pages that show the header: the 4-second poll (a fragment)
    skips them, the thread page still shows them."""
    reader = login(worker)
    services.message_send(thread=thread, sender=client_user, body="別のスレッドでも未読です。")
    other = factories.application(client_user, worker).thread
    services.message_send(thread=other, sender=client_user, body="未読のままのメッセージ")

    def counts(url) -> tuple[str, list[str]]:
        reader.get(url)
        with CaptureQueriesContext(connection) as ctx:
            body = text(reader.get(url, HTTP_HX_REQUEST="true"))
        return body, [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"]]

    poll, counted = counts(reverse("messaging:poll", args=[thread.pk]) + "?after=1")
    assert counted == [] and "unread-count" not in poll
    page, counted = counts(thread_url(thread))
    assert len(counted) == 2 and re.search(r'data-testid="unread-count">1<', page)  # the other thread's message


def test_inbox_queries_do_not_grow_with_threads(client_user, worker):
    with time_machine.travel(T0, tick=False):
        for _ in range(5):
            factories.application(client_user, worker)
        browser = login(client_user)
        few = _queries(browser, reverse("messaging:inbox"))
        for _ in range(45):
            factories.application(client_user, worker)
        many = _queries(browser, reverse("messaging:inbox"))
        assert text(browser.get(reverse("messaging:inbox"))).count('data-testid="inbox-row"') == 50
    assert few == many


def test_thread_queries_do_not_grow_with_messages(thread, client_user, worker):
    def talk(n):
        for i in range(n):
            sender = client_user if i % 2 else worker
            files = [SimpleUploadedFile(f"memo{i}.txt", b"memo", content_type="text/plain")] if i % 3 == 0 else []
            services.message_send(thread=thread, sender=sender, body=f"メッセージ{i}", files=files)

    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        talk(4)
        browser = login(worker)
        few = _queries(browser, thread_url(thread))
        poll_few = _queries(browser, reverse("messaging:poll", args=[thread.pk]) + "?after=1&pending=1")
        talk(45)
        many = _queries(browser, thread_url(thread))
        poll_many = _queries(browser, reverse("messaging:poll", args=[thread.pk]) + "?after=1&pending=1")
    assert few == many
    assert poll_few == poll_many


# --- deal tools: progress, delay, acknowledgement, 返信催促 (issue 3) ---------------------------------------

FRI = datetime(2026, 9, 18, 10, 0, tzinfo=TOKYO)  # the Friday before the Silver Week (21–23 are holidays)


@pytest.fixture
def deal_thread(client_user, worker):
    """A funded contract's thread; the worker asked a question on Thursday at 10:00."""
    with time_machine.travel(FRI - timedelta(days=3), tick=False):
        contract = factories.contract(client_user, worker, state="funded")
    with time_machine.travel(FRI - timedelta(days=1), tick=False):
        services.message_send(thread=contract.thread, sender=worker, body="構成案について質問があります。")
    return contract.thread


def tool_url(name, thread):
    return reverse(f"messaging:{name}", args=[thread.pk])


def test_progress_bar_and_delay_panel_in_the_thread_and_the_inbox(deal_thread, client_user, worker):
    with time_machine.travel(FRI, tick=False):
        services.message_send_progress(thread=deal_thread, sender=worker, percent=60,
                                       next_date=datetime(2026, 9, 24).date(), comment="<b>順調</b>です")
        services.message_send_delay(thread=deal_thread, sender=worker, late_item="写真<挿入>",
                                    new_date=datetime(2026, 9, 29).date(), reason="素材待ちです")
        page = text(login(client_user).get(thread_url(deal_thread)))
        inbox = text(login(client_user).get(reverse("messaging:inbox")))
    assert '<progress max="100" value="60"' in page and "60%完了" in page
    assert "次回のプレビュー予定: 2026年9月24日（木）" in page
    assert "&lt;b&gt;順調&lt;/b&gt;です" in page
    assert 'data-testid="delay-notice"' in page and "写真&lt;挿入&gt;" in page
    assert "2026年9月29日（火）" in page and "素材待ちです" in page
    assert "⚠ 遅延のお知らせ: 写真&lt;挿入&gt;（新しい見込み: 9月29日）" in inbox


def test_only_the_worker_sees_the_progress_and_delay_forms(deal_thread, client_user, worker):
    assert 'data-testid="progress-form"' in text(login(worker).get(thread_url(deal_thread)))
    assert 'data-testid="delay-form"' in text(login(worker).get(thread_url(deal_thread)))
    page = text(login(client_user).get(thread_url(deal_thread)))
    assert 'data-testid="progress-form"' not in page and 'data-testid="delay-form"' not in page
    app_page = text(login(worker).get(thread_url(factories.application(client_user, worker).thread)))
    assert 'data-testid="progress-form"' not in app_page


def test_progress_form_posts_and_bad_input_is_refused_in_japanese(deal_thread, worker, client_user):
    browser = login(worker)
    with time_machine.travel(FRI, tick=False):
        count = Message.objects.count()
        for data, error in [
            ({"percent": "120", "next_date": "2026-09-24"}, "進捗は0〜100の整数で入力してください。"),
            ({"percent": "abc", "next_date": "2026-09-24"}, "進捗は0〜100の整数で入力してください。"),
            ({"percent": "50", "next_date": "2026-09-17"},
             "次回のプレビュー予定日には今日以降の日付を指定してください。"),
            ({"percent": "50", "next_date": ""}, "次回のプレビュー予定日を入力してください。"),
        ]:
            response = browser.post(tool_url("progress", deal_thread), data)
            assert response.status_code == 400, data
            assert error in text(response)
            assert '<details class="card deal-tool" id="progress-tool" open>' in text(response)
        assert Message.objects.count() == count
        refused = login(client_user).post(tool_url("progress", deal_thread), {"percent": "50",
                                                                               "next_date": "2026-09-24"})
        assert refused.status_code == 400 and "作業を担当する側" in text(refused)
        assert Message.objects.count() == count

        response = browser.post(tool_url("progress", deal_thread), {"percent": "70", "next_date": "2026-09-24",
                                                                    "comment": "残りは写真です"})
        assert response.status_code == 302 and response["Location"] == thread_url(deal_thread)
        assert Message.objects.get(kind="progress").progress_percent == 70
        assert "進捗を報告しました。" in text(browser.get(thread_url(deal_thread)))

        response = browser.post(tool_url("delay", deal_thread), {"late_item": "", "new_date": "2026-09-24",
                                                                 "reason": "x"})
        assert response.status_code == 400 and "遅れている作業を入力してください。" in text(response)
        response = browser.post(tool_url("delay", deal_thread), {"late_item": "写真", "new_date": "2026-09-25",
                                                                 "reason": "素材待ち"})
        assert response.status_code == 302 and Message.objects.filter(kind="delay").count() == 1


def test_one_click_acknowledgement_flips_who_is_waiting(deal_thread, client_user, worker):
    browser = login(client_user)
    with time_machine.travel(FRI, tick=False):
        page = text(browser.get(thread_url(deal_thread)))
        assert 'data-testid="ack-form"' in page
        assert 'value="2026-09-24"' in page  # the next business day: Mon–Wed are holidays
        assert "あなたの返信待ち" in text(browser.get(reverse("messaging:inbox")))
        response = browser.post(tool_url("ack", deal_thread), {"reply_by": "2026-09-24"})
        assert response.status_code == 302
        inbox = text(browser.get(reverse("messaging:inbox")))
        page = text(browser.get(thread_url(deal_thread)))
    assert "✓ メッセージを確認しました。9月24日までにお返事します。" in page
    assert 'data-testid="ack-form"' not in page  # my word was the last one now
    row = inbox.split('data-testid="inbox-row"')[1]  # the contract thread is the most recent
    assert "あなたの返信待ち" not in row and "相手の返信待ち" in row
    assert "✓ メッセージを確認しました。" in row


def test_ack_past_date_is_refused(deal_thread, client_user):
    with time_machine.travel(FRI, tick=False):
        count = Message.objects.count()
        response = login(client_user).post(tool_url("ack", deal_thread), {"reply_by": "2026-09-17"})
    assert response.status_code == 400 and "返信予定日には今日以降の日付を指定してください。" in text(response)
    assert Message.objects.count() == count


def test_nudge_button_appears_after_24_hours_once_a_day(deal_thread, client_user, worker):
    from anshin.notifications.models import Notification

    browser = login(worker)
    with time_machine.travel(FRI - timedelta(seconds=1), tick=False):
        page = text(browser.get(thread_url(deal_thread)))
        assert "返信を催促する</button>" not in page
        assert "最後のメッセージから24時間経つと催促できます（9/18 10:00から）。" in page
        assert login(client_user).get(thread_url(deal_thread)).content.count(b'data-testid="nudge"') == 0
        refused = browser.post(tool_url("nudge", deal_thread))
        assert refused.status_code == 400 and "24時間経つと催促できます" in text(refused)
    with time_machine.travel(FRI, tick=False):
        page = text(browser.get(thread_url(deal_thread)))
        assert "返信を催促する</button>" in page
        response = browser.post(tool_url("nudge", deal_thread))
        assert response.status_code == 302
        page = text(browser.get(thread_url(deal_thread)))
    assert "山田花子さんが返信を催促しました。" in page
    assert "催促は1日1回までです（次は9/19 10:00から）。" in page
    assert "9/28 10:00までに返信がない場合は事務局にお知らせします。" in page
    assert Notification.objects.filter(user=client_user, kind="message.nudge").count() == 1


TOOL_POSTS = [
    ("progress", {"percent": "50", "next_date": "2026-09-24"}),
    ("delay", {"late_item": "写真", "new_date": "2026-09-24", "reason": "x"}),
    ("ack", {"reply_by": "2026-09-24"}),
    ("nudge", {}),
]


@pytest.mark.parametrize(("name", "data"), TOOL_POSTS, ids=[n for n, _ in TOOL_POSTS])
def test_tool_urls_are_404_for_strangers_and_post_only(name, data, deal_thread, worker, stranger):
    with time_machine.travel(FRI + timedelta(days=1), tick=False):
        count = Message.objects.count()
        assert login(stranger).post(tool_url(name, deal_thread), data).status_code == 404
        assert login(stranger).get(tool_url(name, deal_thread)).status_code == 404
        assert login(stranger).post(reverse(f"messaging:{name}", args=[987654]), data).status_code == 404
        assert login(worker).get(tool_url(name, deal_thread)).status_code == 405
        assert Message.objects.count() == count
        response = Client().post(tool_url(name, deal_thread), data)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_tool_posts_need_the_csrf_token(deal_thread, worker):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(worker)
    with time_machine.travel(FRI, tick=False):
        assert browser.post(tool_url("nudge", deal_thread)).status_code == 403
    assert not Message.objects.filter(thread=deal_thread, body__contains="催促").exists()


def test_thread_page_with_mixed_kinds_costs_the_same_for_5_and_50(deal_thread, client_user, worker):
    def talk(n):
        for i in range(n):
            kind = i % 4
            if kind == 0:
                services.message_send(thread=deal_thread, sender=worker, body=f"メッセージ{i}")
            elif kind == 1:
                services.message_acknowledge(thread=deal_thread, sender=client_user, reply_by=FRI.date())
            elif kind == 2:
                services.message_send_progress(thread=deal_thread, sender=worker, percent=i, next_date=FRI.date())
            else:
                services.message_send_delay(thread=deal_thread, sender=worker, late_item=f"作業{i}",
                                            reason="確認中", new_date=FRI.date())

    with time_machine.travel(FRI, tick=False):
        talk(5)
        browser = login(worker)
        few = _queries(browser, thread_url(deal_thread))
        client_few = _queries(login(client_user), thread_url(deal_thread))
        talk(45)
        many = _queries(browser, thread_url(deal_thread))
        client_many = _queries(login(client_user), thread_url(deal_thread))
        page = text(browser.get(thread_url(deal_thread)))
    assert page.count("<progress ") >= 10 and page.count('data-testid="delay-notice"') >= 10
    assert few == many
    assert client_few == client_many


def test_deal_updates_partial_for_the_deal_pages(deal_thread, worker):
    from django.template.loader import render_to_string

    from anshin.messaging.selectors import deal_updates

    with time_machine.travel(FRI, tick=False):
        services.message_send_progress(thread=deal_thread, sender=worker, percent=30, next_date=FRI.date())
        services.message_send_delay(thread=deal_thread, sender=worker, late_item="写真", reason="素材待ち",
                                    new_date=FRI.date())
        html = render_to_string("messaging/_deal_updates.html", {"updates": deal_updates(deal_thread)})
    assert '<progress max="100" value="30"' in html and 'data-testid="delay-notice"' in html
    assert html.index("30%完了") < html.index("遅延のお知らせ</strong>")
    assert "まだ進捗報告はありません。" in render_to_string("messaging/_deal_updates.html", {"updates": []})


def test_order_thread_links_to_the_order_and_offers_the_seller_the_tools(client_user, worker):
    from anshin.orders.models import Listing, Order

    with time_machine.travel(FRI, tick=False):
        now = FRI
        listing = Listing.objects.create(seller=worker, title="ロゴ制作", description="ロゴを作ります",
                                         category="design", price=10_000, delivery_days=7, state="active",
                                         state_entered_at=now, created_at=now, updated_at=now)
        order = Order.objects.create(listing=listing, buyer=client_user, seller=worker, title="ロゴ制作",
                                     subtotal=10_000, buyer_fee=550, total=10_550, delivery_days=7,
                                     included_revisions=1, created_at=now, state="in_progress",
                                     state_entered_at=now)
        thread = services.thread_create(kind="order", subject="注文: ロゴ制作", members=[client_user, worker],
                                        order=order)
        seller_page = text(login(worker).get(thread_url(thread)))
        buyer_page = text(login(client_user).get(thread_url(thread)))
    assert reverse("orders:detail", args=[order.pk]) in seller_page
    assert 'data-testid="progress-form"' in seller_page and 'data-testid="progress-form"' not in buyer_page


# --- long threads: the newest page first, older pages on request (issue 6) ------------------------------------

def test_long_thread_shows_the_newest_page_and_loads_older_ones_on_request(thread, client_user, worker, settings):
    with time_machine.travel(T0 + timedelta(hours=1), tick=True):
        for i in range(60):  # with the application message: 61 in all
            services.message_send(thread=thread, sender=client_user if i % 2 else worker, body=f"連絡{i:02d}番")
    browser = login(client_user)
    page = text(browser.get(thread_url(thread)))
    assert page.count('class="msg') == 50
    assert "連絡59番" in page and "連絡10番" in page and "連絡09番" not in page
    older = re.search(r'href="([^"]+/older/\?before=\d+)"', page).group(1).replace("&amp;", "&")

    fragment = text(browser.get(older, HTTP_HX_REQUEST="true"))  # htmx swaps it in above the first message
    assert fragment.count('class="msg') == 11
    assert "連絡09番" in fragment and "連絡00番" in fragment and "よろしくお願いいたします。" in fragment
    assert "連絡10番" not in fragment
    assert 'data-testid="older"' not in fragment  # nothing older is left

    without_js = text(browser.get(older))  # a page of its own without JavaScript
    assert "以前のメッセージ" in without_js and "連絡09番" in without_js and "<html" in without_js


def test_older_messages_are_404_for_strangers_and_refuse_bad_input(thread, client_user, stranger):
    first = thread.messages.order_by("id").first()
    url = reverse("messaging:older", args=[thread.pk])
    assert login(stranger).get(f"{url}?before={first.pk}").status_code == 404
    browser = login(client_user)
    assert browser.get(f"{url}?before=abc").status_code == 404
    assert browser.get(f"{url}?before=99999999").status_code == 404  # not a message of this thread
    assert browser.post(f"{url}?before={first.pk}").status_code == 405


def test_older_messages_cost_the_same_for_one_page_as_for_a_long_history(thread, client_user, worker):
    browser = login(client_user)

    def older_queries():
        last = thread.messages.order_by("-created_at", "-id").first()
        return _queries(browser, reverse("messaging:older", args=[thread.pk]) + f"?before={last.pk}")

    with time_machine.travel(T0 + timedelta(hours=1), tick=True):
        for i in range(10):
            services.message_send(thread=thread, sender=worker, body=f"連絡{i}")
        few = older_queries()
        for i in range(100):
            services.message_send(thread=thread, sender=client_user if i % 2 else worker, body=f"続き{i}")
        many = older_queries()
    assert few == many
