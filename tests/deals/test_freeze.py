"""A suspension freezes the suspended user's deals (PRODUCT.md §6, issue 4): `deals_freeze_for` puts every
contract under way and every open order of the user into `disputed` by the operator — clocks stop, the
counterparts are told in the thread and by notification, one queue item each concerning the user — and calls
off the contracts that hold no money yet. The operator's note stays internal."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anshin.contracts.models import Contract
from anshin.core import timers
from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.deals.disputes import CALL_OFF_REASON, FREEZE_REASON, deals_freeze_for
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import balance, escrow_code
from anshin.messaging.models import Message
from anshin.notifications.models import Notification
from anshin.ops.models import QueueItem
from anshin.orders.models import Order
from tests import factories
from tests.ledger_checks import assert_ledger_sound, ledger_size

pytestmark = pytest.mark.django_db

START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
NOTE = "内部メモ：複数の通報により停止（担当 田中）"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def test_a_suspended_workers_deals_are_frozen_or_called_off(clock, client_user, worker, make_user, operator):
    buyer = make_user("buyer2", display_name="購入者B")
    funded = factories.contract(client_user, worker, state="funded", amount=40_000)
    order = factories.order(buyer, worker, state="delivered")  # the worker sells; 72 h to approve
    offered = factories.contract(client_user, worker, state="offered")
    awaiting = factories.contract(client_user, worker, state="awaiting_funding")
    closed = factories.contract(client_user, worker, state="accepted")
    others = factories.contract(client_user, buyer, state="funded")  # not the worker's
    notified_before = set(Notification.objects.values_list("pk", flat=True))

    changed = deals_freeze_for(user=worker, operator=operator, note=NOTE)

    assert {(type(d).__name__, d.pk) for d in changed} == {
        ("Contract", funded.pk),
        ("Contract", offered.pk),
        ("Contract", awaiting.pk),
        ("Order", order.pk),
    }
    states = dict(Contract.objects.values_list("pk", "state"))
    assert states[funded.pk] == "disputed" and states[offered.pk] == "cancelled"
    assert states[awaiting.pk] == "cancelled"
    assert states[closed.pk] == "accepted" and states[others.pk] == "funded"
    assert Order.objects.get(pk=order.pk).state == "disputed"

    # One queue item per frozen deal, about the suspended user, opened by the operator.
    items = QueueItem.objects.filter(state="open")
    assert sorted((i.subject_type.model, i.subject_id) for i in items) == [("contract", funded.pk), ("order", order.pk)]
    assert {(i.kind, i.concerns, i.opened_by) for i in items} == {("dispute", worker, operator)}

    # The counterparts are told, in the thread and by notification; the note is in neither.
    assert funded.thread.messages.filter(body__contains=FREEZE_REASON).exists()
    assert order.thread.messages.filter(body__contains=FREEZE_REASON).exists()
    assert offered.thread.messages.filter(body__contains=CALL_OFF_REASON).exists()
    new = Notification.objects.exclude(pk__in=notified_before)
    assert new.filter(user=client_user, kind="contract.open_dispute", url=f"/contracts/{funded.pk}/").exists()
    assert new.filter(user=buyer, kind="order.open_dispute").exists()
    assert new.filter(user=client_user, kind="contract.withdraw_offer").exists()
    assert new.filter(user=client_user, kind="contract.cancel").exists()
    assert not Message.objects.filter(body__contains="内部メモ").exists()
    assert not new.filter(body__contains="内部メモ").exists()
    event = AuditEvent.objects.get(subject_type__model="contract", subject_id=funded.pk, action="open_dispute")
    assert event.actor == operator and event.payload["note"] == NOTE and event.payload["reason"] == FREEZE_REASON

    # The clocks stay stopped: no auto-approval of the order, no money moves.
    size = ledger_size()
    clock.shift(timedelta(days=10))
    assert [line for line in timers.sweep() if "reminder" not in line] == []
    assert Order.objects.get(pk=order.pk).state == "disputed"
    assert ledger_size() == size
    assert balance(escrow_code(funded.ledger_ref)) == 40_000
    assert balance(escrow_code(order.ledger_ref)) == order.total
    assert_ledger_sound()
    assert not JournalEntry.objects.filter(ref=offered.ledger_ref).exists()


def test_a_suspended_client_and_buyer_is_frozen_too(client_user, worker, operator):
    contract = factories.contract(client_user, worker, state="delivered")
    order = factories.order(client_user, worker, state="purchased")
    changed = deals_freeze_for(user=client_user, operator=operator, note=NOTE)
    assert len(changed) == 2
    assert Contract.objects.get(pk=contract.pk).state == "disputed"
    assert Order.objects.get(pk=order.pk).state == "disputed"
    assert set(QueueItem.objects.values_list("concerns", flat=True)) == {client_user.pk}
    assert Notification.objects.filter(user=worker, kind="order.open_dispute").exists()


def test_only_operators_freeze_and_a_note_is_required(client_user, worker, stranger, operator):
    contract = factories.contract(client_user, worker, state="funded")
    for user in (client_user, worker, stranger):
        with pytest.raises(NotFound):
            deals_freeze_for(user=worker, operator=user, note=NOTE)
    with pytest.raises(DomainError) as refused:
        deals_freeze_for(user=worker, operator=operator, note="")
    assert refused.value.code == "note_required"
    assert Contract.objects.get(pk=contract.pk).state == "funded"
    assert deals_freeze_for(user=stranger, operator=operator, note=NOTE) == []


def test_a_deal_the_clock_already_decided_is_settled_not_frozen(clock, client_user, worker, operator):
    contract = factories.contract(client_user, worker, state="delivered")
    clock.shift(timedelta(days=8))  # deemed acceptance is due but nobody has looked
    assert deals_freeze_for(user=worker, operator=operator, note=NOTE) == []
    assert Contract.objects.get(pk=contract.pk).state == "accepted"
    assert not QueueItem.objects.exists()
