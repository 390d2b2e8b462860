"""The ledger (ARCHITECTURE rule 4): balanced entries only, idempotency keys, no negative escrow or balances,
corrections by reversing entries."""

import pytest
from django.db import IntegrityError, transaction

from anshin.core.errors import DomainError
from anshin.ledger.models import Account, JournalEntry, Posting
from anshin.ledger.services import GATEWAY, REVENUE, Line, balance, entry_post, entry_reverse, escrow_code, worker_code

pytestmark = pytest.mark.django_db

ESCROW = escrow_code("contract:1")
WORKER = worker_code(1)


def snapshot() -> dict:
    return {
        "entries": sorted(JournalEntry.objects.values_list("pk", "idempotency_key")),
        "postings": Posting.objects.count(),
        "accounts": sorted(Account.objects.values_list("code", "balance")),
    }


def assert_refused(call, code: str) -> DomainError:
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        call()
    assert refused.value.code == code
    assert snapshot() == before
    return refused.value


def fund(amount: int = 30_000, key: str = "contract:1:fund"):
    return entry_post(key=key, kind="fund", ref="contract:1",
                      lines=[Line(GATEWAY, -amount), Line(ESCROW, amount)])


def test_a_balanced_entry_moves_balances_and_postings_sum_to_zero():
    entry, created = fund(30_000)
    assert created
    assert balance(GATEWAY) == -30_000
    assert balance(ESCROW) == 30_000
    assert sorted(entry.postings.values_list("account__code", "amount")) == [(ESCROW, 30_000), (GATEWAY, -30_000)]
    assert Account.objects.get(code=GATEWAY).allow_negative
    assert not Account.objects.get(code=ESCROW).allow_negative


@pytest.mark.parametrize("lines", [
    [Line(GATEWAY, -30_000), Line(ESCROW, 29_999)],
    [Line(ESCROW, 1)],
    [],
    [Line(ESCROW, 0), Line(GATEWAY, 0)],
    [Line(GATEWAY, -100), Line(ESCROW, 50), Line(REVENUE, 49)],
])
def test_unbalanced_entries_are_refused_and_write_nothing(lines):
    error = assert_refused(lambda: entry_post(key="k", kind="fund", lines=lines), code="unbalanced")
    assert "貸借" in error.message


@pytest.mark.parametrize("lines", [
    [Line(GATEWAY, -100.0), Line(ESCROW, 100.0)],
    [Line(GATEWAY, -100.5), Line(ESCROW, 100.5)],
    [Line(GATEWAY, -1), Line(ESCROW, True)],
])
def test_non_integer_amounts_are_refused(lines):
    assert_refused(lambda: entry_post(key="k", kind="fund", lines=lines), code="not_integer")


def test_replaying_a_key_returns_the_first_entry_and_writes_nothing():
    first, created = fund(30_000)
    before = snapshot()
    again, created_again = entry_post(key="contract:1:fund", kind="fund", ref="contract:1",
                                      lines=[Line(ESCROW, 30_000), Line(GATEWAY, -30_000)])  # order does not matter
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert snapshot() == before
    assert balance(ESCROW) == 30_000


@pytest.mark.parametrize(("kind", "lines"), [
    ("fund", [Line(GATEWAY, -31_000), Line(ESCROW, 31_000)]),
    ("fund", [Line(GATEWAY, -30_000), Line(escrow_code("contract:2"), 30_000)]),
    ("refund", [Line(GATEWAY, -30_000), Line(ESCROW, 30_000)]),
])
def test_a_different_payload_under_the_same_key_is_refused(kind, lines):
    fund(30_000)
    error = assert_refused(lambda: entry_post(key="contract:1:fund", kind=kind, lines=lines),
                           code="idempotency_conflict")
    assert error.status == 409


def test_escrow_cannot_go_negative():
    fund(30_000)
    assert_refused(lambda: entry_post(key="overdraw", kind="release",
                                      lines=[Line(ESCROW, -30_001), Line(WORKER, 30_001)]),
                   code="insufficient_funds")
    assert balance(ESCROW) == 30_000
    assert not Account.objects.filter(code=WORKER).exists()  # not even the account row was left behind


def test_an_empty_escrow_cannot_pay_out():
    error = assert_refused(lambda: entry_post(key="from-nothing", kind="release",
                                              lines=[Line(ESCROW, -1), Line(WORKER, 1)]),
                           code="insufficient_funds")
    assert "残高が不足" in error.message


def test_escrow_can_be_emptied_exactly():
    fund(30_000)
    entry_post(key="release", kind="release", lines=[Line(ESCROW, -30_000), Line(WORKER, 24_000),
                                                     Line(REVENUE, 6_000)])
    assert (balance(ESCROW), balance(WORKER), balance(REVENUE)) == (0, 24_000, 6_000)


def test_the_database_refuses_a_negative_balance_even_past_the_service():
    fund(30_000)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(code=ESCROW).update(balance=-1)
    assert balance(ESCROW) == 30_000


def test_a_zero_posting_is_refused_by_the_database():
    entry, _ = fund(30_000)
    with pytest.raises(IntegrityError), transaction.atomic():
        Posting.objects.create(entry=entry, account=Account.objects.get(code=ESCROW), amount=0)


def test_a_reversal_restores_every_balance_and_points_at_the_original():
    original, _ = fund(30_000)
    reversal = entry_reverse(entry=original, key="contract:1:fund:reversal", memo="二重決済の取消")
    assert reversal.kind == "reversal"
    assert reversal.reverses == original
    assert original.reversed_by == reversal
    assert reversal.ref == "contract:1"
    assert sorted(reversal.postings.values_list("account__code", "amount")) == [(ESCROW, -30_000),
                                                                                 (GATEWAY, 30_000)]
    assert (balance(ESCROW), balance(GATEWAY)) == (0, 0)
    # replaying the reversal writes nothing
    before = snapshot()
    assert entry_reverse(entry=original, key="contract:1:fund:reversal").pk == reversal.pk
    assert snapshot() == before


def test_a_reversal_cannot_overdraw_an_account_that_was_spent():
    fund(30_000)
    released, _ = entry_post(key="release", kind="release", lines=[Line(ESCROW, -30_000), Line(WORKER, 30_000)])
    entry_post(key="payout", kind="payout", lines=[Line(WORKER, -30_000), Line(GATEWAY, 30_000)])
    assert_refused(lambda: entry_reverse(entry=released, key="release:reversal"), code="insufficient_funds")


def test_cached_balances_equal_the_sum_of_postings():
    fund(30_000)
    fund(5_000, key="contract:1:fund-extra")
    entry_post(key="release", kind="release", lines=[Line(ESCROW, -35_000), Line(WORKER, 28_000),
                                                     Line(REVENUE, 7_000)])
    for account in Account.objects.all():
        assert account.balance == sum(account.postings.values_list("amount", flat=True))
