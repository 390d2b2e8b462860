from django.contrib.contenttypes.models import ContentType

from anshin.core import clock
from anshin.ops.models import QueueItem


def queue_item_open(*, kind: str, subject, summary: str, dedupe_key: str, due_at=None, opened_by=None,
                    payload: dict | None = None) -> QueueItem:
    """Record work for the operators once per dedupe key (a retried tick or a double click adds nothing)."""
    item, _ = QueueItem.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={
            "kind": kind, "subject_type": ContentType.objects.get_for_model(subject), "subject_id": subject.pk,
            "summary": summary[:300], "due_at": due_at, "opened_by": opened_by, "payload": payload or {},
            "created_at": clock.now(),
        },
    )
    return item
