"""Posting money. Every command carries an idempotency key: a replay returns the first entry, a different
payload under the same key is refused. Accounts are locked in code order, so postings never deadlock."""

import hashlib
import json
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from anshin.core import bulk, clock
from anshin.core.errors import DomainError
from anshin.ledger.models import Account, JournalEntry, Posting

GATEWAY = "gateway"  # money outside Anshin (cards, bank transfers); the only account allowed below zero
REVENUE = "revenue"


class LedgerError(DomainError):
    pass


@dataclass(frozen=True)
class Line:
    account: str
    amount: int


def escrow_code(ref: str) -> str:
    return f"escrow:{ref}"


def worker_code(user_id: int) -> str:
    return f"worker:{user_id}"


def account_get_or_create(code: str, *, user=None) -> Account:
    account, _ = Account.objects.get_or_create(code=code, defaults=_account_defaults(code, user))
    return account


def _account_defaults(code: str, user=None) -> dict:
    names = {GATEWAY: "決済ゲートウェイ", REVENUE: "プラットフォーム手数料収入"}
    name = names.get(code) or ("エスクロー " if code.startswith("escrow:") else "残高 ") + code.split(":", 1)[-1]
    return {"name": name, "user": user, "allow_negative": code == GATEWAY}


def _hash(kind: str, lines: list[Line]) -> str:
    data = json.dumps([kind, sorted((line.account, line.amount) for line in lines)])
    return hashlib.sha256(data.encode()).hexdigest()


def entry_post(*, key: str, kind: str, lines: list[Line], memo: str = "", ref: str = "",
               reverses: JournalEntry | None = None) -> tuple[JournalEntry, bool]:
    """Post one balanced entry. Returns (entry, created)."""
    lines = _checked(lines)
    payload_hash = _hash(kind, lines)
    existing = JournalEntry.objects.filter(idempotency_key=key).first()
    if existing:
        return _replay(existing, payload_hash), False
    try:
        with transaction.atomic():
            entry = JournalEntry.objects.create(
                idempotency_key=key, kind=kind, memo=memo, ref=ref, payload_hash=payload_hash,
                reverses=reverses, created_at=clock.now(),
            )
            codes = sorted({line.account for line in lines})
            for code in codes:
                account_get_or_create(code)
            accounts = {a.code: a for a in Account.objects.select_for_update().filter(code__in=codes).order_by("code")}
            _move_balances(accounts, lines)
            Posting.objects.bulk_create(
                [Posting(entry=entry, account=accounts[line.account], amount=line.amount) for line in lines]
            )
            for account in accounts.values():
                account.save(update_fields=["balance"])
    except IntegrityError:
        # A concurrent caller won the unique key: behave as a replay.
        existing = JournalEntry.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return _replay(existing, payload_hash), False
    return entry, True


def entries_post_new(entries: list[dict]) -> None:
    """`entry_post(**entry)` for many entries whose keys are all new (the clock settling a batch of deals, under
    the deal locks that make them so; a key already used fails the whole batch), in a fixed number of queries:
    accounts created and locked in code order at once, one COPY of entries, one of postings, one update of
    balances."""
    entries = [{**entry, "lines": _checked(entry["lines"])} for entry in entries]
    codes = sorted({line.account for entry in entries for line in entry["lines"]})
    known = set(Account.objects.filter(code__in=codes).values_list("code", flat=True))
    Account.objects.bulk_create([Account(code=code, **_account_defaults(code)) for code in codes if code not in known],
                                ignore_conflicts=True)
    accounts = {a.code: a for a in Account.objects.select_for_update().filter(code__in=codes).order_by("code")}
    _move_balances(accounts, [line for entry in entries for line in entry["lines"]])
    now = clock.now()
    created = bulk.insert(JournalEntry, [
        dict(idempotency_key=entry["key"], kind=entry["kind"], memo=entry.get("memo", ""), ref=entry.get("ref", ""),
             payload_hash=_hash(entry["kind"], entry["lines"]), created_at=now)
        for entry in entries
    ], ids=True)
    bulk.insert(Posting, [
        dict(entry_id=entry_id, account_id=accounts[line.account].pk, amount=line.amount)
        for entry_id, entry in zip(created, entries, strict=True) for line in entry["lines"]
    ])
    _save_balances(list(accounts.values()))


def _save_balances(accounts: list[Account]) -> None:
    """One UPDATE for the new balances of many accounts (bulk_update's CASE per row costs more than the rest of
    a batch; UPDATE … FROM runs on PostgreSQL and SQLite ≥ 3.33). On PostgreSQL the pairs travel as two arrays:
    two placeholders per account made the query itself a tenth of a batch's work."""
    table = connection.ops.quote_name(Account._meta.db_table)
    if connection.vendor == "postgresql":
        moved = "SELECT * FROM unnest(%s::bigint[], %s::bigint[])"
        params = [[account.pk for account in accounts], [account.balance for account in accounts]]
    else:
        moved = "VALUES " + ", ".join(["(%s, %s)"] * len(accounts))
        params = [value for account in accounts for value in (account.pk, account.balance)]
    with connection.cursor() as cursor:
        cursor.execute(f"WITH moved (id, balance) AS ({moved}) "
                       f"UPDATE {table} SET balance = moved.balance FROM moved WHERE {table}.id = moved.id", params)


def _checked(lines: list[Line]) -> list[Line]:
    """The lines without zeros; refused unless balanced and in integer yen."""
    lines = [line for line in lines if line.amount != 0]
    if not lines or sum(line.amount for line in lines) != 0:
        raise LedgerError("unbalanced", "仕訳の貸借が一致しません。")
    if any(not isinstance(line.amount, int) or isinstance(line.amount, bool) for line in lines):
        raise LedgerError("not_integer", "金額は円単位の整数で指定してください。")
    return lines


def _move_balances(accounts: dict[str, Account], lines: list[Line]) -> None:
    """Add the lines to the (locked) accounts' balances; refuse when one may not go below zero and would."""
    for line in lines:
        account = accounts[line.account]
        account.balance += line.amount
        if account.balance < 0 and not account.allow_negative:
            raise LedgerError("insufficient_funds", f"{account.name} の残高が不足しています。")


def _replay(entry: JournalEntry, payload_hash: str) -> JournalEntry:
    if entry.payload_hash != payload_hash:
        raise LedgerError("idempotency_conflict", "同じ冪等キーで異なる内容の取引が送信されました。", status=409)
    return entry


def entry_reverse(*, entry: JournalEntry, key: str, memo: str = "") -> JournalEntry:
    lines = [Line(p.account.code, -p.amount) for p in entry.postings.select_related("account")]
    reversed_entry, _ = entry_post(key=key, kind="reversal", lines=lines, memo=memo or f"取消: {entry.memo}",
                                   ref=entry.ref, reverses=entry)
    return reversed_entry


def balance(code: str) -> int:
    return Account.objects.filter(code=code).values_list("balance", flat=True).first() or 0
