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
