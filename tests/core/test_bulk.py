"""`core.bulk.insert` (COPY on PostgreSQL, bulk_create elsewhere) writes the rows the ORM would write: new pks
in order, foreign keys given as objects or ids, JSON, defaults for what is left out, Japanese text, None."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType

from anshin.core import bulk
from anshin.core.models import AuditEvent
from anshin.messaging.models import Message
from anshin.messaging.services import thread_create
from anshin.notifications.models import Notification

pytestmark = pytest.mark.django_db

AT = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_rows_come_back_as_the_orm_reads_them_with_their_pks_in_order(worker):
    user = worker
    rows = [
        dict(subject_type=ContentType.objects.get_for_model(user), subject_id=user.pk, action=f"step{n}",
             actor=user if n else None, actor_role="system", payload={"金額": n * 1000, "注": "タブ\tと改行\n"},
             created_at=AT)
        for n in range(3)
    ]
    pks = bulk.insert(AuditEvent, rows, ids=True)

    assert len(pks) == 3 and pks == sorted(pks)
    events = {e.pk: e for e in AuditEvent.objects.filter(pk__in=pks)}
    for pk, row in zip(pks, rows, strict=True):
        event = events[pk]
        assert (event.action, event.actor, event.payload, event.created_at) == (
            row["action"], row["actor"], row["payload"], AT)
        assert event.from_state == "" and event.to_state == ""  # left out: the field's default


def test_foreign_keys_by_id_text_with_tabs_and_newlines_and_a_choice_fields_default(client_user, worker):
    thread = thread_create(kind="contract", subject="ロゴ制作", members=[client_user, worker])
    body = "検収のお知らせ\n\t金額: ¥27,000 \\ 円記号"  # COPY's own separators and escape, as text
    pks = bulk.insert(Message, [dict(thread_id=thread.pk, sender=None, body=body, created_at=AT),
                                dict(created_at=AT, body="二通目", sender=None, thread_id=thread.pk)], ids=True)
    first, second = (Message.objects.get(pk=pk) for pk in pks)
    assert (first.thread, first.kind, first.body) == (thread, Message.Kind.NORMAL, body)
    assert (second.thread, second.body) == (thread, "二通目")  # keys in another order: the same columns


def test_without_ids_nothing_is_returned_and_every_row_is_written(worker):
    user = worker
    rows = [dict(user=user, kind="contract.deem_accept", title=f"通知{n}", dedupe_key=f"bulk:{n}", created_at=AT)
            for n in range(5)]
    assert bulk.insert(Notification, rows) == []
    assert sorted(Notification.objects.filter(user=user).values_list("title", flat=True)) == [
        f"通知{n}" for n in range(5)]
    assert bulk.insert(Notification, []) == []
