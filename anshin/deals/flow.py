"""Delivery-date change requests (納期変更の申請, PRODUCT.md §2 and §3), on a contract or a service order.

The worker (seller) proposes a new date with a reason — that creates a request in `pending` — and the client
(buyer) approves or declines; the worker may withdraw. One pending request per deal. When the deal leaves the
states in which a date can be moved (e.g. the work is delivered), a pending request is voided by the system.
No timer: an unanswered request simply stays pending, and the old date stands."""

from django.utils.translation import gettext_lazy as _

from anshin.core.flows import Actor, Flow, T

C, W, O, S = Actor.CLIENT, Actor.WORKER, Actor.OPERATOR, Actor.SYSTEM

PROPOSERS = (W, O)  # who may create a request (the worker/seller, or an operator on their behalf)

DATE_CHANGE_FLOW = Flow(
    name="date_change",
    states={
        "pending": _("回答待ち"),
        "approved": _("承認済み"),
        "declined": _("不承認"),
        "withdrawn": _("取り下げ"),
        "void": _("無効（取引の状態が変わったため）"),
    },
    transitions=[
        T("approve", ("pending",), "approved", (C, O), _("納期の変更を承認する")),
        T("decline", ("pending",), "declined", (C, O), _("納期の変更を承認しない"), "secondary"),
        T("withdraw", ("pending",), "withdrawn", (W, O), _("申請を取り下げる"), "secondary"),
        T("void", ("pending",), "void", (S,)),  # the deal left the states in which its date can move
    ],
    terminal=frozenset({"approved", "declined", "withdrawn", "void"}),
)
