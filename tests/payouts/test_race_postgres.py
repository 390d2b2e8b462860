"""Races on PostgreSQL, each call in its own thread and connection, started together: two requests for more
than half the balance each (one passes, the other is refused cleanly — never an overdraft, never a 500), a
double submit with the same key, and the worker cancelling while an operator pays or reverses."""

import pytest

from anshin.ledger.models import JournalEntry
from anshin.ledger.services import GATEWAY, balance, worker_code
from anshin.ops.models import QueueItem
from anshin.payouts import services
from anshin.payouts.models import Withdrawal
from anshin.payouts.services import pending_code
from tests import ops as build
from tests.ledger_checks import assert_ledger_sound
from tests.race import run_named, run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROUNDS = 15


def money(user) -> tuple[int, int]:
    return balance(worker_code(user.pk)), balance(pending_code(user.pk))


def test_two_requests_for_more_than_half_the_balance_one_is_refused(worker, earned, bank):
    available = earned
    for _ in range(ROUNDS):
        amount = available // 2 + 1000
        results = run_together(*(lambda a=amount: services.withdrawal_request(user=worker, amount=a) for _ in range(2)))
        outcomes = sorted(r[0] for r in results)
        assert outcomes == ["ok", "refused"], results
        refusal = next(r[1] for r in results if r[0] == "refused")
        assert refusal.code == "insufficient_balance" and "出金可能額" in refusal.message
        available -= amount
        assert money(worker)[0] == available >= 0
        # put it back for the next round
        winner = next(r[1] for r in results if r[0] == "ok")
        services.withdrawal_cancel(withdrawal_id=winner.pk, user=worker)
        available += amount
        assert money(worker) == (earned, 0)
    assert_ledger_sound()


def test_the_same_request_key_at_once_asks_once(worker, earned, bank):
    for n in range(ROUNDS):
        key = f"double-{n}"
        results = run_together(*(lambda k=key: services.withdrawal_request(user=worker, amount=1_000, request_key=k)
                                 for _ in range(3)))
        assert [r[0] for r in results] == ["ok"] * 3, results
        assert len({r[1].pk for r in results}) == 1
        assert Withdrawal.objects.filter(user=worker, request_key=key).count() == 1
    assert money(worker) == (earned - ROUNDS * 1_000, ROUNDS * 1_000)
    assert_ledger_sound()


@pytest.mark.parametrize("decision", ["pay", "reverse"])
def test_cancel_and_an_operator_decision_at_once_settle_exactly_once(worker, earned, bank, operator, decision):
    for _ in range(ROUNDS):
        w = services.withdrawal_request(user=worker, amount=2_000)
        gateway_before = balance(GATEWAY)
        decide = (
            (lambda w=w: services.withdrawal_pay(withdrawal_id=w.pk, operator=operator, note="振込済み"))
            if decision == "pay"
            else (lambda w=w: services.withdrawal_reverse(withdrawal_id=w.pk, operator=operator, note="差し戻し",
                                                      reason="bank_rejected"))
        )
        outcome = run_named(cancel=lambda w=w: services.withdrawal_cancel(withdrawal_id=w.pk, user=worker),
                            decide=decide)
        assert sorted(o for o, _ in outcome.values()) == ["ok", "refused"], outcome
        loser = next(v for o, v in outcome.values() if o == "refused")
        assert loser.code == "not_allowed"
        w.refresh_from_db()
        assert JournalEntry.objects.filter(ref=w.ledger_ref).count() == 2  # request + one settlement
        assert build.item_for(w, QueueItem.Kind.WITHDRAWAL).state == "closed"
        paid = w.state == "paid"
        assert balance(GATEWAY) == gateway_before + (2_000 if paid else 0)
        assert money(worker)[1] == 0
    assert_ledger_sound()


def test_requests_cancels_and_payments_of_one_worker_never_deadlock(worker, earned, bank, operator):
    for _ in range(ROUNDS):
        a = services.withdrawal_request(user=worker, amount=1_000)
        b = services.withdrawal_request(user=worker, amount=1_000)
        before_available, _ = money(worker)
        results = run_together(
            lambda: services.withdrawal_request(user=worker, amount=1_000),
            lambda a=a: services.withdrawal_cancel(withdrawal_id=a.pk, user=worker),
            lambda b=b: services.withdrawal_pay(withdrawal_id=b.pk, operator=operator, note="振込済み"),
        )
        assert [r[0] for r in results] == ["ok"] * 3, results
        assert money(worker)[0] == before_available  # −1,000 requested, +1,000 cancelled
        assert_ledger_sound()
        services.withdrawal_cancel(withdrawal_id=results[0][1].pk, user=worker)  # each round pays out ¥1,000 only
    assert money(worker) == (earned - ROUNDS * 1_000, 0)
