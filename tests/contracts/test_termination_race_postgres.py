"""Races on PostgreSQL at the 7-day lapse of a 契約途中終了リクエスト: the other side's answer and the sweeper
run at the same instant. Whatever the interleaving: exactly one termination entry, one `terminate` event,
escrow 0 — the late answer gets a clear refusal, never a crash or a deadlock. Just before the lapse, the
answer wins and the sweeper has nothing to settle."""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anshin.contracts import services as contracts
from anshin.contracts.models import Contract, TerminationRequest
from anshin.core import timers
from anshin.core.models import AuditEvent
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import balance, escrow_code
from tests import factories
from tests.race import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
ROUNDS = 100


def assert_terminated_once(c: Contract, req: TerminationRequest, state: str) -> None:
    c = Contract.objects.get(pk=c.pk)
    assert c.state == "terminated"
    assert JournalEntry.objects.filter(ref=c.ledger_ref, kind="termination").count() == 1
    assert AuditEvent.objects.filter(subject_type__model="contract", subject_id=c.pk, action="terminate").count() == 1
    assert balance(escrow_code(c.ledger_ref)) == 0
    assert TerminationRequest.objects.get(pk=req.pk).state == state


def test_the_answer_and_the_sweeper_at_the_lapse_terminate_exactly_once(client_user, worker):
    rng = random.Random(20260407)
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(ROUNDS):
            c = factories.contract(client_user, worker, state="funded", amount=rng.choice([30_000, 150_000]))
            req = contracts.termination_request_create(
                contract_id=c.pk,
                user=worker,
                worker_amount=rng.choice([0, 10_000, 30_000]),
                reason="途中終了をお願いします。",
            )
            clock.move_to(req.due_at)  # exactly the lapse: silence has already become agreement
            action = rng.choice(["agree", "refuse"])
            calls = {
                "client": lambda req=req, action=action: contracts.termination_answer(
                    request_id=req.pk, user=client_user, action=action
                ),
                "tick": timers.sweep,
            }
            order = rng.sample(sorted(calls), k=2)
            outcome = dict(zip(order, run_together(*(calls[name] for name in order)), strict=True))

            assert outcome["tick"][0] == "ok", outcome
            assert outcome["client"][0] == "refused", outcome
            assert outcome["client"][1].code in ("not_allowed", "deadline_passed")
            assert_terminated_once(c, req, "agreed")
            lapse = AuditEvent.objects.get(
                subject_type__model="terminationrequest", subject_id=req.pk, to_state="agreed"
            )
            assert lapse.action == "lapse" and lapse.actor_role == "system"


def test_the_answer_just_before_the_lapse_wins(client_user, worker):
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(20):
            c = factories.contract(client_user, worker, state="funded")
            req = contracts.termination_request_create(
                contract_id=c.pk, user=worker, worker_amount=6_000, reason="途中終了をお願いします。"
            )
            clock.move_to(req.due_at - timedelta(microseconds=1))
            client, tick = run_together(
                lambda req=req: contracts.termination_answer(request_id=req.pk, user=client_user, action="agree"),
                timers.sweep,
            )
            assert client[0] == "ok", client
            assert tick[0] == "ok", tick
            assert not [line for line in tick[1] if line.endswith(": terminate")]
            assert_terminated_once(c, req, "agreed")
            agreed = AuditEvent.objects.get(
                subject_type__model="terminationrequest", subject_id=req.pk, to_state="agreed"
            )
            assert agreed.action == "agree" and agreed.actor == client_user
