"""What the withdrawal pages read: the user's bank account, balances (available and pending) and
withdrawals. A withdrawal is seen by its worker only (anyone else gets 404); operators see them in /ops/."""

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from anshin import rules
from anshin.core.errors import DomainError, NotFound
from anshin.ledger.models import Account
from anshin.ledger.services import worker_code
from anshin.payouts.flow import WITHDRAWAL_FLOW
from anshin.payouts.models import BankAccount, Withdrawal
from anshin.payouts.services import pending_code


def bank_account_of(user) -> BankAccount | None:
    return BankAccount.objects.filter(user=user).first()


def balances(user) -> dict:
    """Available (can be requested) and pending (requested, not yet paid) yen, from the ledger. One query."""
    rows = dict(
        Account.objects.filter(code__in=[worker_code(user.pk), pending_code(user.pk)]).values_list("code", "balance")
    )
    return {"available": rows.get(worker_code(user.pk), 0), "pending": rows.get(pending_code(user.pk), 0)}


def withdrawals_of(user):
    return Withdrawal.objects.filter(user=user).order_by("-created_at", "-id")


def withdrawal_get(*, withdrawal_id: int, user) -> Withdrawal:
    withdrawal = Withdrawal.objects.filter(pk=withdrawal_id, user=user).first() if user.is_authenticated else None
    if withdrawal is None:
        raise NotFound()
    return withdrawal


def worker_actions(withdrawal: Withdrawal) -> list:
    return [t for t in WITHDRAWAL_FLOW.allowed(withdrawal.state, ["worker"], withdrawal) if t.label]


def summary(user) -> dict:
    """The figures beside the request form: balances, the minimum, what is still waiting (one more query)."""
    waiting = Withdrawal.objects.filter(user=user).aggregate(
        count=Count("id", filter=Q(state="requested")),
        total=Coalesce(Sum("amount", filter=Q(state="requested")), 0),
    )
    return {
        **balances(user),
        "minimum": rules.WITHDRAWAL_MIN,
        "due_business_days": rules.WITHDRAWAL_DUE_BUSINESS_DAYS,
        "waiting_count": waiting["count"],
        "waiting_total": int(waiting["total"]),
    }



# --- the operators (callers have checked that the reader is an operator) -------------------------------------

RECENT_WITHDRAWALS = 10


def ops_context(withdrawal: Withdrawal) -> dict:
    """A withdrawal in front of an operator: the bank snapshot it is to be paid to, whether the worker's
    registered account still says the same (and when it last changed: a new account just before a request is
    a classic sign of a taken-over login), the worker's balances and recent withdrawals. A fixed number of
    queries."""
    user = withdrawal.user
    bank_now = bank_account_of(user)
    history = list(Withdrawal.objects.filter(user=user).exclude(pk=withdrawal.pk)
                   .order_by("-created_at", "-id")[:RECENT_WITHDRAWALS])
    paid = Withdrawal.objects.filter(user=user, state="paid").aggregate(
        count=Count("id"), total=Coalesce(Sum("amount"), 0))
    return {
        "withdrawal": withdrawal,
        "bank_now": bank_now,
        "bank_changed": bank_now is None or bank_now.bank_details() != withdrawal.bank_details(),
        "bank_changed_at": bank_now.updated_at if bank_now else None,
        "balances": balances(user),
        "history": history,
        "paid_count": paid["count"],
        "paid_total": int(paid["total"]),
    }


def refuse_close_while_waiting(item) -> None:
    """A withdrawal still waiting for its transfer: its queue item closes by paying or reversing, never on its
    own (the money would stay pending with nobody looking after it)."""
    from anshin.ops.models import QueueItem

    if item.kind == QueueItem.Kind.WITHDRAWAL and Withdrawal.objects.filter(
        pk=item.subject_id, state="requested"
    ).exists():
        raise DomainError(
            "withdrawal_waiting",
            "出金申請は「振込済みにする」か「差し戻す」で処理してください（対応済みにするだけでは閉じられません）。",
            status=409,
        )


def attach_withdrawals(items) -> list:
    """Each queue item of a page gets `.withdrawal` (None if gone): one query for the whole page."""
    items = list(items)
    withdrawals = Withdrawal.objects.in_bulk([item.subject_id for item in items])
    for item in items:
        item.withdrawal = withdrawals.get(item.subject_id)
    return items
