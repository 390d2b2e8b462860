"""出金申請: the worker's bank account and payout requests, and the operators' decisions on them.

Ledger, one entry per step, each under a key of its own withdrawal:
- request:  worker:{user} −amount, payout_pending:{user} +amount  (key withdrawal:{id}:request)
- paid:     payout_pending:{user} −amount, gateway +amount        (key withdrawal:{id}:settle)
- reversed / cancelled: payout_pending:{user} −amount, worker:{user} +amount (the same settle key, so the
  ledger itself refuses settling one withdrawal twice, whatever the flow table said).

Locks: the withdrawal row first (decisions and cancellations), then the two ledger accounts in code order —
the order every ledger posting uses — so a request racing a release, a cancellation or another request
serialises instead of deadlocking. The available balance is checked under that lock, and the ledger refuses
a negative balance anyway: two requests for more than half the balance each cannot both pass."""

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction

from anshin import rules
from anshin.core import audit, calendar, clock, flows
from anshin.core.errors import DomainError, NotFound
from anshin.core.flows import Actor
from anshin.core.money import yen
from anshin.ledger.models import Account
from anshin.ledger.services import GATEWAY, LedgerError, Line, account_get_or_create, entry_post, worker_code
from anshin.notifications.services import notify
from anshin.payouts.models import BankAccount, Withdrawal
from anshin.payouts.validation import bank_details_clean

PAYOUTS_URL = "/payouts/"
REQUEST_KEY_MAX = 64


def pending_code(user_id: int) -> str:
    return f"payout_pending:{user_id}"


# --- bank account -------------------------------------------------------------------------------------------


def bank_account_save(*, user, data: dict) -> BankAccount:
    """Register or replace the user's one bank account. Withdrawals already requested keep their snapshot."""
    details = bank_details_clean(data)
    now = clock.now()
    with transaction.atomic():
        account = BankAccount.objects.select_for_update().filter(user=user).first()
        before = account.bank_details() if account else None
        if account is None:
            account = BankAccount(user=user, created_at=now)
        for name, value in details.items():
            setattr(account, name, value)
        account.updated_at = now
        account.save()
        audit.record(subject=account, action="bank_account_save", actor=user, actor_role=Actor.WORKER,
                     payload={"replaced": before is not None, "bank_code": account.bank_code,
                              "branch_code": account.branch_code, "number_last3": account.account_number[-3:]})
    return account


# --- the worker ---------------------------------------------------------------------------------------------


def _accounts_locked(user) -> dict[str, Account]:
    """The worker's available and pending accounts, created if need be and locked in code order."""
    account_get_or_create(worker_code(user.pk))
    Account.objects.get_or_create(
        code=pending_code(user.pk), defaults={"name": f"出金処理中 {user.pk}", "user": user}
    )
    codes = sorted([worker_code(user.pk), pending_code(user.pk)])
    return {a.code: a for a in Account.objects.select_for_update().filter(code__in=codes).order_by("code")}


def _amount_check(amount) -> int:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise DomainError("not_integer", "出金額は円単位の整数で入力してください。")
    if amount < rules.WITHDRAWAL_MIN:
        raise DomainError("below_minimum", f"出金額は{yen(rules.WITHDRAWAL_MIN)}以上で入力してください。")
    return amount


def _insufficient(available: int) -> DomainError:
    return DomainError("insufficient_balance",
                       f"出金額が出金可能額（{yen(available)}）を超えています。金額を確認してください。", status=409)


def withdrawal_request(*, user, amount: int, request_key: str = "") -> Withdrawal:
    """Ask for a payout of `amount` yen to the registered bank account: the amount moves from the available
    balance to pending at once, and the operators get a queue item due in WITHDRAWAL_DUE_BUSINESS_DAYS.
    The same `request_key` again returns the first withdrawal (a double submit asks only once)."""
    amount = _amount_check(amount)
    request_key = (request_key or "").strip()
    if len(request_key) > REQUEST_KEY_MAX:
        raise DomainError("invalid_request_key", f"リクエストキーは{REQUEST_KEY_MAX}文字以内で指定してください。")
    if request_key and (first := _replay(user, request_key, amount)):
        return first
    bank = BankAccount.objects.filter(user=user).first()
    if bank is None:
        raise DomainError("no_bank_account", "出金先の銀行口座が登録されていません。先に口座を登録してください。")
    try:
        with transaction.atomic():
            accounts = _accounts_locked(user)
            if request_key and (first := _replay(user, request_key, amount)):
                return first  # a concurrent submit with the same key committed while we waited for the lock
            available = accounts[worker_code(user.pk)].balance
            if amount > available:
                raise _insufficient(available)
            now = clock.now()
            withdrawal = Withdrawal(user=user, amount=amount, request_key=request_key, created_at=now,
                                    **bank.bank_details())
            withdrawal.init_state("requested", at=now)
            with transaction.atomic():
                withdrawal.save()
            try:
                entry_post(
                    key=f"{withdrawal.ledger_ref}:request", kind="withdrawal_request", ref=withdrawal.ledger_ref,
                    memo=f"出金申請 #{withdrawal.pk}",
                    lines=[Line(worker_code(user.pk), -amount), Line(pending_code(user.pk), amount)],
                )
            except LedgerError as error:
                if error.code == "insufficient_funds":  # never reached past the check above; kept as a net
                    raise _insufficient(available) from None
                raise
            audit.record(subject=withdrawal, action="withdrawal_request", actor=user, actor_role=Actor.WORKER,
                         to_state="requested", payload={"amount": amount, "bank": _bank_brief(withdrawal)})
            _queue_open(withdrawal)
            notify(user=user, kind="withdrawal.requested", title=f"出金申請を受け付けました（{yen(amount)}）",
                   body=(f"{yen(amount)}を {withdrawal.bank_name} {withdrawal.branch_name} の口座へ振り込みます。"
                         f"{rules.WITHDRAWAL_DUE_BUSINESS_DAYS}営業日以内に事務局が処理します。"),
                   url=PAYOUTS_URL, dedupe_key=f"{withdrawal.ledger_ref}:requested")
    except IntegrityError:
        # The same request key committed by a concurrent submit: that one is the answer.
        first = _replay(user, request_key, amount) if request_key else None
        if first is None:
            raise
        return first
    return withdrawal


def _replay(user, request_key: str, amount: int) -> Withdrawal | None:
    first = Withdrawal.objects.filter(user=user, request_key=request_key).first()
    if first is not None and first.amount != amount:
        raise DomainError("idempotency_conflict", "同じリクエストキーで異なる金額の出金申請が送信されました。",
                          status=409)
    return first


def _bank_brief(w: Withdrawal) -> str:
    return f"{w.bank_code}-{w.branch_code} {w.get_account_type_display()} ***{w.account_number[-3:]}"


def _lock(withdrawal_id: int) -> Withdrawal:
    # Only the withdrawal row (of=self): locking the joined user row too would deadlock with a request, whose
    # insert checks its foreign key to that user while holding the ledger accounts.
    withdrawal = (Withdrawal.objects.select_for_update(of=("self",)).select_related("user")
                  .filter(pk=withdrawal_id).first())
    if withdrawal is None:
        raise NotFound()
    return withdrawal


def withdrawal_cancel(*, withdrawal_id: int, user) -> Withdrawal:
    """The worker takes back a request that no operator has processed yet: the amount is available again."""
    with transaction.atomic():
        withdrawal = _lock(withdrawal_id)
        if withdrawal.user_id != user.pk:
            raise NotFound()
        flows.apply(withdrawal, "cancel", actor=Actor.WORKER, user=user)
        _accounts_locked(withdrawal.user)
        _settle(withdrawal, "withdrawal_cancel", back=True, memo=f"出金申請の取り消し #{withdrawal.pk}")
        _queue_close_by_worker(withdrawal, user)
    return withdrawal


# --- the operators ------------------------------------------------------------------------------------------


def _decide(withdrawal_id: int, operator, note: str, action: str) -> Withdrawal:
    from anshin.ops.services import note_required, operator_required, queue_items_close_for

    operator_required(operator)
    note = note_required(note)
    withdrawal = _lock(withdrawal_id)
    if withdrawal.user_id == operator.pk:
        raise DomainError("own_withdrawal", "自分の出金申請は処理できません。別の事務局メンバーに依頼してください。",
                          status=403)
    flows.apply(withdrawal, action, actor=Actor.OPERATOR, user=operator, payload={"note": note})
    withdrawal.decided_by = operator
    withdrawal.decided_at = clock.now()
    withdrawal.internal_note = note
    withdrawal.save(update_fields=["decided_by", "decided_at", "internal_note"])
    queue_items_close_for(subject=withdrawal, operator=operator, resolution=withdrawal.state, note=note)
    return withdrawal


def withdrawal_pay(*, withdrawal_id: int, operator, note: str) -> Withdrawal:
    """The transfer was made: the pending amount leaves Anshin (to the gateway, money outside Anshin)."""
    with transaction.atomic():
        withdrawal = _decide(withdrawal_id, operator, note, "pay")
        _settle(withdrawal, "withdrawal_paid", back=False, memo=f"出金（振込） #{withdrawal.pk}")
        amount = yen(withdrawal.amount)
        notify(user=withdrawal.user, kind="withdrawal.paid", title=f"出金の振込が完了しました（{amount}）",
               body=f"{amount}を {withdrawal.bank_name} {withdrawal.branch_name} の口座へ振り込みました。",
               url=PAYOUTS_URL, dedupe_key=f"{withdrawal.ledger_ref}:paid")
    return withdrawal


def withdrawal_reverse(*, withdrawal_id: int, operator, note: str, reason: str) -> Withdrawal:
    """The transfer cannot be made (refused by the bank, the holder's name did not match…): the amount goes
    back to the worker's available balance. The worker is told the reason (from a fixed list), not the note."""
    if reason not in Withdrawal.ReverseReason.values:
        raise DomainError("invalid_reason", "差し戻しの理由を選んでください。")
    with transaction.atomic():
        withdrawal = _decide(withdrawal_id, operator, note, "reverse")
        withdrawal.reverse_reason = reason
        withdrawal.save(update_fields=["reverse_reason"])
        _accounts_locked(withdrawal.user)
        _settle(withdrawal, "withdrawal_reversed", back=True, memo=f"出金の差し戻し #{withdrawal.pk}")
        label = Withdrawal.ReverseReason(reason).label
        notify(user=withdrawal.user, kind="withdrawal.reversed",
               title=f"出金申請が差し戻されました（{yen(withdrawal.amount)}）",
               body=(f"理由: {label}。{yen(withdrawal.amount)}は出金可能額に戻りました。"
                     "口座の登録内容をご確認のうえ、あらためて出金申請してください。"),
               url=PAYOUTS_URL, dedupe_key=f"{withdrawal.ledger_ref}:reversed")
    return withdrawal


# --- helpers ------------------------------------------------------------------------------------------------


def _settle(withdrawal: Withdrawal, kind: str, *, back: bool, memo: str) -> None:
    to = worker_code(withdrawal.user_id) if back else GATEWAY
    entry_post(key=f"{withdrawal.ledger_ref}:settle", kind=kind, ref=withdrawal.ledger_ref, memo=memo,
               lines=[Line(pending_code(withdrawal.user_id), -withdrawal.amount), Line(to, withdrawal.amount)])


def _queue_open(withdrawal: Withdrawal) -> None:
    from anshin.ops.models import QueueItem
    from anshin.ops.services import queue_item_open

    user = withdrawal.user
    queue_item_open(
        kind=QueueItem.Kind.WITHDRAWAL, subject=withdrawal, concerns=user, opened_by=user,
        due_at=calendar.add_business_days(withdrawal.created_at, rules.WITHDRAWAL_DUE_BUSINESS_DAYS),
        summary=f"出金申請 {yen(withdrawal.amount)}: {user.name}さん",
        dedupe_key=f"withdrawal:{withdrawal.pk}",
        payload={"withdrawal_id": withdrawal.pk, "amount": withdrawal.amount},
    )


def _queue_close_by_worker(withdrawal: Withdrawal, user) -> None:
    """The request is gone: its queue item is closed by the worker (recorded as such, not as an operator)."""
    from anshin.ops.models import QueueItem

    items = QueueItem.objects.select_for_update().filter(
        subject_type=ContentType.objects.get_for_model(Withdrawal), subject_id=withdrawal.pk,
        state=QueueItem.State.OPEN)
    for item in items:
        item.state = QueueItem.State.CLOSED
        item.closed_at = clock.now()
        item.resolution = "cancelled"
        item.note = "申請者が取り消しました。"
        item.save(update_fields=["state", "closed_at", "resolution", "note"])
        audit.record(subject=item, action="queue_close:cancelled", actor=user, actor_role=Actor.WORKER,
                     from_state=QueueItem.State.OPEN, to_state=QueueItem.State.CLOSED, payload={"kind": item.kind})
