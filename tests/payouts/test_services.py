"""Withdrawals move money exactly: request = available → pending, paid = pending → out of Anshin, reversed or
cancelled = pending → available. Refusals (below the minimum, above the balance, no bank account, a second
decision) change nothing; the operators' queue item opens with the request and closes with the decision,
its note and an audit event; the worker is told at each step."""

import pytest

from anshin import rules
from anshin.core import calendar
from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import GATEWAY, Line, balance, worker_code
from anshin.notifications.models import Notification
from anshin.ops.models import QueueItem
from anshin.payouts import services
from anshin.payouts.models import Withdrawal
from anshin.payouts.services import pending_code
from tests import ops as build
from tests.ledger_checks import assert_ledger_sound, assert_replay_writes_nothing, ledger_size
from tests.payouts.conftest import BANK


def money(user) -> tuple[int, int]:
    return balance(worker_code(user.pk)), balance(pending_code(user.pk))


def refused(call, code: str) -> DomainError:
    size = ledger_size()
    count = Withdrawal.objects.count()
    with pytest.raises(DomainError) as error:
        call()
    assert error.value.code == code, error.value.code
    assert (ledger_size(), Withdrawal.objects.count()) == (size, count)  # bad input changes nothing
    return error.value


# --- requesting -----------------------------------------------------------------------------------------------


def test_a_request_moves_the_amount_from_available_to_pending(worker, earned, bank):
    w = services.withdrawal_request(user=worker, amount=10_000)
    assert w.state == "requested"
    assert money(worker) == (earned - 10_000, 10_000)
    entry = JournalEntry.objects.get(idempotency_key=f"withdrawal:{w.pk}:request")
    assert dict(entry.postings.values_list("account__code", "amount")) == {
        worker_code(worker.pk): -10_000, pending_code(worker.pk): 10_000}
    assert_ledger_sound()


def test_the_request_keeps_a_snapshot_of_the_bank_account(worker, earned, bank):
    w = services.withdrawal_request(user=worker, amount=5_000)
    services.bank_account_save(user=worker, data={**BANK, "bank_name": "みらい銀行", "account_number": "7654321"})
    w.refresh_from_db()
    assert (w.bank_name, w.account_number, w.holder) == ("安心銀行", "1234567", "ヤマダ　ハナコ")


def test_minimum_and_whole_balance_boundaries(worker, earned, bank):
    error = refused(lambda: services.withdrawal_request(user=worker, amount=rules.WITHDRAWAL_MIN - 1), "below_minimum")
    assert "¥1,000以上" in error.message
    error = refused(lambda: services.withdrawal_request(user=worker, amount=earned + 1), "insufficient_balance")
    assert f"¥{earned:,}" in error.message and error.status == 409
    services.withdrawal_request(user=worker, amount=rules.WITHDRAWAL_MIN)
    services.withdrawal_request(user=worker, amount=earned - rules.WITHDRAWAL_MIN)  # exactly the rest
    assert money(worker) == (0, earned)
    refused(lambda: services.withdrawal_request(user=worker, amount=rules.WITHDRAWAL_MIN), "insufficient_balance")


@pytest.mark.parametrize("amount", [1_000.0, "1000", True])
def test_amount_must_be_integer_yen(worker, earned, bank, amount):
    refused(lambda: services.withdrawal_request(user=worker, amount=amount), "not_integer")


def test_a_bank_account_is_required(worker, earned):
    error = refused(lambda: services.withdrawal_request(user=worker, amount=5_000), "no_bank_account")
    assert "口座" in error.message


def test_nothing_earned_nothing_to_withdraw(worker, bank):
    refused(lambda: services.withdrawal_request(user=worker, amount=rules.WITHDRAWAL_MIN), "insufficient_balance")


def test_a_repeated_request_key_asks_only_once(worker, earned, bank):
    first = services.withdrawal_request(user=worker, amount=3_000, request_key="form-1")
    again = services.withdrawal_request(user=worker, amount=3_000, request_key="form-1")
    assert again.pk == first.pk
    assert money(worker) == (earned - 3_000, 3_000)
    refused(lambda: services.withdrawal_request(user=worker, amount=4_000, request_key="form-1"),
            "idempotency_conflict")
    other = services.withdrawal_request(user=worker, amount=3_000, request_key="form-2")
    assert other.pk != first.pk


def test_the_request_opens_a_queue_item_due_in_business_days_and_tells_the_worker(worker, earned, bank):
    w = services.withdrawal_request(user=worker, amount=8_000)
    item = build.item_for(w, QueueItem.Kind.WITHDRAWAL)
    assert item.state == "open" and item.concerns == worker and item.opened_by == worker
    assert item.due_at == calendar.add_business_days(w.created_at, rules.WITHDRAWAL_DUE_BUSINESS_DAYS)
    assert "¥8,000" in item.summary and worker.name in item.summary
    note = Notification.objects.get(user=worker, kind="withdrawal.requested")
    assert "¥8,000" in note.title and note.url == "/payouts/"
    assert AuditEvent.objects.filter(subject_type__model="withdrawal", subject_id=w.pk, action="withdrawal_request",
                                     actor=worker).exists()


# --- the operators: pay or reverse ------------------------------------------------------------------------------


def test_paid_money_leaves_anshin_and_the_item_closes_with_the_note(worker, earned, bank, operator):
    w = services.withdrawal_request(user=worker, amount=10_000)
    gateway_before = balance(GATEWAY)
    services.withdrawal_pay(withdrawal_id=w.pk, operator=operator, note="2026/04/02 振込実行（みずほ 受付番号123）")
    w.refresh_from_db()
    assert w.state == "paid" and w.decided_by == operator and w.internal_note.startswith("2026/04/02")
    assert money(worker) == (earned - 10_000, 0)
    assert balance(GATEWAY) == gateway_before + 10_000
    item = build.item_for(w, QueueItem.Kind.WITHDRAWAL)
    assert (item.state, item.resolution, item.closed_by) == ("closed", "paid", operator)
    assert item.note.startswith("2026/04/02")
    assert AuditEvent.objects.filter(subject_type__model="queueitem", subject_id=item.pk,
                                     action="queue_close:paid", actor=operator).exists()
    assert AuditEvent.objects.get(subject_type__model="withdrawal", subject_id=w.pk, action="pay").payload["note"]
    assert Notification.objects.filter(user=worker, kind="withdrawal.paid").count() == 1
    assert_ledger_sound()


def test_a_reversed_withdrawal_returns_the_money_and_tells_the_reason_not_the_note(worker, earned, bank, operator):
    w = services.withdrawal_request(user=worker, amount=10_000)
    services.withdrawal_reverse(withdrawal_id=w.pk, operator=operator, note="名義がカナ不一致（内部）",
                                reason="holder_mismatch")
    w.refresh_from_db()
    assert (w.state, w.reverse_reason) == ("reversed", "holder_mismatch")
    assert money(worker) == (earned, 0)
    item = build.item_for(w, QueueItem.Kind.WITHDRAWAL)
    assert (item.state, item.resolution) == ("closed", "reversed")
    told = Notification.objects.get(user=worker, kind="withdrawal.reversed")
    assert "口座名義" in told.body and "内部" not in told.body
    assert_ledger_sound()


def test_decisions_need_a_note_a_reason_and_an_operator(worker, earned, bank, operator, stranger):
    w = services.withdrawal_request(user=worker, amount=10_000)
    refused(lambda: services.withdrawal_pay(withdrawal_id=w.pk, operator=operator, note="  "), "note_required")
    refused(lambda: services.withdrawal_reverse(withdrawal_id=w.pk, operator=operator, note="x", reason="why"),
            "invalid_reason")
    for someone in (worker, stranger):
        with pytest.raises(NotFound):
            services.withdrawal_pay(withdrawal_id=w.pk, operator=someone, note="払います")
    w.refresh_from_db()
    assert w.state == "requested" and build.item_for(w).state == "open"


def test_an_operator_cannot_pay_their_own_withdrawal(operator, client_user):
    from tests import factories

    factories.contract(client_user, operator, "accepted", amount=30_000)
    services.bank_account_save(user=operator, data=BANK)
    w = services.withdrawal_request(user=operator, amount=5_000)
    error = refused(lambda: services.withdrawal_pay(withdrawal_id=w.pk, operator=operator, note="自分で"),
                    "own_withdrawal")
    assert error.status == 403


def test_a_withdrawal_is_settled_once(worker, earned, bank, operator):
    w = services.withdrawal_request(user=worker, amount=10_000)
    services.withdrawal_pay(withdrawal_id=w.pk, operator=operator, note="振込済み")
    refused(lambda: services.withdrawal_pay(withdrawal_id=w.pk, operator=operator, note="もう一度"), "not_allowed")
    refused(lambda: services.withdrawal_reverse(withdrawal_id=w.pk, operator=operator, note="x",
                                                reason="bank_rejected"), "not_allowed")
    refused(lambda: services.withdrawal_cancel(withdrawal_id=w.pk, user=worker), "not_allowed")
    # Even past the flow table, the ledger's settle key refuses a second, different settlement.
    with pytest.raises(DomainError) as error:
        from anshin.ledger.services import entry_post

        entry_post(key=f"withdrawal:{w.pk}:settle", kind="withdrawal_reversed", ref=w.ledger_ref,
                   lines=[Line(pending_code(worker.pk), -10_000), Line(worker_code(worker.pk), 10_000)])
    assert error.value.code == "idempotency_conflict"
    assert money(worker) == (earned - 10_000, 0)


def test_replaying_the_ledger_keys_writes_nothing(worker, earned, bank, operator):
    w = services.withdrawal_request(user=worker, amount=10_000)
    services.withdrawal_pay(withdrawal_id=w.pk, operator=operator, note="振込済み")
    request = [Line(worker_code(worker.pk), -10_000), Line(pending_code(worker.pk), 10_000)]
    paid = [Line(pending_code(worker.pk), -10_000), Line(GATEWAY, 10_000)]
    for tamper in (False, True):
        assert_replay_writes_nothing(key=f"withdrawal:{w.pk}:request", kind="withdrawal_request", ref=w.ledger_ref,
                                     lines=request, tamper=tamper)
        assert_replay_writes_nothing(key=f"withdrawal:{w.pk}:settle", kind="withdrawal_paid", ref=w.ledger_ref,
                                     lines=paid, tamper=tamper)
    assert money(worker) == (earned - 10_000, 0)


# --- the worker cancels -----------------------------------------------------------------------------------------


def test_the_worker_cancels_before_processing_and_the_money_comes_back(worker, earned, bank, stranger, operator):
    w = services.withdrawal_request(user=worker, amount=6_000)
    with pytest.raises(NotFound):
        services.withdrawal_cancel(withdrawal_id=w.pk, user=stranger)
    with pytest.raises(NotFound):
        services.withdrawal_cancel(withdrawal_id=w.pk, user=operator)  # operators pay or reverse, never cancel
    services.withdrawal_cancel(withdrawal_id=w.pk, user=worker)
    w.refresh_from_db()
    assert w.state == "cancelled"
    assert money(worker) == (earned, 0)
    item = build.item_for(w, QueueItem.Kind.WITHDRAWAL)
    assert (item.state, item.resolution, item.closed_by) == ("closed", "cancelled", None)
    assert AuditEvent.objects.filter(subject_type__model="queueitem", subject_id=item.pk, actor=worker,
                                     action="queue_close:cancelled").exists()
    refused(lambda: services.withdrawal_pay(withdrawal_id=w.pk, operator=operator, note="遅れて"), "not_allowed")
    assert_ledger_sound()
