"""Races on PostgreSQL: at the very instant of the deadline, the client's click, the sweeper and a reader run at
once. Whatever the interleaving: exactly one release, one ledger entry, one audit event, escrow 0 — and the
loser gets a clear refusal, never a crash or a deadlock."""

import random
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from anshin.contracts import selectors
from anshin.contracts import services as contracts
from anshin.contracts.models import Contract
from anshin.core import timers
from anshin.core.errors import DomainError
from anshin.core.models import AuditEvent
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import balance, escrow_code
from tests import factories
from tests.race import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
ROUNDS = 100


def assert_settled_once(c: Contract) -> None:
    c = Contract.objects.get(pk=c.pk)
    assert c.state == "accepted"
    assert JournalEntry.objects.filter(kind="release", ref=c.ledger_ref).count() == 1
    assert JournalEntry.objects.filter(ref=c.ledger_ref).count() == 2  # fund + release
    assert AuditEvent.objects.filter(subject_type__model="contract", subject_id=c.pk, to_state="accepted").count() == 1
    assert balance(escrow_code(c.ledger_ref)) == 0


def test_client_accept_and_sweeper_at_the_deadline_settle_exactly_once(client_user, worker):
    rng = random.Random(20260401)
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(ROUNDS):
            c = factories.contract(client_user, worker, state="delivered", amount=rng.choice([30_000, 150_000]))
            clock.move_to(c.due_at)  # exactly the deadline: the clock has decided, the click comes too late
            calls = {
                "client": lambda c=c: contracts.contract_simple_action(contract_id=c.pk, user=client_user,
                                                                       action="accept"),
                "tick": timers.sweep,
            }
            order = rng.sample(sorted(calls), k=2)
            outcome = dict(zip(order, run_together(*(calls[name] for name in order)), strict=True))

            assert outcome["tick"][0] == "ok", outcome
            assert outcome["client"][0] == "refused", outcome
            # not_allowed: the state moved on; deadline_passed: the deadline fell between settling and locking
            assert outcome["client"][1].code in ("not_allowed", "deadline_passed")
            assert_settled_once(c)
            assert AuditEvent.objects.get(subject_type__model="contract", subject_id=c.pk,
                                          to_state="accepted").actor_role == "system"


def test_client_accept_sweeper_and_reader_at_the_deadline(client_user, worker):
    rng = random.Random(7)
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(30):
            c = factories.contract(client_user, worker, state="delivered")
            clock.move_to(c.due_at)
            calls = [
                lambda c=c: contracts.contract_simple_action(contract_id=c.pk, user=client_user, action="accept"),
                timers.sweep,
                lambda c=c: selectors.contract_get(contract_id=c.pk, user=worker),
                lambda c=c: contracts.contract_settle_due(c.pk),
            ]
            rng.shuffle(calls)
            results = run_together(*calls)
            assert not [r for r in results if r[0] == "crash"], results
            assert sum(r[0] == "refused" for r in results) == 1  # the client's click
            assert_settled_once(c)


def test_client_accept_just_before_the_deadline_races_the_sweeper(client_user, worker):
    """One microsecond before the deadline the client's click wins and the sweeper has nothing to do."""
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(20):
            c = factories.contract(client_user, worker, state="delivered")
            clock.move_to(c.due_at - timedelta(microseconds=1))
            client, tick = run_together(
                lambda c=c: contracts.contract_simple_action(contract_id=c.pk, user=client_user, action="accept"),
                timers.sweep,
            )
            assert client[0] == "ok", client
            assert tick[0] == "ok", tick
            assert not [line for line in tick[1] if "deem_accept" in line]  # reminders may go out, no settling
            assert_settled_once(c)
            assert AuditEvent.objects.get(subject_type__model="contract", subject_id=c.pk,
                                          to_state="accepted").actor == client_user


def test_client_holding_the_lock_when_the_sweeper_comes_still_leaves_exactly_one_release(client_user, worker,
                                                                                         monkeypatch):
    """The interleaving that matters, forced: the client's request locks the contract and settles the due
    timer; the sweeper arrives while that lock is held (SKIP LOCKED: it moves on); then the client's click is
    refused. The deemed acceptance must survive the refusal (it is committed on its own), or nobody would
    settle the contract."""
    locked, swept = threading.Event(), threading.Event()
    original_settle = contracts._settle

    def settle_then_let_the_sweeper_in(contract):
        action = original_settle(contract)
        if threading.current_thread().name == "client":
            locked.set()
            swept.wait(timeout=10)
        return action

    monkeypatch.setattr(contracts, "_settle", settle_then_let_the_sweeper_in)
    with time_machine.travel(START, tick=False) as clock:
        c = factories.contract(client_user, worker, state="delivered")
        clock.move_to(c.due_at)
        outcome = {}

        def client():
            try:
                contracts.contract_simple_action(contract_id=c.pk, user=client_user, action="accept")
                outcome["client"] = "ok"
            except DomainError as error:
                outcome["client"] = error.code
            finally:
                locked.set()
                connection.close()

        def sweeper():
            try:
                locked.wait(timeout=10)
                outcome["tick"] = timers.sweep()
            finally:
                swept.set()
                connection.close()

        threads = [threading.Thread(target=client, name="client"), threading.Thread(target=sweeper, name="tick")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert outcome["client"] in ("not_allowed", "deadline_passed")
        assert outcome["tick"] == []  # it skipped the locked row
        assert_settled_once(c)


def test_two_sweepers_over_twenty_due_contracts_settle_each_once(client_user, worker):
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            batch = [factories.contract(client_user, worker, state="delivered") for _ in range(20)]
            clock.shift(timedelta(days=7))
            first, second = run_together(lambda: timers.sweep(batch=3), lambda: timers.sweep(batch=3))
            assert first[0] == second[0] == "ok", (first, second)
            settled = [line for line in first[1] + second[1] if line.endswith(": deem_accept")]
            assert sorted(settled) == sorted(f"contract {c.pk}: deem_accept" for c in batch)
            for c in batch:
                assert_settled_once(c)
            assert timers.sweep() == []
