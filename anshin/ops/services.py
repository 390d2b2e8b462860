"""The operators' queue: items are opened by the services that detect a need (a dispute, a permit request, a
report, a guard flag…) and closed by an operator's decision, which always carries an internal note and
leaves an audit event. Nothing here is reachable by non-operators: `operator_required` raises 404."""

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from anshin import rules
from anshin.core import audit, calendar, clock
from anshin.core.errors import DomainError, NotFound
from anshin.ops.models import QueueItem


def operator_required(user) -> None:
    """Operators only; everyone else gets 404, so the console's existence is not revealed."""
    if not (user and user.is_authenticated and user.is_operator):
        raise NotFound()


def note_required(note: str) -> str:
    note = (note or "").strip()
    if not note:
        raise DomainError("note_required", "内部メモを入力してください（事務局の操作には記録が必要です）。")
    if len(note) > rules.OPS_NOTE_MAX_LENGTH:
        raise DomainError("too_long", f"内部メモは{rules.OPS_NOTE_MAX_LENGTH:,}文字以内で入力してください。")
    return note


def ops_due(moment=None):
    """When a new queue item is due: 2 business days on the Japanese calendar."""
    return calendar.add_business_days(moment or clock.now(), rules.OPS_QUEUE_DUE_BUSINESS_DAYS)


def queue_item_open(*, kind: str, subject, summary: str, dedupe_key: str, due_at=None, opened_by=None,
                    concerns=None, payload: dict | None = None) -> QueueItem:
    """Record work for the operators once per dedupe key (a retried tick or a double click adds nothing)."""
    item, _ = QueueItem.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={
            "kind": kind, "subject_type": ContentType.objects.get_for_model(subject), "subject_id": subject.pk,
            "summary": summary[:300], "due_at": due_at, "opened_by": opened_by, "payload": payload or {},
            "concerns": concerns, "created_at": clock.now(),
        },
    )
    return item


def _close(item: QueueItem, *, operator, resolution: str, note: str) -> None:
    item.state = QueueItem.State.CLOSED
    item.closed_at = clock.now()
    item.closed_by = operator
    item.resolution = resolution
    item.note = note
    item.save(update_fields=["state", "closed_at", "closed_by", "resolution", "note"])
    audit.record(subject=item, action=f"queue_close:{resolution}", actor=operator, actor_role="operator",
                 from_state=QueueItem.State.OPEN, to_state=QueueItem.State.CLOSED,
                 payload={"kind": item.kind, "note": note})


def queue_items_close_for(*, subject, operator, resolution: str, note: str, kinds=None) -> int:
    """Close the open items about `subject` (called inside the deciding service's transaction)."""
    items = QueueItem.objects.select_for_update().filter(
        subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk, state=QueueItem.State.OPEN
    )
    if kinds:
        items = items.filter(kind__in=kinds)
    count = 0
    for item in items:
        _close(item, operator=operator, resolution=resolution, note=note)
        count += 1
    return count


def queue_item_close(*, item_id: int, operator, resolution: str = "done", note: str) -> QueueItem:
    """Close an item without a domain decision (e.g. a report looked into, a guard flag judged harmless)."""
    operator_required(operator)
    note = note_required(note)
    with transaction.atomic():
        item = QueueItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            raise NotFound()
        if item.state != QueueItem.State.OPEN:
            raise DomainError("closed", "この項目は対応済みです。")
        _close(item, operator=operator, resolution=resolution, note=note)
    return item


def queue_item_assign(*, item_id: int, operator, assignee_id: int | None) -> QueueItem:
    """Take an item (or hand it to another operator, or release it). Audited like every operator action."""
    operator_required(operator)
    from anshin.accounts.models import User

    with transaction.atomic():
        item = QueueItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            raise NotFound()
        assignee = None
        if assignee_id is not None:
            assignee = User.objects.filter(pk=assignee_id).first()
            if assignee is None or not assignee.is_operator:
                raise DomainError("not_operator", "担当者には事務局のメンバーを指定してください。")
        before = item.assignee_id
        item.assignee = assignee
        item.save(update_fields=["assignee"])
        audit.record(subject=item, action="queue_assign", actor=operator, actor_role="operator",
                     payload={"from": before, "to": assignee_id})
    return item


# --- operator actions of the console (each: operator only, a note, one transaction, an audit event) ----------


def ops_message_post(*, thread_id: int, operator, body: str, note: str):
    """事務局 writes into any thread (a nudge escalation, a dispute…). The parties see the message as from
    事務局; the internal note goes to the audit log only."""
    operator_required(operator)
    note = note_required(note)
    from anshin.messaging.models import Thread
    from anshin.messaging.services import message_send

    with transaction.atomic():
        thread = Thread.objects.filter(pk=thread_id).first()
        if thread is None:
            raise NotFound()
        message = message_send(thread=thread, sender=operator, body=body)
        audit.record(
            subject=thread,
            action="ops_message",
            actor=operator,
            actor_role="operator",
            payload={"note": note, "message_id": message.pk, "body": message.body[:200]},
        )
    return message


# The account measures of the console and the services that take them (helpers of trust.standing and
# trust.permits). Every one needs a note; `warn` also a message to the user.
ACCOUNT_ACTIONS = {
    "warn": "警告する",
    "restrict": "メッセージ送信を制限する",
    "unrestrict": "メッセージ送信の制限を解除する",
    "suspend": "利用を停止する",
    "reinstate": "利用停止を解除する",
    "verify_identity": "本人確認済みにする",
    "revoke_permits": "サービス外連絡の承認をすべて取り消す",
}


def account_action(*, user_id: int, operator, action: str, note: str, message: str = ""):
    """One account measure by name (the console's form and the API share this dispatch)."""
    operator_required(operator)
    if action not in ACCOUNT_ACTIONS:
        raise DomainError("invalid_action", "操作の種類が正しくありません。")
    note = note_required(note)
    from anshin.accounts.models import User

    if not User.objects.filter(pk=user_id).exists():
        raise NotFound()
    if action == "revoke_permits":
        from anshin.trust.permits import permit_revoke_all

        return permit_revoke_all(user_id=user_id, operator=operator, note=note)
    from anshin.trust import standing

    if action == "warn":
        message = (message or "").strip()
        if not message:
            raise DomainError("message_required", "ユーザーに送る警告の本文を入力してください。")
        return standing.account_warn(user_id=user_id, operator=operator, note=note, message=message)
    service = {
        "restrict": standing.account_restrict,
        "unrestrict": standing.account_unrestrict,
        "suspend": standing.account_suspend,
        "reinstate": standing.account_reinstate,
        "verify_identity": standing.account_verify_identity,
    }[action]
    return service(user_id=user_id, operator=operator, note=note)


def item_close(*, item_id: int, operator, resolution: str = "done", note: str) -> QueueItem:
    """Close an item from the console. A report item closes the report itself too (trust.reports), so the
    report and its queue item never disagree; anything else is `queue_item_close`."""
    operator_required(operator)
    note = note_required(note)
    item = QueueItem.objects.filter(pk=item_id).first()
    if item is None:
        raise NotFound()
    from anshin.trust.models import Report

    if item.kind == QueueItem.Kind.REPORT and item.subject_type_id == ContentType.objects.get_for_model(Report).pk:
        if item.state != QueueItem.State.OPEN:
            raise DomainError("closed", "この項目は対応済みです。")
        from anshin.trust.reports import report_close

        report = Report.objects.filter(pk=item.subject_id).first()
        if report is not None and report.state == Report.State.OPEN:
            report_close(report_id=report.pk, operator=operator, note=note, resolution=resolution)
            item.refresh_from_db()
            if item.state == QueueItem.State.CLOSED:
                return item
    return queue_item_close(item_id=item_id, operator=operator, resolution=resolution, note=note)
