"""Disputes (トラブル相談) across deal kinds, for the operations console and account actions.

`dispute_resolve` is the console's one entry point for 事務局の裁定 on a contract or a service order; the
deal's own service does the work (lock, flow table, ledger, thread, notifications, queue items, audit).
`deals_freeze_for` is what a suspension does to the suspended user's deals: every open one goes to
`disputed` (its clock stops, the counterpart is told), and a contract that holds no money yet (an offer, or
one awaiting funding) is called off instead — there is nothing to freeze and nothing for 事務局 to decide."""

from anshin.contracts.flow import OPEN as CONTRACT_OPEN
from anshin.contracts.models import Contract
from anshin.contracts.services import contract_open_dispute, contract_operator_cancel, contract_resolve_dispute
from anshin.core.errors import DomainError, NotFound
from anshin.ops.services import note_required, operator_required
from anshin.orders.flow import OPEN as ORDER_OPEN
from anshin.orders.models import Order
from anshin.orders.services import order_open_dispute, order_resolve_dispute

FREEZE_REASON = "アカウント停止に伴い、事務局が取引を一時停止しました。"
CALL_OFF_REASON = "アカウント停止に伴い、事務局が契約を取り消しました。"
NOT_FUNDED = ("offered", "awaiting_funding")


def dispute_resolve(*, kind: str, deal_id: int, operator, outcome: str, worker_amount: int | None = None, note: str):
    """kind: "contract" | "order"; outcome: "release" | "refund" | "split" (split needs `worker_amount`: the
    worker's / seller's share of the contract amount / the order's price, strictly between 0 and it).
    Non-operators get NotFound; an empty note is refused; a deal that is not disputed is refused."""
    operator_required(operator)
    note = note_required(note)
    if kind == "contract":
        return contract_resolve_dispute(
            contract_id=deal_id, operator=operator, outcome=outcome, worker_amount=worker_amount, note=note
        )
    if kind == "order":
        return order_resolve_dispute(
            order_id=deal_id, operator=operator, outcome=outcome, seller_amount=worker_amount, note=note
        )
    raise NotFound()


def deals_freeze_for(*, user, operator, note: str) -> list:
    """Freeze every open deal of `user` (as either side): contracts under way and open orders go to `disputed`
    by the operator (reason FREEZE_REASON in the thread, both parties notified, a queue item concerning
    `user`); contracts not yet funded are called off (CALL_OFF_REASON). Returns the deals changed. A deal the
    clock settles meanwhile (e.g. deemed acceptance already due) is settled as usual and left alone."""
    operator_required(operator)
    note = note_required(note)
    changed = []
    contracts = Contract.objects.filter(Contract.party_q(user), state__in=(*CONTRACT_OPEN, *NOT_FUNDED))
    for contract_id, state in contracts.order_by("pk").values_list("pk", "state"):
        try:
            if state in NOT_FUNDED:
                deal = contract_operator_cancel(
                    contract_id=contract_id, operator=operator, reason=CALL_OFF_REASON, note=note
                )
            else:
                deal = contract_open_dispute(
                    contract_id=contract_id, user=operator, reason=FREEZE_REASON, concerns=user, note=note
                )
        except DomainError as refusal:
            if refusal.status == 404:
                raise
            continue  # the clock closed it first (or it moved on): nothing left to freeze
        changed.append(deal)
    orders = Order.objects.filter(Order.party_q(user), state__in=ORDER_OPEN)
    for order_id in orders.order_by("pk").values_list("pk", flat=True):
        try:
            deal = order_open_dispute(order_id=order_id, user=operator, reason=FREEZE_REASON, concerns=user, note=note)
        except DomainError as refusal:
            if refusal.status == 404:
                raise
            continue
        changed.append(deal)
    return changed
