"""Race on PostgreSQL at the escalation instant of a 返信催促: the recipient replies while `tick` (and a
second sweeper) settle the nudge. Whatever the interleaving: never a crash or deadlock, at most one queue
item, and the outcome is one of the two stories a person could tell — "they replied, nothing escalated" or
"it escalated, then they replied"."""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from anshin import rules
from anshin.core import timers
from anshin.messaging.models import Message, Nudge
from anshin.messaging.services import message_acknowledge, message_send, nudge_settle_due, thread_nudge
from anshin.ops.models import QueueItem
from tests import factories
from tests.race import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 9, 17, 10, 0, tzinfo=TOKYO)
ROUNDS = 100


def test_reply_and_sweepers_at_the_escalation_instant(client_user, worker):
    rng = random.Random(20260928)
    escalated = replied_first = 0
    with time_machine.travel(START, tick=False) as clock:
        for i in range(ROUNDS):
            clock.move_to(START)
            contract = factories.contract(client_user, worker, state="funded")
            thread = contract.thread
            message_send(thread=thread, sender=worker, body="ご確認お願いします。")
            clock.move_to(START + rules.NUDGE_AFTER)
            nudge = thread_nudge(thread=thread, sender=worker)
            clock.move_to(nudge.due_at)  # exactly the escalation time

            if i % 2:
                def reply(thread=thread):
                    return message_send(thread=thread, sender=client_user, body="遅くなりすみません。")
            else:
                def reply(thread=thread, nudge=nudge):
                    return message_acknowledge(thread=thread, sender=client_user,
                                               reply_by=timezone.localtime(nudge.due_at).date() + timedelta(days=1))
            calls = {"reply": reply, "tick": timers.sweep, "settle": lambda pk=nudge.pk: nudge_settle_due(pk)}
            order = rng.sample(sorted(calls), k=3)
            outcome = dict(zip(order, run_together(*(calls[name] for name in order)), strict=True))

            assert not [o for o in outcome.values() if o[0] != "ok"], outcome
            nudge.refresh_from_db()
            items = QueueItem.objects.filter(dedupe_key=f"nudge:{nudge.pk}")
            assert items.count() <= 1
            assert nudge.replied_at == nudge.escalate_at  # the reply always goes through, at that instant
            assert nudge.due_at is None
            reply_message = outcome["reply"][1]
            assert Message.objects.filter(pk=reply_message.pk).exists()
            if items.exists():
                escalated += 1
                assert nudge.escalated_at == nudge.escalate_at
                notice = Message.objects.get(thread=thread, kind="system", body__contains="事務局にお知らせしました")
                assert notice.pk < reply_message.pk  # escalated first, then the reply
            else:
                replied_first += 1
                assert nudge.escalated_at is None
                assert not Message.objects.filter(thread=thread, body__contains="事務局にお知らせしました").exists()
            assert Nudge.objects.filter(due_at__isnull=False).count() == 0
    assert escalated + replied_first == ROUNDS
