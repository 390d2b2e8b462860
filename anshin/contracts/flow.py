"""The contract flow (PRODUCT.md §2), one screen. Every party move has an operator twin (O in actors);
SYSTEM rows are fired by timers, measured from the last entry into the state."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from anshin import rules
from anshin.core.flows import Actor, Flow, T, Timer

C, W, O, S = Actor.CLIENT, Actor.WORKER, Actor.OPERATOR, Actor.SYSTEM

CONTRACT_FLOW = Flow(
    name="contract",
    states={
        "offered": _("オファー中"),
        "awaiting_funding": _("仮払い待ち"),
        "funded": _("作業中"),
        "delivered": _("検収待ち"),
        "revision_requested": _("修正対応中"),
        "accepted": _("完了（支払済み）"),
        "lapsed": _("オファー期限切れ"),
        "cancelled": pgettext_lazy("contract state", "キャンセル"),  # the state, not the Cancel button
    },
    transitions=[
        # action            from                               to                    who
        T("accept_offer", ("offered",), "awaiting_funding", (W, O), _("オファーを承諾する")),
        T("decline_offer", ("offered",), "cancelled", (W, O), _("オファーを辞退する"), "danger"),
        T("withdraw_offer", ("offered",), "cancelled", (C, O), _("オファーを取り下げる"), "danger"),
        T("lapse", ("offered",), "lapsed", (S,)),
        T("fund", ("awaiting_funding",), "funded", (C, O), _("仮払いする")),
        T("cancel", ("awaiting_funding",), "cancelled", (C, W, O), _("契約をキャンセルする"), "danger"),
        T("expire_funding", ("awaiting_funding",), "cancelled", (S,)),
        T("deliver", ("funded", "revision_requested"), "delivered", (W, O), _("納品する")),
        T("accept", ("delivered",), "accepted", (C, O), _("検収合格にする")),
        T("request_revision", ("delivered",), "revision_requested", (C, O), _("修正を依頼する"), "secondary"),
        T("deem_accept", ("delivered",), "accepted", (S,)),
    ],
    timers=[
        Timer("offered", rules.OFFER_ACCEPT_WINDOW, "lapse"),
        Timer("awaiting_funding", rules.FUNDING_WINDOW, "expire_funding"),
        Timer("delivered", rules.DEEMED_ACCEPTANCE_AFTER, "deem_accept", reminders=rules.INSPECTION_REMINDERS),
    ],
    terminal=frozenset({"accepted", "lapsed", "cancelled"}),
)

# Actions whose form needs more than a click (the UI shows a form, the API a body).
FORM_ACTIONS = {"deliver", "request_revision", "fund"}
