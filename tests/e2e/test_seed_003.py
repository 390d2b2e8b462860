"""Seed 003 in the browser (issue 4, "Done when"): サービス外連絡申請 granted, then revoked for everyone.

A client talks to two writers. Its message with a LINE ID is held → the client files a permit in the thread
with writer A → the operator approves it in /ops/ before it is due → the same message now goes through in
that thread, and is still held in writer B's thread → writer B's thread gets its own permit too → writer A
reports the client (「他の人はもう始めている」) → the operator revokes all the client's permits from the risk
page → the message is held again → both writers are told.

The people act through the pages; the database is only read to check what the pages said."""

import pytest
from playwright.sync_api import Page, expect

from anshin.core import clock
from tests import factories
from tests.e2e.helpers import PASSWORD, log_in, screenshotter

shot = screenshotter("seed003-")

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LINE_MESSAGE = "進行の連絡はLINEでお願いします。LINE ID: sakura_media77 です。"
LINE_ID = "sakura_media77"


def send(page: Page, thread_id: int, body: str) -> None:
    page.goto(f"/messages/{thread_id}/")
    page.locator("form.send-form textarea").fill(body)
    page.locator("form.send-form").get_by_role("button", name="送信する", exact=True).click()


def decide_permit(ops: Page, item_id: int, note: str) -> None:
    ops.goto(f"/ops/items/{item_id}/")
    form = ops.get_by_test_id("permit-form")
    form.locator("select").select_option("approve")
    form.locator("textarea").fill(note)
    form.get_by_role("button", name="決定する").click()


def test_seed_003_permit_approved_then_revoked_for_every_thread(new_page):
    from anshin.accounts.models import User
    from anshin.notifications.models import Notification
    from anshin.ops.models import QueueItem
    from anshin.ops.permissions import grant_operator
    from anshin.trust.models import ContactPermit, GuardHold, Report

    def person(email, name):
        return User.objects.create_user(email=email, password=PASSWORD, display_name=name)

    client_user = person("client-e2e@example.com", "株式会社さくらメディア")
    writer_a = person("writer-a@example.com", "山田花子")
    writer_b = person("writer-b@example.com", "佐藤健")
    ops_user = person("ops-e2e@example.com", "安心事務局")
    grant_operator(ops_user)
    job = factories.job(client_user, title="採用サイトのインタビュー記事")
    thread_a = factories.application(client_user, writer_a, job=job).thread
    thread_b = factories.application(client_user, writer_b, job=job).thread

    client, ops, a, b = new_page(), new_page(), new_page(), new_page()
    for page, email in ((client, client_user.email), (ops, ops_user.email), (a, writer_a.email),
                        (b, writer_b.email)):
        log_in(page, email)

    # 1. The client's message with a LINE ID is held: the ID is highlighted, nothing is sent.
    send(client, thread_a.pk, LINE_MESSAGE)
    held = client.get_by_test_id("held")
    expect(held).to_contain_text("送信を保留しました")
    expect(held.locator("mark").filter(has_text=LINE_ID)).to_have_count(1)
    shot(client, "held")
    a.goto(f"/messages/{thread_a.pk}/")
    expect(a.locator("main")).not_to_contain_text(LINE_ID)

    # 2. The client files a permit from the thread; it is due 2 business days later.
    client.goto(f"/messages/{thread_a.pk}/")
    form = client.get_by_test_id("permit-form")
    form.get_by_label("利用するツール").select_option("line")
    form.get_by_label("利用目的").fill("原稿の細かな修正を、当社の進行管理に合わせてやりとりしたいため。")
    form.get_by_role("button", name="サービス外連絡申請を送る").click()
    expect(client.get_by_test_id("permit-live")).to_contain_text("審査中")
    expect(client.get_by_test_id("permit-due")).to_be_visible()
    permit = ContactPermit.objects.get(thread=thread_a)
    item = QueueItem.objects.get(kind="permit", subject_id=permit.pk)
    assert item.due_at == permit.decide_by > clock.now()

    # 3. The operator finds it in the permits queue and approves it before it is due, with a note.
    ops.goto("/ops/queue/permit/")
    row = ops.get_by_test_id("queue-row").filter(has_text="株式会社さくらメディア")
    expect(row).to_be_visible()
    expect(row.get_by_test_id("overdue")).to_have_count(0)
    shot(ops, "permit-queue")
    decide_permit(ops, item.pk, "新規クライアント。過去の通報なし。承認。")
    expect(ops.get_by_test_id("item-state")).to_have_text("対応済み")
    permit.refresh_from_db()
    assert permit.state == "approved" and permit.decided_at <= permit.decide_by

    # 4. The same message passes in that thread, and is still held in writer B's.
    send(client, thread_a.pk, LINE_MESSAGE)
    expect(client.get_by_test_id("held")).to_have_count(0)
    a.goto(f"/messages/{thread_a.pk}/")
    expect(a.locator("main")).to_contain_text(LINE_ID)
    send(client, thread_b.pk, LINE_MESSAGE)
    expect(client.get_by_test_id("held")).to_contain_text("送信を保留しました")

    # Writer B's thread gets its own permit (asked by the client, approved by the operator).
    client.goto(f"/messages/{thread_b.pk}/")
    form = client.get_by_test_id("permit-form")
    form.get_by_label("利用するツール").select_option("line")
    form.get_by_label("利用目的").fill("同じ進行管理の連絡のため。")
    form.get_by_role("button", name="サービス外連絡申請を送る").click()
    permit_b = ContactPermit.objects.get(thread=thread_b)
    decide_permit(ops, QueueItem.objects.get(kind="permit", subject_id=permit_b.pk).pk, "同一クライアント。承認。")
    send(client, thread_b.pk, LINE_MESSAGE)
    expect(client.get_by_test_id("held")).to_have_count(0)

    # 5. Writer A reports the client from the client's profile.
    a.goto(f"/users/{client_user.pk}/")
    a.get_by_role("link", name="通報する").click()
    a.get_by_label("外部連絡・直接取引への誘導").check()
    a.locator("textarea").fill("仮払い前なのに「他の人はもう仕事を始めている」と外部での作業を急かされました。")
    a.get_by_role("button", name="通報する").click()
    expect(a.locator("main")).to_contain_text("通報を受け付けました")
    report = Report.objects.get(reporter=writer_a)
    assert report.reported_user == client_user

    # 6. The operator opens the report, goes to the client's risk page and revokes all their permits.
    report_item = QueueItem.objects.get(kind="report", subject_id=report.pk)
    ops.goto(f"/ops/items/{report_item.pk}/")
    expect(ops.get_by_test_id("report-text")).to_contain_text("他の人はもう仕事を始めている")
    ops.goto(f"/ops/users/{client_user.pk}/")
    shot(ops, "risk-panel")
    revoke = ops.locator("form[data-action-form=revoke_permits]")
    revoke.get_by_label("内部メモ").fill("通報あり。外部での作業を急かす行為のため全承認を取り消し。")
    revoke.get_by_role("button", name="サービス外連絡の承認をすべて取り消す").click()
    expect(ops.get_by_test_id("error")).to_have_count(0)
    assert set(ContactPermit.objects.values_list("state", flat=True)) == {"revoked"}

    # 7. The message is held again, in both threads.
    for thread in (thread_a, thread_b):
        send(client, thread.pk, LINE_MESSAGE)
        expect(client.get_by_test_id("held")).to_contain_text("送信を保留しました")
    assert GuardHold.objects.filter(user=client_user).count() == 4

    # 8. Both writers are told, in their notification centre.
    for page, writer in ((a, writer_a), (b, writer_b)):
        page.goto("/notifications/")
        expect(page.locator("main")).to_contain_text("サービス外連絡")
        assert Notification.objects.filter(user=writer, kind__contains="permit").filter(
            title__contains="取り消").exists()
    shot(b, "revoked-notice")
