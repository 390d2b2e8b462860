"""Timers of the contract flow (PRODUCT.md §2): deemed acceptance 7 days after the *last* delivery, reminders
3 days and 1 day before, offer and funding lapses at 7 days — exact to the microsecond, never twice, and never
once the state has moved on. A contract read after its deadline is settled on the spot."""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from anshin.contracts import selectors
from anshin.contracts import services as contracts
from anshin.contracts.models import Contract
from anshin.core import timers
from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import REVENUE, balance, escrow_code, worker_code
from anshin.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db


TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 4, 1, 10, 0, tzinfo=TOKYO)
µs = timedelta(microseconds=1)


@pytest.fixture
def clock():
    """Frozen time: the test moves it explicitly."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def releases(contract) -> int:
    return JournalEntry.objects.filter(kind="release", ref=contract.ledger_ref).count()


def accepted_events(contract):
    return AuditEvent.objects.filter(subject_id=contract.pk, subject_type__model="contract", to_state="accepted")


def reminders(contract):
    return Notification.objects.filter(kind="contract.inspection_reminder", url=f"/contracts/{contract.pk}/")


def fresh(contract) -> Contract:
    return Contract.objects.get(pk=contract.pk)


# --- deemed acceptance ----------------------------------------------------------------------------------

def test_deemed_acceptance_fires_exactly_seven_days_after_delivery_and_not_a_microsecond_before(
        clock, client_user, worker):
    c = factories.contract(client_user, worker, state="delivered", amount=150_000)
    due = START + timedelta(days=7)
    assert c.due_at == due

    clock.move_to(due - µs)
    done = timers.sweep()
    assert not any("deem_accept" in line for line in done)
    assert fresh(c).state == "delivered"
    assert releases(c) == 0
    assert balance(escrow_code(c.ledger_ref)) == 150_000

    clock.move_to(due)
    assert timers.sweep() == [f"contract {c.pk}: deem_accept"]
    assert timers.sweep() == []  # a second sweep at the same instant finds nothing
    c = fresh(c)
    assert c.state == "accepted"
    assert c.accepted_at == due
    assert releases(c) == 1
    assert balance(escrow_code(c.ledger_ref)) == 0
    assert balance(worker_code(worker.pk)) == 150_000 - 25_000
    assert balance(REVENUE) == 25_000
    event = accepted_events(c).get()
    assert (event.action, event.actor_role, event.from_state, event.actor) == ("deem_accept", "system", "delivered",
                                                                                None)
    assert "自動で検収合格" in c.thread.messages.order_by("-id").first().body

    clock.shift(timedelta(days=30))
    assert timers.sweep() == []
    assert releases(c) == 1


def test_redelivery_after_revision_restarts_the_seven_days(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="delivered")
    first_due = START + timedelta(days=7)
    clock.shift(timedelta(days=1))
    contracts.contract_request_revision(contract_id=c.pk, user=client_user, reason="画像の差し替えをお願いします")
    clock.shift(timedelta(days=4))  # day 5
    contracts.contract_deliver(contract_id=c.pk, user=worker, body="修正版を納品します。")
    new_due = START + timedelta(days=12)
    assert fresh(c).due_at == new_due

    clock.move_to(first_due)
    timers.sweep()
    clock.move_to(first_due + timedelta(hours=12))
    timers.sweep()
    assert fresh(c).state == "delivered"
    assert releases(c) == 0

    clock.move_to(new_due - µs)
    timers.sweep()
    assert fresh(c).state == "delivered"

    clock.move_to(new_due)
    assert f"contract {c.pk}: deem_accept" in timers.sweep()
    assert fresh(c).state == "accepted"
    assert releases(c) == 1


def test_reminders_to_the_client_three_days_and_one_day_before_once_each(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="delivered")
    due = START + timedelta(days=7)

    clock.move_to(due - timedelta(days=3) - µs)
    timers.sweep()
    assert reminders(c).count() == 0

    clock.move_to(due - timedelta(days=3))
    assert timers.sweep() == [f"contract {c.pk}: reminder 3d"]
    timers.sweep()
    timers.sweep()
    three = reminders(c).get()
    assert three.user == client_user
    assert "あと3日" in three.title

    clock.move_to(due - timedelta(days=1) - µs)
    timers.sweep()
    assert reminders(c).count() == 1

    clock.move_to(due - timedelta(days=1))
    assert timers.sweep() == [f"contract {c.pk}: reminder 1d"]
    clock.shift(timedelta(hours=1))
    timers.sweep()
    assert reminders(c).count() == 2
    assert reminders(c).filter(title__contains="あと1日", user=client_user).count() == 1
    assert not Notification.objects.filter(kind="contract.inspection_reminder", user=worker).exists()
    assert fresh(c).state == "delivered"


def test_reminders_follow_the_new_deadline_after_a_redelivery(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="delivered")
    clock.shift(timedelta(days=4))  # the 3-day reminder of the first delivery goes out
    timers.sweep()
    assert reminders(c).count() == 1
    contracts.contract_request_revision(contract_id=c.pk, user=client_user, reason="色味を調整してください")
    clock.shift(timedelta(hours=1))
    contracts.contract_deliver(contract_id=c.pk, user=worker, body="再納品です。")
    new_due = START + timedelta(days=11, hours=1)
    clock.move_to(new_due - timedelta(days=3))
    timers.sweep()
    clock.move_to(new_due - timedelta(days=1))
    timers.sweep()
    assert reminders(c).count() == 3


# --- lapses -----------------------------------------------------------------------------------------------

def test_offer_lapses_after_seven_days(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="offered")
    due = START + timedelta(days=7)
    clock.move_to(due - µs)
    timers.sweep()
    assert fresh(c).state == "offered"
    clock.move_to(due)
    assert timers.sweep() == [f"contract {c.pk}: lapse"]
    c = fresh(c)
    assert c.state == "lapsed"
    assert c.due_at is None
    assert AuditEvent.objects.filter(subject_id=c.pk, subject_type__model="contract", to_state="lapsed",
                                     actor_role="system").count() == 1
    last = c.thread.messages.order_by("-id").first()
    assert (last.kind, last.body) == ("system", "承諾期限を過ぎたため、オファーは失効しました。")
    with pytest.raises(DomainError) as refused:
        contracts.contract_simple_action(contract_id=c.pk, user=worker, action="accept_offer")
    assert refused.value.code == "not_allowed"
    assert "オファー期限切れ" in refused.value.message


def test_funding_window_cancels_seven_days_after_acceptance(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="offered")
    clock.shift(timedelta(days=2))
    contracts.contract_simple_action(contract_id=c.pk, user=worker, action="accept_offer")
    due = START + timedelta(days=9)
    assert fresh(c).due_at == due
    clock.move_to(due - µs)
    timers.sweep()
    assert fresh(c).state == "awaiting_funding"
    clock.move_to(due)
    assert timers.sweep() == [f"contract {c.pk}: expire_funding"]
    c = fresh(c)
    assert c.state == "cancelled"
    assert AuditEvent.objects.filter(subject_id=c.pk, subject_type__model="contract", action="expire_funding",
                                     from_state="awaiting_funding", to_state="cancelled").count() == 1
    assert "自動的にキャンセル" in c.thread.messages.order_by("-id").first().body
    assert not JournalEntry.objects.filter(ref=c.ledger_ref).exists()
    with pytest.raises(DomainError):
        contracts.contract_fund(contract_id=c.pk, user=client_user)
    assert not JournalEntry.objects.filter(ref=c.ledger_ref).exists()


def test_funded_contract_has_no_timer(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    clock.shift(timedelta(days=90))
    assert timers.sweep() == []
    assert fresh(c).state == "funded"


# --- nothing fires once the state moved on ------------------------------------------------------------------

def test_client_accepts_on_day_six_then_the_timer_does_nothing(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="delivered", amount=100_000)
    clock.shift(timedelta(days=6))
    contracts.contract_simple_action(contract_id=c.pk, user=client_user, action="accept")
    clock.move_to(START + timedelta(days=7))
    assert timers.sweep() == []
    clock.shift(timedelta(days=7))
    assert timers.sweep() == []
    c = fresh(c)
    assert c.state == "accepted"
    assert releases(c) == 1
    assert accepted_events(c).get().actor == client_user
    assert balance(worker_code(worker.pk)) == 80_000


def test_worker_accepts_offer_on_day_six_so_the_offer_never_lapses(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="offered")
    clock.shift(timedelta(days=6, hours=23))
    contracts.contract_simple_action(contract_id=c.pk, user=worker, action="accept_offer")
    clock.move_to(START + timedelta(days=7))
    assert timers.sweep() == []
    assert fresh(c).state == "awaiting_funding"


# --- manage.py tick ---------------------------------------------------------------------------------------

def test_tick_command_prints_what_it_did(clock, client_user, worker):
    delivered = factories.contract(client_user, worker, state="delivered")
    offered = factories.contract(client_user, worker, state="offered")
    clock.shift(timedelta(days=7))
    out = StringIO()
    call_command("tick", stdout=out)
    text = out.getvalue()
    assert f"contract {delivered.pk}: deem_accept" in text
    assert f"contract {offered.pk}: lapse" in text
    assert "2 timer(s) settled" in text
    assert fresh(delivered).state == "accepted"
    assert fresh(offered).state == "lapsed"

    again = StringIO()
    call_command("tick", stdout=again)
    assert "0 timer(s) settled" in again.getvalue()
    assert releases(delivered) == 1


# --- settle on read -----------------------------------------------------------------------------------------

def test_reading_a_contract_after_the_deadline_settles_it_without_a_sweep(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="delivered")
    clock.move_to(START + timedelta(days=7))
    seen = selectors.contract_get(contract_id=c.pk, user=worker)
    assert seen.state == "accepted"
    assert releases(c) == 1
    assert selectors.contract_get(contract_id=c.pk, user=client_user).state == "accepted"
    assert releases(c) == 1
    assert timers.sweep() == []


def test_reading_before_the_deadline_changes_nothing(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="delivered")
    clock.move_to(START + timedelta(days=7) - µs)
    assert selectors.contract_get(contract_id=c.pk, user=client_user).state == "delivered"
    assert releases(c) == 0


def test_a_stranger_reading_after_the_deadline_gets_404(clock, client_user, worker, stranger):
    c = factories.contract(client_user, worker, state="delivered")
    clock.move_to(START + timedelta(days=8))
    with pytest.raises(NotFound):
        selectors.contract_get(contract_id=c.pk, user=stranger)


def test_client_accept_after_the_deadline_is_refused_because_the_timer_settled_first(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="delivered")
    clock.move_to(START + timedelta(days=7))
    with pytest.raises(DomainError) as refused:
        contracts.contract_simple_action(contract_id=c.pk, user=client_user, action="accept")
    assert refused.value.code == "not_allowed"
    # The deadline won, and it stays won: the deemed acceptance is committed even though the click was refused.
    c = fresh(c)
    assert c.state == "accepted"
    assert releases(c) == 1
    assert accepted_events(c).get().actor_role == "system"
    assert timers.sweep() == []
    assert releases(c) == 1


def test_client_accept_one_microsecond_before_the_deadline_wins(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="delivered")
    clock.move_to(START + timedelta(days=7) - µs)
    contracts.contract_simple_action(contract_id=c.pk, user=client_user, action="accept")
    clock.move_to(START + timedelta(days=7))
    assert timers.sweep() == []
    assert accepted_events(fresh(c)).get().actor == client_user
    assert releases(c) == 1


def test_a_late_sweep_sends_only_the_most_urgent_reminder(client_user, worker):
    """If the sweeper was down through the 3-day reminder, the client gets "あと1日", not a stale "あと3日"."""
    c = factories.contract(client_user, worker, state="delivered")
    with time_machine.travel(c.due_at - timedelta(hours=12), tick=False):
        timers.sweep()
    titles = list(Notification.objects.filter(kind="contract.inspection_reminder").values_list("title", flat=True))
    assert len(titles) == 1 and "あと1日" in titles[0]
    c.refresh_from_db()
    assert c.remind_at is None
