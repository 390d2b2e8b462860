"""Races on PostgreSQL for the clock's batch path: two sweepers claiming batches of due deemed acceptances at
once (SKIP LOCKED: disjoint batches), a client clicking 検収合格 and a reader opening the contract at the same
instant. Whatever the interleaving: every contract settled exactly once — one release, one acceptance event,
one system message, one pair of notifications, one review window, escrow 0 — and the click is refused."""

import random
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anshin.contracts import selectors
from anshin.contracts import services as contracts
from anshin.contracts.models import Contract, TerminationRequest
from anshin.core import timers
from anshin.core.models import AuditEvent
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import balance, escrow_code
from anshin.messaging.models import Message
from anshin.notifications.models import Notification
from anshin.reviews.models import ReviewWindow
from tests import factories
from tests.race import run_named

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
ROUNDS = 3
PER_ROUND = 12


def assert_accepted_once(c: Contract) -> None:
    c = Contract.objects.get(pk=c.pk)
    assert c.state == "accepted"
    assert JournalEntry.objects.filter(kind="release", ref=c.ledger_ref).count() == 1
    assert AuditEvent.objects.filter(subject_type__model="contract", subject_id=c.pk, to_state="accepted").count() == 1
    told = Message.objects.filter(thread__contract=c, kind="system", body__startswith="検収期限を過ぎたため")
    assert told.count() == 1
    assert Notification.objects.filter(kind="contract.deem_accept", url=f"/contracts/{c.pk}/").count() == 2
    assert ReviewWindow.objects.filter(contract=c).count() == 1
    assert balance(escrow_code(c.ledger_ref)) == 0


def test_two_sweepers_and_a_client_at_the_deadline_settle_each_contract_once(client_user, worker, monkeypatch):
    monkeypatch.setattr(timers, "SETTLE_BATCH_SIZE", 3)  # many small batches, so the sweepers interleave
    rng = random.Random(20261127)
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(ROUNDS):
            due = [factories.contract(client_user, worker, state="delivered", amount=rng.choice([30_000, 150_000]))
                   for _ in range(PER_ROUND)]
            with_request = due[rng.randrange(PER_ROUND)]  # left to the per-row path; voided as it settles
            clock.shift(60)  # the request falls due a minute after the contracts
            contracts.termination_request_create(contract_id=with_request.pk, user=worker, reason="家庭の事情のため")
            clicked = due[rng.randrange(PER_ROUND)]
            clock.move_to(due[-1].due_at)

            outcome = run_named(
                first=timers.sweep,
                second=timers.sweep,
                client=lambda c=clicked: contracts.contract_simple_action(contract_id=c.pk, user=client_user,
                                                                          action="accept"),
                reader=lambda c=clicked: selectors.contract_get(contract_id=c.pk, user=worker),
            )

            assert not [r for r in outcome.values() if r[0] == "crash"], outcome
            assert outcome["client"][0] == "refused", outcome  # the clock decided first
            assert outcome["client"][1].code in ("not_allowed", "deadline_passed")
            lines = [r for r in outcome["first"][1] + outcome["second"][1] if r.endswith(": deem_accept")]
            assert len(lines) == len(set(lines))  # never by both sweepers
            everyone = {f"contract {c.pk}: deem_accept" for c in due}
            assert everyone - {f"contract {clicked.pk}: deem_accept"} <= set(lines) <= everyone  # the clicked one
            # may have been settled on the spot by the click or the reader instead
            for c in due:
                assert_accepted_once(c)
            assert TerminationRequest.objects.get(contract=with_request).state == "void"
