"""サービス外連絡申請 (PRODUCT.md §6): a party asks, an operator decides within 2 business days (an SLA on the
ops queue, not a timer: silence never approves contact exchange), and may later revoke an approval."""

from django.utils.translation import gettext_lazy as _

from anshin.core.flows import Actor, Flow, T

C, W, O = Actor.CLIENT, Actor.WORKER, Actor.OPERATOR

PERMIT_FLOW = Flow(
    name="contact_permit",
    states={
        "pending": _("審査中"),
        "approved": _("承認"),
        "denied": _("否認"),
        "revoked": _("承認取り消し"),
        "withdrawn": _("取り下げ"),
    },
    transitions=[
        # action      from           to           who
        T("approve", ("pending",), "approved", (O,), _("承認する")),
        T("deny", ("pending",), "denied", (O,), _("否認する"), "danger"),
        T("revoke", ("approved",), "revoked", (O,), _("承認を取り消す"), "danger"),
        T("withdraw", ("pending",), "withdrawn", (C, W), _("申請を取り下げる"), "secondary"),  # the requester only
    ],
    terminal=frozenset({"denied", "revoked", "withdrawn"}),
)
