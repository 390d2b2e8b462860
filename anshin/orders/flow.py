"""Service listings and orders (PRODUCT.md §3), Coconala style. The buyer acts as CLIENT, the seller as
WORKER; SYSTEM rows are the clock's; every party move has an operator twin (O)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from anshin import rules
from anshin.core.flows import Actor, Flow, T, Timer

C, W, O, S = Actor.CLIENT, Actor.WORKER, Actor.OPERATOR, Actor.SYSTEM

LISTING_FLOW = Flow(
    name="listing",
    states={"active": _("公開中"), "paused": _("一時停止中")},
    transitions=[
        T("pause", ("active",), "paused", (W, O), _("出品を一時停止する"), "secondary"),
        T("resume", ("paused",), "active", (W, O), _("出品を再開する"), "secondary"),
    ],
)

OPEN = ("purchased", "responded", "in_progress", "delivered")

ORDER_FLOW = Flow(
    name="order",
    states={
        "purchased": _("購入済み（出品者の返答待ち）"),
        "responded": _("出品者が返答済み（承諾待ち）"),
        "in_progress": _("作業中"),
        "delivered": _("納品確認待ち"),
        "completed": _("完了（支払済み）"),
        "cancelled": pgettext_lazy("order state", "キャンセル"),
        "disputed": _("トラブル相談中"),  # no timer here: entering it freezes the order's clock
    },
    transitions=[
        # action              from                          to             who
        T("respond", ("purchased",), "responded", (W,)),  # the seller's first message (from the thread)
        T("accept", ("purchased", "responded"), "in_progress", (W, O), _("注文を承諾する")),
        T("expire", ("purchased",), "cancelled", (S,)),  # 48 h without a word from the seller
        T("deliver", ("in_progress",), "delivered", (W, O), _("正式な納品をする")),
        T("approve", ("delivered",), "completed", (C, O), _("承諾する（取引完了）")),
        T("request_revision", ("delivered",), "in_progress", (C, O), _("差し戻す（修正依頼）"), "secondary",
          guard="revisions_left"),
        T("auto_approve", ("delivered",), "completed", (S,)),  # 72 h of buyer silence
        T("terminate_overdue", ("in_progress",), "cancelled", (C, O), _("納期超過のため取引を終了する"), "danger",
          guard="is_overdue"),
        T("cancel", OPEN, "cancelled", (C, W, O, S)),  # a キャンセル申請 agreed to, or left unanswered
        # トラブル相談: either side, directly or after a refused キャンセル申請; the clock stops.
        T("open_dispute", OPEN, "disputed", (C, W, O), _("事務局に相談する"), "secondary"),
        # 事務局の裁定 (operations console, internal note required). A split closes the order as cancelled:
        # it did not complete as bought; the seller is paid for a part and the buyer refunded the rest.
        T("resolve_release", ("disputed",), "completed", (O,), _("出品者に全額支払う")),
        T("resolve_refund", ("disputed",), "cancelled", (O,), _("全額返金する"), "danger"),
        T("resolve_split", ("disputed",), "cancelled", (O,), _("分割して精算する"), "secondary"),
    ],
    timers=[
        Timer("purchased", rules.FIRST_RESPONSE_WINDOW, "expire", reminders=rules.FIRST_RESPONSE_REMINDERS),
        Timer("delivered", rules.APPROVAL_WINDOW, "auto_approve", reminders=rules.APPROVAL_REMINDERS),
    ],
    terminal=frozenset({"completed", "cancelled"}),
)

# An operator's decision on a dispute: taken in the operations console, never a button on the order page.
RESOLVE_ACTIONS = frozenset({"resolve_release", "resolve_refund", "resolve_split"})

# キャンセル申請: either side asks with a reason; the other side agrees or refuses within 24 h; silence = agreed.
CANCEL_REQUEST_FLOW = Flow(
    name="order_cancel_request",
    states={"pending": _("回答待ち"), "agreed": _("合意"), "refused": _("拒否"), "withdrawn": _("取り下げ"),
            "voided": _("無効（取引の状態が変わったため）")},
    transitions=[
        T("agree", ("pending",), "agreed", (C, W, O), _("キャンセルに同意する"), "danger"),
        T("refuse", ("pending",), "refused", (C, W, O), _("キャンセルを拒否する"), "secondary"),
        T("withdraw", ("pending",), "withdrawn", (C, W, O), _("申請を取り下げる"), "secondary"),
        T("lapse", ("pending",), "agreed", (S,)),
        # The order ended another way while the request was pending (approved, expired, terminated) or went
        # to a dispute: moot.
        T("void", ("pending",), "voided", (S,)),
    ],
    timers=[Timer("pending", rules.CANCEL_REQUEST_WINDOW, "lapse")],
    terminal=frozenset({"agreed", "refused", "withdrawn", "voided"}),
)

# Reasons a side may give, by who asks and the order's state (Coconala gates them the same way).
CANCEL_REASONS = {
    "buyer": {
        "changed_mind": (_("依頼内容が変わった・不要になった"), ("purchased", "responded")),
        "no_progress": (_("出品者と連絡が取れない・作業が進まない"), ("in_progress",)),
        "not_as_described": (_("サービス内容が説明と異なる"), ("in_progress", "delivered")),
        "other": (_("その他"), OPEN),
    },
    "seller": {
        "cannot_take": (_("依頼内容に対応できない"), ("purchased", "responded", "in_progress")),
        "buyer_unresponsive": (_("購入者と連絡が取れない"), ("in_progress", "delivered")),
        "other": (_("その他"), OPEN),
    },
}
