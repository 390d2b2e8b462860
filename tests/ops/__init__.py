"""Builders for the operations console tests: queue items of every kind, opened by the real services that
detect the need (a dispute, a permit request, a report, repeated guard holds…)."""

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType

from anshin.core import clock
from anshin.ops.models import QueueItem
from tests import factories


def item_for(subject, kind: str | None = None) -> QueueItem:
    qs = QueueItem.objects.filter(subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-id").first()


def dispute(client, worker, state="funded"):
    """A funded contract the worker took to 事務局 (トラブル相談): (contract, its DISPUTE item)."""
    from anshin.contracts.services import contract_open_dispute

    contract = factories.contract(client, worker, state)
    contract_open_dispute(contract_id=contract.pk, user=worker, reason="発注者と連絡が取れません。")
    contract.refresh_from_db()
    return contract, item_for(contract, QueueItem.Kind.DISPUTE)


def permit(client, worker, contract=None):
    """A pending サービス外連絡申請 by the client in a contract thread: (permit, its PERMIT item)."""
    from anshin.trust.permits import permit_request

    contract = contract or factories.contract(client, worker, "funded")
    p = permit_request(thread_id=contract.thread.pk, user=client, tool="chatwork", purpose="打ち合わせのため")
    return p, item_for(p, QueueItem.Kind.PERMIT)


def report(reporter, reported, text="外部での直接取引を持ちかけられました。"):
    """A report of a user: (report, its REPORT item concerning the reported user)."""
    from anshin.trust.reports import report_create

    r = report_create(user=reporter, subject_kind="user", subject_id=reported.pk, category="off_platform", text=text)
    return r, item_for(r, QueueItem.Kind.REPORT)


def nudge_item(thread, recipient, due_at=None) -> QueueItem:
    """A nudge escalation as `messaging.services.nudge_settle_due` records it."""
    from anshin.ops.services import ops_due, queue_item_open

    return queue_item_open(
        kind=QueueItem.Kind.NUDGE_ESCALATION, subject=thread, concerns=recipient,
        due_at=due_at or ops_due(), summary=f"返信催促の未回答: {thread.subject}",
        dedupe_key=f"test:nudge:{thread.pk}:{clock.now().timestamp()}",
        payload={"thread_id": thread.pk, "recipient_id": recipient.pk},
    )


def guard_flag(user, holds: int = 3) -> QueueItem:
    """`holds` refused texts in a row: the third raises the GUARD_FLAG item about the user."""
    from anshin.trust.contact_guard import Span
    from anshin.trust.holds import hold_record

    text = "LINE ID: abc_123"
    for _ in range(holds):
        hold_record(user=user, surface="profile", text=text, spans=[Span(0, len(text), "line")])
    return item_for(user, QueueItem.Kind.GUARD_FLAG)


def plain_item(subject, *, kind=QueueItem.Kind.GUARD_FLAG, due_in=timedelta(days=2), concerns=None, n=0):
    """A bare item (for ordering and query-count tests that need many of them quickly)."""
    from anshin.ops.services import queue_item_open

    return queue_item_open(
        kind=kind, subject=subject, concerns=concerns, due_at=clock.now() + due_in if due_in is not None else None,
        summary=f"項目{n}", dedupe_key=f"test:plain:{subject.pk}:{n}:{kind}",
    )


def api_client(user):
    """The API as `user` (a fresh token), or anonymous for None; the same client tests/api uses."""
    from anshin.core.api_auth import token_create
    from tests.api.conftest import ApiClient

    return ApiClient(token_create(user=user).key if user is not None else None)
