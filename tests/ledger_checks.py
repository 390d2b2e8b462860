"""Ledger checks shared by the state machines of contracts and orders."""

from django.db.models import Count, Sum

from anshin.core.errors import DomainError
from anshin.ledger.models import Account, JournalEntry, Posting
from anshin.ledger.services import GATEWAY, Line, entry_post


def ledger_size() -> tuple[int, int, list]:
    return (JournalEntry.objects.count(), Posting.objects.count(),
            sorted(Account.objects.values_list("code", "balance")))


def assert_ledger_sound() -> None:
    """Every entry balances and has two sides; no account but the gateway is negative (and only the gateway
    may be); cached balances equal the sum of their postings."""
    assert not Posting.objects.values("entry").annotate(total=Sum("amount")).exclude(total=0).exists()
    assert not JournalEntry.objects.annotate(n=Count("postings")).filter(n__lt=2).exists()
    assert not Account.objects.filter(balance__lt=0).exclude(code=GATEWAY).exists()
    assert set(Account.objects.filter(allow_negative=True).values_list("code", flat=True)) <= {GATEWAY}
    sums = dict(Posting.objects.values_list("account__code").annotate(total=Sum("amount")))
    for code, cached in Account.objects.values_list("code", "balance"):
        assert cached == sums.get(code, 0), code


def assert_replay_writes_nothing(*, key: str, kind: str, ref: str, lines: list[Line], tamper: bool) -> None:
    """Replaying a used idempotency key returns the first entry; a different payload under it is refused."""
    first = JournalEntry.objects.filter(idempotency_key=key).first()
    if first is None:
        return
    size = ledger_size()
    if tamper:
        try:
            entry_post(key=key, kind=kind, ref=ref, lines=[Line(line.account, line.amount * 2) for line in lines])
        except DomainError as error:
            assert error.code == "idempotency_conflict"
        else:
            raise AssertionError("a different payload under a used key was accepted")
    else:
        entry, created = entry_post(key=key, kind=kind, ref=ref, lines=lines)
        assert (entry.pk, created) == (first.pk, False)
    assert ledger_size() == size
