"""What the operations console reads: the dashboard figures, the queues, one item with its subject in
context, a user's risk signals and the audit log. Every list costs a fixed number of queries whatever its
length; the callers (views, API) have already checked that the reader is an operator."""

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from anshin.core import clock
from anshin.core.errors import NotFound
from anshin.ops.models import QueueItem

QUEUE_STATES = ("open", "closed")
RECENT_REPORTS = timedelta(days=90)
RECENT_HOLDS = timedelta(days=30)
PERMIT_THREAD_MESSAGES = 20  # a permit is judged on the thread's recent messages
DISPUTE_THREAD_MESSAGES = 500  # a dispute on the whole thread (bounded, so a pathological thread cannot hang)


# How the operators' own actions read in the console (the audit log keeps the codes).
ACTION_WORDS = {
    "account_warn": "警告",
    "account_restrict": "メッセージ送信を制限",
    "account_unrestrict": "メッセージ送信の制限を解除",
    "account_suspend": "利用停止",
    "account_reinstate": "利用停止を解除",
    "account_verify_identity": "本人確認済みにした",
    "permits_revoke_all": "サービス外連絡の承認をすべて取り消し",
    "queue_assign": "担当を変更",
    "ops_message": "事務局としてメッセージを送信",
    "report": "通報",
    "report_close": "通報を対応済みにした",
    "request": "サービス外連絡申請",
    "approve": "承認",
    "deny": "否認",
    "revoke": "承認を取り消し",
    "withdraw": "取り下げ",
    "open_dispute": "トラブル相談",
    "resolve_release": "裁定: 受注者に支払い",
    "resolve_refund": "裁定: 返金",
    "resolve_split": "裁定: 分割",
    "profile_edit": "プロフィール編集",
    "block": "ブロック",
    "unblock": "ブロック解除",
    "review_window_open": "評価の受付開始",
    "review_submit": "評価を投稿",
    "review_reveal": "評価を公開",
    "review_reply": "評価に返信",
    "withdrawal_request": "出金申請",
    "pay": "振込済みにした",
    "reverse": "出金を差し戻し",
    "cancel": "取り消し",
    "bank_account_save": "出金先口座の登録・変更",
}


def action_label(action: str) -> str:
    if action.startswith("queue_close:"):
        return f"対応済みにした（{action.split(':', 1)[1]}）"
    return ACTION_WORDS.get(action, action)


# --- dashboard ----------------------------------------------------------------------------------------------


def queue_counts() -> list[dict]:
    """Open and overdue items per kind, every kind listed (one query)."""
    now = clock.now()
    rows = {
        row["kind"]: row
        for row in QueueItem.objects.filter(state=QueueItem.State.OPEN)
        .values("kind")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)))
        .order_by()
    }
    return [
        {
            "kind": kind,
            "label": label,
            "open": rows.get(kind, {}).get("open", 0),
            "overdue": rows.get(kind, {}).get("overdue", 0),
        }
        for kind, label in QueueItem.Kind.choices
    ]


def money_figures() -> dict:
    """Money held in escrow (every escrow account of every contract and order), the pending payouts (出金申請
    requested and not yet transferred: the workers' payout_pending accounts) and what workers could still ask
    for (their available balances). One query."""
    from anshin.ledger.models import Account

    figures = Account.objects.aggregate(
        escrow=Coalesce(Sum("balance", filter=Q(code__startswith="escrow:")), 0),
        pending=Coalesce(Sum("balance", filter=Q(code__startswith="payout_pending:")), 0),
        workers=Coalesce(Sum("balance", filter=Q(code__startswith="worker:")), 0),
    )
    return {
        "escrow_total": int(figures["escrow"]),
        "pending_payouts_total": int(figures["pending"]),
        "worker_balance_total": int(figures["workers"]),
    }


def dashboard(*, operator) -> dict:
    queues = queue_counts()
    return {
        "queues": queues,
        "open_total": sum(q["open"] for q in queues),
        "overdue_total": sum(q["overdue"] for q in queues),
        **money_figures(),
        "my_items": list(queue_items(state="open", assignee=operator)[:50]),
    }


# --- queues -------------------------------------------------------------------------------------------------


def queue_items(*, kind: str = "", state: str = "open", assignee=None):
    """Open items by due time, oldest due first (items without a due time last); closed ones newest first."""
    if kind and kind not in QueueItem.Kind.values:
        raise NotFound()
    qs = QueueItem.objects.select_related("assignee", "concerns", "closed_by")
    if kind:
        qs = qs.filter(kind=kind)
    if assignee is not None:
        qs = qs.filter(assignee=assignee)
    if state == "closed":
        return qs.filter(state=QueueItem.State.CLOSED).order_by("-closed_at", "-id")
    return qs.filter(state=QueueItem.State.OPEN).order_by(F("due_at").asc(nulls_last=True), "created_at", "id")


def queue_item_get(*, item_id: int) -> QueueItem:
    item = QueueItem.objects.select_related("assignee", "concerns", "closed_by", "opened_by").filter(pk=item_id).first()
    if item is None:
        raise NotFound()
    return item


def subject_of(item: QueueItem):
    """The object the item is about (a permit, a contract, a thread, a report, a user, a message…), or None
    when it no longer exists."""
    model = ContentType.objects.get_for_id(item.subject_type_id).model_class()
    if model is None:
        return None
    return model._default_manager.filter(pk=item.subject_id).first()


def _thread_messages(thread, limit: int) -> list:
    from anshin.messaging.models import Message

    qs = Message.objects.filter(thread=thread).select_related("sender").prefetch_related("attachments")
    return list(reversed(qs.order_by("-created_at", "-id")[:limit]))


def _members(thread) -> list:
    return [m.user for m in thread.members.select_related("user").order_by("id")]


def _thread_of(deal):
    try:
        return deal.thread
    except deal.__class__.thread.RelatedObjectDoesNotExist:
        return None


def escrow_balance(deal) -> int:
    from anshin.ledger.models import Account
    from anshin.ledger.services import escrow_code

    return Account.objects.filter(code=escrow_code(deal.ledger_ref)).values_list("balance", flat=True).first() or 0


def frozen_timer(deal) -> dict | None:
    """The time that was left when the dispute froze the deal's clock (from the open_dispute audit event)."""
    from anshin.core.models import AuditEvent

    event = (
        AuditEvent.objects.filter(
            subject_type=ContentType.objects.get_for_model(deal), subject_id=deal.pk, action="open_dispute"
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if event is None:
        return None
    frozen = (event.payload or {}).get("frozen_timer")
    info = {"opened_at": event.created_at, "reason": (event.payload or {}).get("reason", ""), "timer": None}
    if frozen:
        seconds = max(0, int(frozen.get("remaining_seconds") or 0))
        info["timer"] = {
            "action": frozen.get("timer_action", ""),
            "remaining": timedelta(seconds=seconds),
            "remaining_seconds": seconds,
            "due_at": frozen.get("due_at"),
        }
    return info


def deal_context(deal, *, messages_limit: int = DISPUTE_THREAD_MESSAGES) -> dict:
    """A contract or order in front of an operator: both parties, the whole thread, the timeline (audit log),
    the escrow held and the frozen remaining time of a dispute."""
    from anshin.core import audit
    from anshin.deals.kinds import kind_of

    kind = kind_of(deal)
    thread = _thread_of(deal)
    return {
        "deal": deal,
        "deal_kind": kind,
        "deal_client": kind.client(deal),
        "deal_worker": kind.worker(deal),
        "deal_amount": getattr(deal, "amount", None) or getattr(deal, "subtotal", None) or 0,
        "escrow": escrow_balance(deal),
        "frozen": frozen_timer(deal),
        "timeline": list(audit.timeline(deal)),
        "thread": thread,
        "messages": _thread_messages(thread, messages_limit) if thread else [],
        "parties": _members(thread) if thread else [kind.client(deal), kind.worker(deal)],
    }


def report_target(report) -> dict:
    """What a report points at: the message text, the job or listing, or the user."""
    from anshin.accounts.models import User
    from anshin.jobs.models import Job
    from anshin.messaging.models import Message
    from anshin.orders.models import Listing

    model = ContentType.objects.get_for_id(report.subject_type_id).model_class()
    obj = model._default_manager.filter(pk=report.subject_id).first() if model else None
    target = {"type": model._meta.model_name if model else "", "object": obj}
    if isinstance(obj, Message):
        target.update(kind="message", title="メッセージ", text=obj.body, thread=obj.thread, at=obj.created_at)
    elif isinstance(obj, Job):
        target.update(kind="job", title=obj.title, text=obj.description)
    elif isinstance(obj, Listing):
        target.update(kind="listing", title=obj.title, text=obj.description)
    elif isinstance(obj, User):
        target.update(kind="user", title=obj.name, text=obj.bio)
    else:
        target.update(kind="missing", title="（削除されています）", text="")
    return target


def item_deal(item: QueueItem):
    """The contract or order an item is about (directly, through a termination request or a deal's thread)."""
    from anshin.contracts.models import Contract, TerminationRequest
    from anshin.messaging.models import Thread
    from anshin.orders.models import Order

    subject = subject_of(item)
    if isinstance(subject, Contract | Order):
        return subject
    if isinstance(subject, TerminationRequest):
        return subject.contract
    if isinstance(subject, Thread) and item.kind != QueueItem.Kind.NUDGE_ESCALATION:
        from anshin.messaging.services import deal_of

        return deal_of(subject)
    return None


def item_thread(item: QueueItem):
    """The thread an operator may write into from this item, or None."""
    from anshin.messaging.models import Message, Thread
    from anshin.trust.models import ContactPermit

    subject = subject_of(item)
    if isinstance(subject, Thread):
        return subject
    if isinstance(subject, ContactPermit | Message):
        return subject.thread
    deal = item_deal(item)
    return _thread_of(deal) if deal is not None else None


def item_context(item: QueueItem) -> dict:
    """The subject of an item in context, by what the subject is (not by the kind alone: a termination
    escalation may be about the contract or about the refused request, a guard flag about a user or a
    message). Keys: `view` names the part of the page to show."""
    from anshin.accounts.models import User
    from anshin.contracts.models import Contract, TerminationRequest
    from anshin.messaging.models import Message, Thread
    from anshin.orders.models import Order
    from anshin.trust.models import ContactPermit, GuardHold, Report

    subject = subject_of(item)
    ctx: dict = {"subject": subject, "view": "generic", "thread": None, "messages": [], "parties": []}
    if isinstance(subject, ContactPermit):
        thread = subject.thread
        ctx.update(
            view="permit",
            permit=subject,
            thread=thread,
            parties=_members(thread),
            messages=_thread_messages(thread, PERMIT_THREAD_MESSAGES),
        )
    elif isinstance(subject, Contract | Order):
        ctx.update(view="deal", **deal_context(subject))
    elif isinstance(subject, TerminationRequest):
        ctx.update(view="deal", termination=subject, **deal_context(subject.contract))
    elif isinstance(subject, Thread):
        from anshin.messaging.services import deal_of

        deal = deal_of(subject)
        if deal is not None and item.kind != QueueItem.Kind.NUDGE_ESCALATION:
            ctx.update(view="deal", **deal_context(deal))
        else:
            ctx.update(
                view="thread",
                thread=subject,
                parties=_members(subject),
                messages=_thread_messages(subject, DISPUTE_THREAD_MESSAGES),
                deal=deal,
            )
    elif isinstance(subject, Report):
        ctx.update(view="report", report=subject, target=report_target(subject))
    elif isinstance(subject, Message):
        thread = subject.thread
        from anshin.trust.permits import scam_labels

        ctx.update(
            view="message",
            caution_labels=scam_labels(subject.caution or []),
            flagged=subject,
            thread=thread,
            parties=_members(thread),
            messages=_thread_messages(thread, PERMIT_THREAD_MESSAGES),
        )
    elif isinstance(subject, User):
        ctx.update(view="holds", holds=list(GuardHold.objects.filter(user=subject).order_by("-created_at", "-id")[:50]))
    # any operator may post as 事務局 into the thread in front of them
    ctx["can_post"] = ctx.get("thread") is not None
    return ctx


# --- risk panel ---------------------------------------------------------------------------------------------


def user_risk(user) -> dict:
    """The signals an operator weighs before deciding about `user`. A fixed number of queries."""
    from anshin.contracts.models import Contract
    from anshin.core.models import AuditEvent
    from anshin.orders.models import Order
    from anshin.trust.models import ContactPermit, GuardHold, Report

    now = clock.now()
    reports = Report.objects.filter(reported_user=user).aggregate(
        total=Count("id"), recent=Count("id", filter=Q(created_at__gte=now - RECENT_REPORTS))
    )
    holds = GuardHold.objects.filter(user=user).aggregate(
        total=Count("id"), recent=Count("id", filter=Q(created_at__gte=now - RECENT_HOLDS))
    )
    permits = ContactPermit.objects.filter(requested_by=user).aggregate(
        requested=Count("id"),
        denied=Count("id", filter=Q(state="denied")),
        revoked=Count("id", filter=Q(state="revoked")),
    )
    contract_terminal = sorted(Contract.flow.terminal)
    order_terminal = sorted(Order.flow.terminal)
    as_client = Contract.objects.filter(client=user).aggregate(
        offered=Count("id"),
        funded=Count("id", filter=Q(funded_at__isnull=False)),
        funded_yen=Coalesce(Sum("amount", filter=Q(funded_at__isnull=False)), 0),
    )
    # 仮払い率: of the offers the workers accepted (the client then owed the funding), how many were funded.
    accepted_offers = (
        AuditEvent.objects.filter(
            subject_type=ContentType.objects.get_for_model(Contract),
            action="accept_offer",
            subject_id__in=Contract.objects.filter(client=user).values("pk"),
        )
        .values("subject_id")
        .distinct()
        .count()
    )
    orders = Order.objects.filter(buyer=user).aggregate(bought=Count("id"), paid_yen=Coalesce(Sum("total"), 0))
    open_contracts = (
        Contract.objects.filter(Q(client=user) | Q(worker=user)).exclude(state__in=contract_terminal).count()
    )
    open_orders = Order.objects.filter(Q(buyer=user) | Q(seller=user)).exclude(state__in=order_terminal).count()
    actions = list(
        AuditEvent.objects.filter(
            subject_type=ContentType.objects.get_for_model(user), subject_id=user.pk, actor_role="operator"
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[:30]
    )
    for event in actions:
        event.label = action_label(event.action)
    # 仮払い率 and the rating: the same numbers as the public profile (anshin.accounts.figures)
    from anshin.accounts.figures import figures_of

    figures = figures_of(user, fresh=True)  # an operator decides on it: never a snapshot from before the latest event
    return {
        "user": user,
        "account_age_days": max(0, (now - user.date_joined).days),
        "date_joined": user.date_joined,
        "identity_verified": user.identity_verified_at is not None,
        "identity_verified_at": user.identity_verified_at,
        "rating": figures.rating_average,  # mean stars of the public reviews; None: 「評価なし」
        "rating_count": figures.rating_count,
        "reports_total": reports["total"],
        "reports_recent": reports["recent"],
        "holds_total": holds["total"],
        "holds_recent": holds["recent"],
        "permits_requested": permits["requested"],
        "permits_denied": permits["denied"],
        "permits_revoked": permits["revoked"],
        "contracts_offered": as_client["offered"],
        "contracts_accepted": accepted_offers,
        "contracts_funded": as_client["funded"],
        "contracts_funding_decided": figures.funding_decided,  # accepted and no longer awaiting funding
        "funding_rate": figures.funding_rate,
        "funded_yen": int(as_client["funded_yen"]) + int(orders["paid_yen"]),
        "contracts_funded_yen": int(as_client["funded_yen"]),
        "orders_bought": orders["bought"],
        "orders_paid_yen": int(orders["paid_yen"]),
        "open_contracts": open_contracts,
        "open_orders": open_orders,
        "open_deals": open_contracts + open_orders,
        "restricted": user.messaging_restricted_at is not None,
        "restricted_at": user.messaging_restricted_at,
        "suspended": user.suspended_at is not None,
        "suspended_at": user.suspended_at,
        "is_active": user.is_active,
        "operator_actions": actions,
    }


def user_get(*, user_id: int):
    from anshin.accounts.models import User

    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound()
    return user


def user_permits(user) -> list:
    """Live (pending or approved) permits in the user's threads, with the queue item that carried each."""
    from anshin.trust.models import ContactPermit

    permits = list(
        ContactPermit.objects.filter(thread__members__user=user, state__in=["pending", "approved"])
        .select_related("thread", "requested_by")
        .order_by("-created_at", "-id")[:50]
    )
    items = (
        dict(
            QueueItem.objects.filter(
                subject_type=ContentType.objects.get_for_model(ContactPermit), subject_id__in=[p.pk for p in permits]
            ).values_list("subject_id", "pk")
        )
        if permits
        else {}
    )
    for permit in permits:
        permit.item_id = items.get(permit.pk)
    return permits


# --- audit log ----------------------------------------------------------------------------------------------


def audit_events(*, actor_id: int | None = None, action: str = "", subject_type: str = ""):
    """AuditEvent rows newest first; `action` matches the start (queue_close finds queue_close:done)."""
    from anshin.core.models import AuditEvent

    qs = AuditEvent.objects.select_related("actor", "subject_type").order_by("-created_at", "-id")
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    if action:
        qs = qs.filter(action__startswith=action)
    if subject_type:
        qs = qs.filter(subject_type__model=subject_type.lower())
    return qs


def operators() -> list:
    """Everyone who can act in the console (for the assignee and audit actor choices)."""
    from anshin.accounts.models import User

    perm = Q(groups__permissions__codename="act", groups__permissions__content_type__app_label="ops") | Q(
        user_permissions__codename="act", user_permissions__content_type__app_label="ops"
    )
    return list(
        User.objects.filter(is_active=True, is_staff=True).filter(perm | Q(is_superuser=True)).distinct().order_by("id")
    )


# The subject types an operator filters the audit log by (model name → what it is).
SUBJECT_TYPES = {
    "user": "ユーザー",
    "contract": "契約",
    "order": "注文",
    "thread": "メッセージのやりとり",
    "contactpermit": "サービス外連絡申請",
    "report": "通報",
    "queueitem": "事務局キュー",
    "terminationrequest": "途中終了リクエスト",
    "datechangerequest": "納期変更",
    "job": "仕事",
    "application": "応募",
    "listing": "出品サービス",
    "reviewwindow": "評価",
    "withdrawal": "出金申請",
    "bankaccount": "出金先口座",
}
