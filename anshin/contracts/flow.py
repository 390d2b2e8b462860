"""The contract flow (PRODUCT.md §2), one screen. Every party move has an operator twin (O in actors);
SYSTEM rows are fired by timers, measured from the last entry into the state."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from anshin import rules
from anshin.core.flows import Actor, Flow, T, Timer

C, W, O, S = Actor.CLIENT, Actor.WORKER, Actor.OPERATOR, Actor.SYSTEM

OPEN = ("funded", "revision_requested", "delivered")  # work under way: escrow held, the deal can still end early

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
        "terminated": _("途中終了"),
        "disputed": _("トラブル相談中"),  # no timer here: entering it freezes the deal's clock
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
        # 3 days past the delivery date without a delivery: the client may end it alone, full refund.
        T(
            "terminate_overdue",
            ("funded", "revision_requested"),
            "terminated",
            (C, O),
            _("納期超過のため契約を終了する"),
            "danger",
            guard="is_overdue",
        ),
        # A 契約途中終了リクエスト agreed to (or left unanswered for 7 days): the escrow is split as proposed.
        # Only the termination request's own flow (TERMINATION_FLOW below) leads here.
        T("terminate", OPEN, "terminated", (S,)),
        # トラブル相談: either side, directly or after a refused termination request; the clock stops.
        T("open_dispute", OPEN, "disputed", (C, W, O), _("事務局に相談する"), "secondary"),
        # 事務局の裁定: an operator ends the dispute (from the operations console, with an internal note).
        T("resolve_release", ("disputed",), "accepted", (O,), _("受注者に全額支払う")),
        T("resolve_refund", ("disputed",), "terminated", (O,), _("全額返金する"), "danger"),
        T("resolve_split", ("disputed",), "terminated", (O,), _("分割して精算する"), "secondary"),
    ],
    timers=[
        Timer("offered", rules.OFFER_ACCEPT_WINDOW, "lapse"),
        Timer("awaiting_funding", rules.FUNDING_WINDOW, "expire_funding"),
        Timer("delivered", rules.DEEMED_ACCEPTANCE_AFTER, "deem_accept", reminders=rules.INSPECTION_REMINDERS),
    ],
    terminal=frozenset({"accepted", "lapsed", "cancelled", "terminated"}),
)

# Actions whose form needs more than a click (the UI shows a form, the API a body).
FORM_ACTIONS = {"deliver", "request_revision", "fund", "open_dispute"}

# An operator's decision on a dispute: taken in the operations console (`deals.disputes.dispute_resolve`,
# note required), never a button on the contract page or an action of the parties' API.
RESOLVE_ACTIONS = frozenset({"resolve_release", "resolve_refund", "resolve_split"})

# 契約途中終了リクエスト: either side asks, with a proposed split of the escrow; the other side agrees or refuses;
# 7 days of silence = agreement. Who is "the other side" is the service's check (the requester may only withdraw).
TERMINATION_FLOW = Flow(
    name="termination_request",
    states={
        "pending": _("回答待ち"),
        "agreed": _("合意"),
        "refused": _("拒否"),
        "withdrawn": _("取り下げ"),
        "void": _("無効（契約の状態が変わったため）"),
    },
    transitions=[
        T("agree", ("pending",), "agreed", (C, W, O), _("途中終了に合意する"), "danger"),
        T("refuse", ("pending",), "refused", (C, W, O), _("途中終了を拒否する"), "secondary"),
        T("withdraw", ("pending",), "withdrawn", (C, W, O), _("リクエストを取り下げる"), "secondary"),
        T("lapse", ("pending",), "agreed", (S,)),  # silence = agreement
        T("void", ("pending",), "void", (S,)),  # the contract ended or went to a dispute meanwhile
    ],
    timers=[Timer("pending", rules.TERMINATION_SILENCE, "lapse", reminders=rules.TERMINATION_REMINDERS)],
    terminal=frozenset({"agreed", "refused", "withdrawn", "void"}),
)
