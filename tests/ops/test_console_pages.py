"""The console's pages: queues ordered by due time with overdue items in red, a fixed number of queries
whatever the queue's length, each kind of item shown with its subject in context, and the audit log."""

import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from anshin.core import clock
from anshin.core.models import AuditEvent
from anshin.messaging.services import message_send
from anshin.ops.models import QueueItem
from tests import factories
from tests import ops as build
from tests.web.helpers import login, text


def rows(html: str) -> list[tuple[int, bool]]:
    """(item id, highlighted as overdue) of each queue row, in page order."""
    out = []
    for match in re.finditer(r'<tr class="ops-row( overdue)?" data-testid="queue-row" data-item="(\d+)">(.*?)</tr>',
                             html, re.S):
        overdue_class, item_id, body = match.groups()
        has_label = "期限超過" in body
        assert bool(overdue_class) == has_label  # the red row and its words go together
        out.append((int(item_id), bool(overdue_class)))
    return out


def test_queue_is_ordered_by_due_time_and_only_overdue_items_are_red(worker, operator, time_machine):
    start = clock.now()
    later = build.plain_item(worker, due_in=timedelta(days=5), n=1)
    past = build.plain_item(worker, due_in=timedelta(days=1), n=2)
    no_due = build.plain_item(worker, due_in=None, n=3)
    soonest = build.plain_item(worker, due_in=timedelta(hours=2), n=4)
    time_machine.move_to(start + timedelta(days=2), tick=False)
    page = text(login(operator).get("/ops/queue/guard_flag/"))
    assert rows(page) == [(soonest.pk, True), (past.pk, True), (later.pk, False), (no_due.pk, False)]
    # the due time in Tokyo, Y/m/d H:i
    assert timezone.localtime(later.due_at).strftime("%Y/%m/%d %H:%M") in page
    all_page = text(login(operator).get("/ops/queue/"))
    assert [r[0] for r in rows(all_page)] == [soonest.pk, past.pk, later.pk, no_due.pk]


def test_queue_filters_closed_and_mine(client_user, worker, operator):
    from anshin.ops.services import queue_item_assign, queue_item_close

    a = build.plain_item(worker, n=1)
    b = build.plain_item(worker, n=2)
    c = build.plain_item(worker, n=3)
    queue_item_assign(item_id=b.pk, operator=operator, assignee_id=operator.pk)
    queue_item_close(item_id=c.pk, operator=operator, resolution="done", note="問題なし")
    client = login(operator)
    assert {r[0] for r in rows(text(client.get("/ops/queue/guard_flag/")))} == {a.pk, b.pk}
    assert [r[0] for r in rows(text(client.get("/ops/queue/guard_flag/?mine=1")))] == [b.pk]
    closed = text(client.get("/ops/queue/guard_flag/?state=closed"))
    assert [r[0] for r in rows(closed)] == [c.pk]
    assert client.get("/ops/queue/nonsense/").status_code == 404


def test_queue_page_costs_the_same_for_5_and_50_items(worker, operator, make_user):
    client = login(operator)
    client.get("/ops/queue/")  # warm up (session, presence)

    def grow(n, offset):
        for i in range(n):
            person = make_user()
            build.plain_item(person, concerns=person, n=offset + i)

    def measure():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/ops/queue/")
        assert response.status_code == 200
        return len(ctx.captured_queries), len(rows(text(response)))

    grow(5, 0)
    small, count = measure()
    assert count == 5
    grow(45, 100)
    for item in QueueItem.objects.all()[:10]:
        from anshin.ops.services import queue_item_assign

        queue_item_assign(item_id=item.pk, operator=operator, assignee_id=operator.pk)
    large, count = measure()
    assert count == 50
    assert large == small


def test_dashboard_and_audit_pages_cost_a_fixed_number_of_queries(client_user, worker, operator, make_user):
    client = login(operator)
    client.get("/ops/")

    def measure(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    from anshin.ops.services import queue_item_assign

    first = build.plain_item(worker, n=1)
    queue_item_assign(item_id=first.pk, operator=operator, assignee_id=operator.pk)
    small = measure("/ops/"), measure("/ops/audit/")
    for i in range(30):
        person = make_user()
        item = build.plain_item(person, concerns=person, n=100 + i)
        queue_item_assign(item_id=item.pk, operator=operator, assignee_id=operator.pk)
    assert (measure("/ops/"), measure("/ops/audit/")) == small


def test_permit_item_shows_thread_parties_tool_purpose_and_the_decision_form(client_user, worker, operator):
    contract = factories.contract(client_user, worker, "funded")
    message_send(thread=contract.thread, sender=worker, body="来週の打ち合わせについて相談させてください。")
    permit, item = build.permit(client_user, worker, contract=contract)
    page = text(login(operator).get(f"/ops/items/{item.pk}/"))
    assert "来週の打ち合わせについて相談させてください。" in page
    assert client_user.name in page and worker.name in page
    assert re.search(r'data-testid="permit-tool">\s*Chatwork', page)
    assert "打ち合わせのため" in page
    assert 'data-testid="permit-form"' in page
    assert 'value="approve"' in page and 'value="deny"' in page and 'value="revoke"' not in page
    assert timezone.localtime(permit.decide_by).strftime("%Y/%m/%d %H:%M") in page


def test_dispute_item_shows_thread_timeline_escrow_frozen_time_and_resolve_form(client_user, worker, operator):
    from anshin.contracts.services import contract_deliver, contract_open_dispute

    contract = factories.contract(client_user, worker, "funded", amount=40_000)
    message_send(thread=contract.thread, sender=worker, body="最初のメッセージです。")
    for n in range(30):
        message_send(thread=contract.thread, sender=client_user if n % 2 else worker, body=f"やりとり{n}")
    contract_deliver(contract_id=contract.pk, user=worker, body="納品します。")
    contract_open_dispute(contract_id=contract.pk, user=worker, reason="検収してもらえません。")
    item = build.item_for(contract, QueueItem.Kind.DISPUTE)
    page = text(login(operator).get(f"/ops/items/{item.pk}/"))
    assert "最初のメッセージです。" in page and "やりとり29" in page  # the whole thread
    assert re.search(r'data-testid="deal-escrow">¥40,000<', page)
    frozen = re.search(r'data-testid="frozen">(.*?)</dd>', page, re.S).group(1)
    assert "自動検収" in frozen and "6日23時間" in frozen  # 7 days to deemed acceptance, frozen a moment later
    timeline = page[page.index('data-testid="deal-timeline"'):]
    assert "仮払い完了" in timeline and "納品" in timeline and "事務局に相談" in timeline
    assert 'data-testid="resolve-form"' in page
    # both parties' risk panels sit beside a dispute opened by a party
    assert page.count('data-testid="risk-panel"') >= 1


def test_resolving_by_split_shows_the_result_and_leaves_no_escrow(client_user, worker, operator):
    contract, item = build.dispute(client_user, worker)
    client = login(operator)
    response = client.post(f"/ops/items/{item.pk}/resolve/",
                           {"outcome": "split", "worker_amount": "12000", "note": "双方の主張を確認"})
    assert response.status_code == 302
    page = text(client.get(f"/ops/items/{item.pk}/"))
    assert 'data-testid="item-state">対応済み' in page
    assert re.search(r'data-testid="deal-escrow">¥0<', page)
    assert 'data-testid="resolve-form"' not in page


def test_resolve_errors_are_shown_in_japanese(client_user, worker, operator):
    contract, item = build.dispute(client_user, worker)
    response = login(operator).post(f"/ops/items/{item.pk}/resolve/", {"outcome": "split", "note": "分割"})
    assert response.status_code == 400
    assert "受注者に支払う額を入力してください" in text(response)
    response = login(operator).post(f"/ops/items/{item.pk}/resolve/",
                                    {"outcome": "split", "worker_amount": "999999", "note": "分割"})
    assert response.status_code == 400
    assert "分割する場合" in text(response)


def test_nudge_item_lets_the_operator_write_as_jimukyoku_and_close(client_user, worker, operator):
    contract = factories.contract(client_user, worker, "funded")
    message_send(thread=contract.thread, sender=worker, body="ご確認をお願いします。")
    item = build.nudge_item(contract.thread, client_user)
    client = login(operator)
    page = text(client.get(f"/ops/items/{item.pk}/"))
    assert "ご確認をお願いします。" in page and 'data-testid="message-form"' in page
    response = client.post(f"/ops/items/{item.pk}/message/", {"body": "事務局です。ご返信ください。", "note": "催促"})
    assert response.status_code == 302
    thread_page = text(login(client_user).get(f"/messages/{contract.thread.pk}/"))
    assert "事務局です。ご返信ください。" in thread_page and "催促" not in thread_page  # the note stays internal
    assert client.post(f"/ops/items/{item.pk}/close/", {"resolution": "done", "note": "返信あり"}).status_code == 302
    assert QueueItem.objects.get(pk=item.pk).state == "closed"


def test_report_item_shows_the_reported_content_and_the_reporters_text(client_user, worker, operator):
    from anshin.trust.reports import report_create

    contract = factories.contract(client_user, worker, "funded")
    message = message_send(thread=contract.thread, sender=client_user, body="手数料がもったいないので直接やりませんか")
    report = report_create(user=worker, subject_kind="message", subject_id=message.pk, category="off_platform",
                           text="直接取引を持ちかけられました。")
    item = build.item_for(report, QueueItem.Kind.REPORT)
    page = text(login(operator).get(f"/ops/items/{item.pk}/"))
    assert re.search(r'data-testid="report-target">\s*手数料がもったいないので直接やりませんか', page)
    assert "直接取引を持ちかけられました。" in page
    assert 'data-testid="account-form"' in page
    # an account measure straight from the report, back to the item
    response = login(operator).post(f"/ops/users/{client_user.pk}/actions/", {
        "action": "warn", "message": "直接取引の誘導は禁止されています。", "note": "初回のため警告",
        "next": f"/ops/items/{item.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/ops/items/{item.pk}/"


def test_guard_flag_item_lists_the_holds(client_user, operator):
    item = build.guard_flag(client_user)
    page = text(login(operator).get(f"/ops/items/{item.pk}/"))
    assert page.count('data-testid="hold"') == 3
    assert "LINE ID: abc_123" in page


def test_audit_log_lists_newest_first_and_filters(client_user, worker, operator, make_user):
    from anshin.ops.permissions import grant_operator
    from anshin.ops.services import queue_item_assign, queue_item_close

    colleague = make_user("colleague")
    grant_operator(colleague)
    a = build.plain_item(worker, n=1)
    b = build.plain_item(worker, n=2)
    queue_item_assign(item_id=a.pk, operator=operator, assignee_id=operator.pk)
    queue_item_close(item_id=b.pk, operator=colleague, resolution="no_action", note="誤検知でした")
    client = login(operator)
    page = text(client.get("/ops/audit/"))
    assert page.index("queue_close:no_action") < page.index("queue_assign")  # newest first
    assert "誤検知でした" in page
    assert f'href="/ops/items/{b.pk}/"' in page
    only_colleague = text(client.get(f"/ops/audit/?actor={colleague.pk}"))
    assert "queue_close" in only_colleague and "queue_assign" not in only_colleague
    only_assign = text(client.get("/ops/audit/?action=queue_assign"))
    assert "queue_assign" in only_assign and "queue_close" not in only_assign
    users_only = text(client.get("/ops/audit/?subject_type=user"))
    assert "queue_assign" not in users_only
    assert client.get("/ops/audit/?actor=abc&subject_type=nonsense&page=99").status_code == 200


def test_audit_log_is_paginated(operator, worker):
    from anshin.ops.services import queue_item_assign

    item = build.plain_item(worker)
    for _ in range(60):
        queue_item_assign(item_id=item.pk, operator=operator, assignee_id=operator.pk)
    client = login(operator)
    first = text(client.get("/ops/audit/"))
    assert first.count('data-testid="audit-row"') == 50
    second = text(client.get("/ops/audit/?page=2"))
    assert second.count('data-testid="audit-row"') == AuditEvent.objects.count() - 50


def test_order_dispute_item_and_its_resolution(client_user, worker, operator):
    from anshin.orders.models import Order
    from anshin.orders.services import order_open_dispute

    order = factories.order(client_user, worker, "delivered")
    order_open_dispute(order_id=order.pk, user=client_user, reason="依頼と違う納品物が届きました。")
    item = build.item_for(order, QueueItem.Kind.DISPUTE)
    client = login(operator)
    page = text(client.get(f"/ops/items/{item.pk}/"))
    assert re.search(rf'data-testid="deal-escrow">¥{order.total:,}<', page)
    assert "自動承諾" in re.search(r'data-testid="frozen">(.*?)</dd>', page, re.S).group(1)
    assert 'data-testid="resolve-form"' in page
    response = client.post(f"/ops/items/{item.pk}/resolve/", {"outcome": "refund", "note": "納品物が依頼と異なる"})
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).state in ("cancelled",)
    page = text(client.get(f"/ops/items/{item.pk}/"))
    assert re.search(r'data-testid="deal-escrow">¥0<', page)


def test_scam_flag_item_shows_the_flagged_message_in_its_thread(client_user, worker, operator):
    contract = factories.contract(client_user, worker, "funded")
    message_send(thread=contract.thread, sender=worker, body="よろしくお願いします。")
    message = message_send(thread=contract.thread, sender=client_user,
                           body="手数料がもったいないので、サイトの外で直接取引しませんか？みんなやってますよ。")
    item = build.item_for(message, QueueItem.Kind.GUARD_FLAG)
    assert item is not None and item.concerns_id == client_user.pk
    client = login(operator)
    page = text(client.get(f"/ops/items/{item.pk}/"))
    assert re.search(r'data-testid="flagged-body">\s*手数料がもったいない', page)
    assert "よろしくお願いします。" in page  # the thread around it
    assert re.search(r'data-testid="caution-kinds">[^<]+', page)
    assert 'data-testid="message-form"' in page and 'data-testid="close-form"' in page
    response = client.post(f"/ops/items/{item.pk}/close/", {"resolution": "done", "note": "警告を送付済み"})
    assert response.status_code == 302
    assert QueueItem.objects.get(pk=item.pk).state == "closed"
