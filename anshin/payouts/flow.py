"""出金申請 (PRODUCT.md §8): a worker asks for a payout from the available balance; an operator transfers it
(paid) or sends it back to the balance (reversed: the bank refused the transfer, the holder's name did not
match…); the worker may cancel while it waits. The operators' due time is the queue item's (an SLA of
`rules.WITHDRAWAL_DUE_BUSINESS_DAYS` business days), not a timer: silence never pays anything out.

Money (ledger): request = available (worker:{user}) → pending (payout_pending:{user}); paid = pending →
gateway (the money leaves Anshin); reversed / cancelled = pending → available."""

from django.utils.translation import gettext_lazy as _

from anshin.core.flows import Actor, Flow, T

W, O = Actor.WORKER, Actor.OPERATOR

WITHDRAWAL_FLOW = Flow(
    name="withdrawal",
    states={
        "requested": _("振込待ち"),
        "paid": _("振込済み"),
        "reversed": _("差し戻し"),
        "cancelled": _("取り消し"),
    },
    transitions=[
        # action      from            to           who
        T("pay", ("requested",), "paid", (O,), _("振込済みにする")),
        T("reverse", ("requested",), "reversed", (O,), _("差し戻す（残高に戻す）"), "danger"),
        T("cancel", ("requested",), "cancelled", (W,), _("申請を取り消す"), "secondary"),  # the worker only
    ],
    terminal=frozenset({"paid", "reversed", "cancelled"}),
)

OPERATOR_ACTIONS = ("pay", "reverse")
