"""Races on PostgreSQL at the instants where the clock and a person decide the same order: the seller's accept
(or first message) a tenth of a second before the 48 h against the sweeper at 48 h, the buyer's approval
against the 72 h auto-approval, an answer to a キャンセル申請 against its 24 h lapse. Whatever the
interleaving: exactly one outcome, one ledger entry closing the escrow at most, never a crash or a deadlock.

Each racer has its own clock (the seller's request started at 47:59:59.9, the sweeper runs at 48:00:00), so
both orders of arrival are really possible."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anshin.core import clock as anshin_clock
from anshin.core import timers
from anshin.core.models import AuditEvent
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import GATEWAY, REVENUE, balance, escrow_code, worker_code
from anshin.messaging.services import message_send
from anshin.orders import services as orders
from anshin.orders.models import CancelRequest, Order
from tests import factories
from tests.race import run_named

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
ROUNDS = 100
EARLY = timedelta(milliseconds=100)


@pytest.fixture
def racers_clock(monkeypatch):
    """Frozen time for the main thread; `times[name]` gives the racer thread `name` its own instant."""
    times: dict[str, datetime] = {}
    original = anshin_clock.now

    def now():
        return times.get(threading.current_thread().name) or original()

    monkeypatch.setattr(anshin_clock, "now", now)
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller, times


def closing_entries(order) -> list[str]:
    return list(JournalEntry.objects.filter(ref=order.ledger_ref).exclude(kind="purchase")
                .values_list("kind", flat=True))


def events(order, action) -> int:
    return AuditEvent.objects.filter(subject_type__model="order", subject_id=order.pk, action=action).count()


def test_seller_accept_just_before_48h_against_the_sweeper_at_48h(racers_clock, buyer, seller):
    clock, times = racers_clock
    listing = factories.listing(seller)
    outcomes = {"accepted": 0, "cancelled": 0}
    for _ in range(ROUNDS):
        order = factories.order(buyer, seller, a_listing=listing)
        times.update(seller=order.due_at - EARLY, tick=order.due_at)
        result = run_named(
            seller=lambda o=order: orders.order_accept(order_id=o.pk, user=seller),
            tick=timers.sweep,
        )
        assert result["tick"][0] == "ok", result
        order = Order.objects.get(pk=order.pk)
        if result["seller"][0] == "ok":
            assert order.state == "in_progress"
            assert closing_entries(order) == []
            assert balance(escrow_code(order.ledger_ref)) == order.total
            assert events(order, "expire") == 0
            outcomes["accepted"] += 1
        else:
            assert result["seller"][0] == "refused", result
            assert result["seller"][1].code == "not_allowed"
            assert order.state == "cancelled"
            assert closing_entries(order) == ["refund"]
            assert balance(escrow_code(order.ledger_ref)) == 0
            assert events(order, "accept") == 0 and events(order, "expire") == 1
            outcomes["cancelled"] += 1
    assert sum(outcomes.values()) == ROUNDS
    # Open orders hold exactly their escrow; the gateway is owed only what is still held.
    held = sum(o.total for o in Order.objects.filter(state="in_progress"))
    assert balance(GATEWAY) == -held


def test_seller_first_message_just_before_48h_against_the_sweeper_never_deadlocks(racers_clock, buyer, seller):
    """message_send locks the thread then the order; the sweeper must take them in the same order."""
    clock, times = racers_clock
    listing = factories.listing(seller)
    for _ in range(ROUNDS // 2):
        order = factories.order(buyer, seller, a_listing=listing)
        times.update(seller=order.due_at - EARLY, tick=order.due_at)
        result = run_named(
            seller=lambda o=order: message_send(thread=o.thread, sender=seller, body="ご購入ありがとうございます"),
            tick=timers.sweep,
        )
        assert result["seller"][0] == "ok" and result["tick"][0] == "ok", result
        order = Order.objects.get(pk=order.pk)
        assert order.state in ("responded", "cancelled")
        assert closing_entries(order) == ([] if order.state == "responded" else ["refund"])
        assert events(order, "respond") + events(order, "expire") == 1


def test_buyer_approve_just_before_72h_against_the_auto_approval(racers_clock, buyer, seller):
    clock, times = racers_clock
    listing = factories.listing(seller)
    paid = 0
    for _ in range(ROUNDS):
        order = factories.order(buyer, seller, state="delivered", a_listing=listing)
        times.update(buyer=order.due_at - EARLY, tick=order.due_at)
        result = run_named(
            buyer=lambda o=order: orders.order_approve(order_id=o.pk, user=buyer),
            tick=timers.sweep,
        )
        assert result["tick"][0] == "ok", result
        assert result["buyer"][0] in ("ok", "refused"), result
        order = Order.objects.get(pk=order.pk)
        assert order.state == "completed"
        assert closing_entries(order) == ["payout"]
        assert balance(escrow_code(order.ledger_ref)) == 0
        assert events(order, "approve") + events(order, "auto_approve") == 1
        assert (events(order, "approve") == 1) == (result["buyer"][0] == "ok")
        paid += 7_800
        assert balance(worker_code(seller.pk)) == paid
    assert balance(REVENUE) == ROUNDS * (2_200 + 550)


def test_agree_just_before_24h_against_the_lapse_of_a_cancel_request(racers_clock, buyer, seller):
    clock, times = racers_clock
    listing = factories.listing(seller)
    for _ in range(ROUNDS):
        order = factories.order(buyer, seller, state="in_progress", a_listing=listing)
        request = orders.order_cancel_request(order_id=order.pk, user=buyer, reason="no_progress")
        times.update(seller=request.due_at - EARLY, tick=request.due_at)
        result = run_named(
            seller=lambda r=request: orders.cancel_request_answer(request_id=r.pk, user=seller, action="agree"),
            tick=timers.sweep,
        )
        assert result["tick"][0] == "ok", result
        assert result["seller"][0] in ("ok", "refused"), result
        request = CancelRequest.objects.get(pk=request.pk)
        order = Order.objects.get(pk=order.pk)
        assert request.state == "agreed" and order.state == "cancelled"
        assert closing_entries(order) == ["refund"]
        assert balance(escrow_code(order.ledger_ref)) == 0
        lapsed = AuditEvent.objects.filter(subject_type__model="cancelrequest", subject_id=request.pk,
                                           action="lapse").count()
        agreed = AuditEvent.objects.filter(subject_type__model="cancelrequest", subject_id=request.pk,
                                           action="agree").count()
        assert lapsed + agreed == 1
        assert (agreed == 1) == (result["seller"][0] == "ok")
        assert events(order, "cancel") == 1
    assert balance(GATEWAY) == 0  # every order was refunded in full


def test_refuse_at_the_24h_instant_loses_to_the_sweeper(racers_clock, buyer, seller):
    """At the very deadline the clock has decided: a refusal is refused, the lapse cancels, exactly once."""
    clock, times = racers_clock
    listing = factories.listing(seller)
    for _ in range(30):
        order = factories.order(buyer, seller, state="in_progress", a_listing=listing)
        request = orders.order_cancel_request(order_id=order.pk, user=buyer, reason="no_progress")
        times.update(seller=request.due_at, tick=request.due_at)
        result = run_named(
            seller=lambda r=request: orders.cancel_request_answer(request_id=r.pk, user=seller, action="refuse"),
            tick=timers.sweep,
        )
        assert result["tick"][0] == "ok", result
        assert result["seller"][0] == "refused", result
        assert result["seller"][1].code in ("not_allowed", "deadline_passed")
        assert CancelRequest.objects.get(pk=request.pk).state == "agreed"
        assert closing_entries(Order.objects.get(pk=order.pk)) == ["refund"]
