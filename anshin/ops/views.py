"""The operations console (事務局): dashboard, queues, one item with its subject in context and a decision
form, a user's risk panel with the account measures, and the audit log.

Every view is `operator_view`: anyone who is not an operator gets 404 (the console's existence is not
revealed), whatever the method — the operator check runs before the CSRF check, which then applies to
every POST as usual. Views parse input, call one service, render; every decision needs an internal note."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from anshin.core.api_auth import MAX_ID
from anshin.core.errors import DomainError, NotFound
from anshin.ops import selectors, services
from anshin.ops.forms import (
    AccountActionForm,
    CloseForm,
    MessageForm,
    PermitDecisionForm,
    ResolveForm,
    form_errors,
)
from anshin.ops.models import QueueItem

PAGE_SIZE = 50
ROLE_WORDS = {"client": "発注者", "worker": "受注者", "operator": "事務局", "system": "システム（自動）", "": ""}

PERMIT_DONE = {
    "approve": "サービス外連絡申請を承認しました。当事者に通知しました。",
    "deny": "サービス外連絡申請を否認しました。当事者に通知しました。",
    "revoke": "サービス外連絡の承認を取り消しました。当事者に通知しました。",
}
RESOLVE_DONE = {
    "release": "受注者への支払いで解決しました。",
    "refund": "発注者への返金で解決しました。",
    "split": "分割で解決しました。",
}
WITHDRAWAL_DONE = {
    "pay": "振込済みにしました。受注者に通知しました。",
    "reverse": "差し戻しました。金額は受注者の出金可能額に戻り、受注者に通知しました。",
}
ACCOUNT_DONE = {
    "warn": "警告を送りました。",
    "restrict": "メッセージ送信を制限しました。",
    "unrestrict": "メッセージ送信の制限を解除しました。",
    "suspend": "利用を停止しました。進行中の取引は凍結され、相手方に通知しました。",
    "reinstate": "利用停止を解除しました。",
    "verify_identity": "本人確認済みにしました。",
    "revoke_permits": "サービス外連絡の承認をすべて取り消しました。関係者に通知しました。",
}


def duration_words(seconds: int) -> str:
    """3日4時間5分 (a frozen remaining time, to the minute)."""
    minutes = max(0, int(seconds)) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days}日" if days else "", f"{hours}時間" if hours else ""]
    if minutes or not (days or hours):
        parts.append(f"{minutes}分")
    return "".join(parts)


def operator_view(view):
    """Operators only (404 for everyone else, before anything else is looked at, CSRF included); POSTs are
    CSRF-checked after that, exactly as the middleware would."""
    protected = csrf_protect(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_operator):
            raise Http404
        return protected(request, *args, **kwargs)

    return csrf_exempt(wrapper)


def _only(request, *methods):
    if request.method not in methods:
        return HttpResponseNotAllowed(list(methods))
    return None


def _status(e: DomainError) -> int:
    return e.status if 400 <= e.status < 500 else 400


# --- dashboard and queues -----------------------------------------------------------------------------------


@operator_view
def dashboard(request):
    if refused := _only(request, "GET", "HEAD"):
        return refused
    return render(request, "ops/dashboard.html", selectors.dashboard(operator=request.user))


@operator_view
def queue(request, kind: str = ""):
    if refused := _only(request, "GET", "HEAD"):
        return refused
    state = request.GET.get("state", "open")
    state = state if state in selectors.QUEUE_STATES else "open"
    mine = request.GET.get("mine") == "1"
    try:
        items = selectors.queue_items(kind=kind, state=state, assignee=request.user if mine else None)
    except NotFound:
        raise Http404 from None
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    query = f"state={state}" + ("&mine=1" if mine else "")
    return render(
        request,
        "ops/queue.html",
        {
            "kind": kind,
            "kind_label": QueueItem.Kind(kind).label if kind else "すべてのキュー",
            "state": state,
            "mine": mine,
            "page": page,
            "query": query,
            "kinds": QueueItem.Kind.choices,
        },
    )


# --- one item -----------------------------------------------------------------------------------------------


def _timeline_rows(events) -> list[dict]:
    from anshin.contracts.flow import CONTRACT_FLOW
    from anshin.contracts.views import TIMELINE_WORDS as CONTRACT_WORDS
    from anshin.orders.flow import ORDER_FLOW
    from anshin.orders.views import TIMELINE_WORDS as ORDER_WORDS

    words = {**ORDER_WORDS, **CONTRACT_WORDS}
    states = {**dict(ORDER_FLOW.states.items()), **dict(CONTRACT_FLOW.states.items())}
    rows = []
    for event in events:
        payload = event.payload or {}
        rows.append(
            {
                "at": event.created_at,
                "who": " ".join(
                    filter(
                        None,
                        [ROLE_WORDS.get(event.actor_role, event.actor_role), event.actor.name if event.actor else ""],
                    )
                ),
                "what": words.get(event.action) or selectors.action_label(event.action),
                "from": states.get(event.from_state, event.from_state),
                "to": states.get(event.to_state, event.to_state),
                "reason": payload.get("reason", ""),
                "note": payload.get("note", ""),
            }
        )
    return rows


def _timer_label(action: str) -> str:
    from anshin.contracts.views import TIMER_WORDS as CONTRACT_TIMERS
    from anshin.orders.views import TIMER_WORDS as ORDER_TIMERS

    words = {**ORDER_TIMERS, **CONTRACT_TIMERS}
    return words[action][0] if action in words else action


def _item_forms(ctx: dict, item: QueueItem, bound: dict) -> dict:
    forms: dict = {}
    waiting = ctx["view"] == "withdrawal" and ctx["withdrawal"].state == "requested"
    if item.state == QueueItem.State.OPEN and not waiting:  # a waiting withdrawal is closed by paying or reversing
        forms["close"] = bound.get("close") or CloseForm()
    if waiting:
        from anshin.payouts.forms import WithdrawalPayForm, WithdrawalReverseForm

        forms["pay"] = bound.get("pay") or WithdrawalPayForm()
        forms["reverse"] = bound.get("reverse") or WithdrawalReverseForm()
    if ctx["view"] == "permit":
        permit = ctx["permit"]
        choices = {"pending": ["approve", "deny"], "approved": ["revoke"]}.get(permit.state, [])
        if choices:
            form = bound.get("permit") or PermitDecisionForm(initial={"decision": choices[0]})
            form.fields["decision"].choices = [c for c in form.fields["decision"].choices if c[0] in choices]
            forms["permit"] = form
    if ctx["view"] == "deal" and ctx["deal"].state not in ctx["deal"].flow.terminal:
        forms["resolve"] = bound.get("resolve") or ResolveForm()
    if ctx.get("can_post"):
        forms["message"] = bound.get("message") or MessageForm()
    if ctx["view"] == "report" and item.concerns_id:
        forms["account"] = bound.get("account") or AccountActionForm()
    return forms


def _with_withdrawal(ctx: dict) -> dict:
    """An item about a withdrawal (出金申請): its bank snapshot, the worker's balances and recent withdrawals."""
    from anshin.payouts.models import Withdrawal
    from anshin.payouts.selectors import ops_context

    if isinstance(ctx["subject"], Withdrawal):
        ctx.update(view="withdrawal", **ops_context(ctx["subject"]))
    return ctx


def _risk_subjects(item: QueueItem, ctx: dict) -> list:
    """Whose risk panel sits beside the item: the user it concerns, else both sides of the deal or thread."""
    if item.concerns_id:
        return [item.concerns]
    if ctx["view"] == "deal":
        return [ctx["deal_client"], ctx["deal_worker"]]
    return list(ctx.get("parties") or [])[:2]


def _item_page(request, item_id: int, *, error: str = "", bound: dict | None = None, status: int = 200):
    try:
        item = selectors.queue_item_get(item_id=item_id)
    except NotFound:
        raise Http404 from None
    ctx = _with_withdrawal(selectors.item_context(item))
    if ctx["view"] == "deal":
        ctx["timeline_rows"] = _timeline_rows(ctx["timeline"])
        ctx["deal_url"] = ctx["deal_kind"].url(ctx["deal"])
        timer = (ctx["frozen"] or {}).get("timer")
        ctx["frozen_left"] = duration_words(timer["remaining_seconds"]) if timer else ""
        ctx["frozen_label"] = _timer_label(timer["action"]) if timer else ""
    context = {
        "item": item,
        **ctx,
        "forms": _item_forms(ctx, item, bound or {}),
        "risks": [selectors.user_risk(u) for u in _risk_subjects(item, ctx)],
        "operators": selectors.operators(),
        "error": error,
    }
    return render(request, "ops/item.html", context, status=status)


@operator_view
def item(request, item_id: int):
    if refused := _only(request, "GET", "HEAD"):
        return refused
    return _item_page(request, item_id)


def _item_action(request, item_id: int, form_name: str, form_class, act):
    """POST one decision on an item: parse the form, call `act(data)` (one service), flash and redirect; on
    refusal, the item page again with the error and the form as typed."""
    if refused := _only(request, "POST"):
        return refused
    form = form_class(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("invalid", form_errors(form))
        done = act(form.cleaned_data)
    except DomainError as e:
        if e.status == 404:
            raise Http404 from None
        return _item_page(request, item_id, error=e.message, bound={form_name: form}, status=_status(e))
    flash.success(request, done)
    return redirect("ops:item", item_id=item_id)


def _item_or_404(item_id: int) -> QueueItem:
    try:
        return selectors.queue_item_get(item_id=item_id)
    except NotFound:
        raise Http404 from None


@operator_view
def item_assign(request, item_id: int):
    if refused := _only(request, "POST"):
        return refused
    _item_or_404(item_id)
    raw = (request.POST.get("assignee_id") or "").strip()
    try:
        assignee_id = int(raw) if raw else None
    except ValueError:
        assignee_id = -1
    if assignee_id is not None and not 0 < assignee_id <= MAX_ID:
        return _item_page(request, item_id, error="担当者の指定が正しくありません。", status=400)
    try:
        services.queue_item_assign(item_id=item_id, operator=request.user, assignee_id=assignee_id)
    except DomainError as e:
        if e.status == 404:
            raise Http404 from None
        return _item_page(request, item_id, error=e.message, status=_status(e))
    flash.success(request, "担当者を変更しました。" if assignee_id else "担当を外しました。")
    return redirect("ops:item", item_id=item_id)


@operator_view
def item_close(request, item_id: int):
    item = _item_or_404(item_id)

    def act(data):
        from anshin.payouts.selectors import refuse_close_while_waiting

        refuse_close_while_waiting(item)
        services.item_close(item_id=item_id, operator=request.user, resolution=data["resolution"], note=data["note"])
        return "対応済みにしました。"

    return _item_action(request, item_id, "close", CloseForm, act)


@operator_view
def item_permit(request, item_id: int):
    from anshin.trust.models import ContactPermit

    item = _item_or_404(item_id)
    permit = selectors.subject_of(item)
    if not isinstance(permit, ContactPermit):
        raise Http404

    def act(data):
        from anshin.trust import permits

        if data["decision"] == "revoke":
            permits.permit_revoke(permit_id=permit.pk, operator=request.user, note=data["note"])
        else:
            permits.permit_decide(
                permit_id=permit.pk, operator=request.user, approve=data["decision"] == "approve", note=data["note"]
            )
        return PERMIT_DONE[data["decision"]]

    return _item_action(request, item_id, "permit", PermitDecisionForm, act)


@operator_view
def item_resolve(request, item_id: int):
    from anshin.deals.kinds import kind_of

    deal = selectors.item_deal(_item_or_404(item_id))
    if deal is None:
        raise Http404

    def act(data):
        from anshin.deals.disputes import dispute_resolve

        outcome = data["outcome"]
        worker_amount = data.get("worker_amount")
        if outcome == "split" and worker_amount is None:
            raise DomainError("worker_amount_required", "分割のときは受注者に支払う額を入力してください。")
        dispute_resolve(
            kind=kind_of(deal).name,
            deal_id=deal.pk,
            operator=request.user,
            outcome=outcome,
            worker_amount=worker_amount if outcome == "split" else None,
            note=data["note"],
        )
        return RESOLVE_DONE[outcome]

    return _item_action(request, item_id, "resolve", ResolveForm, act)


def _item_withdrawal(item_id: int):
    from anshin.payouts.models import Withdrawal

    withdrawal = selectors.subject_of(_item_or_404(item_id))
    if not isinstance(withdrawal, Withdrawal):
        raise Http404
    return withdrawal


@operator_view
def item_pay(request, item_id: int):
    from anshin.payouts.forms import WithdrawalPayForm
    from anshin.payouts.services import withdrawal_pay

    withdrawal = _item_withdrawal(item_id)

    def act(data):
        withdrawal_pay(withdrawal_id=withdrawal.pk, operator=request.user, note=data["note"])
        return WITHDRAWAL_DONE["pay"]

    return _item_action(request, item_id, "pay", WithdrawalPayForm, act)


@operator_view
def item_reverse(request, item_id: int):
    from anshin.payouts.forms import WithdrawalReverseForm
    from anshin.payouts.services import withdrawal_reverse

    withdrawal = _item_withdrawal(item_id)

    def act(data):
        withdrawal_reverse(withdrawal_id=withdrawal.pk, operator=request.user, note=data["note"],
                           reason=data["reason"])
        return WITHDRAWAL_DONE["reverse"]

    return _item_action(request, item_id, "reverse", WithdrawalReverseForm, act)


@operator_view
def withdrawals(request):
    """The withdrawal queue with what a transfer needs on one screen: amount, bank details, due time."""
    if refused := _only(request, "GET", "HEAD"):
        return refused
    from anshin.payouts.selectors import attach_withdrawals

    state = request.GET.get("state", "open")
    state = state if state in selectors.QUEUE_STATES else "open"
    page = Paginator(selectors.queue_items(kind=QueueItem.Kind.WITHDRAWAL, state=state), PAGE_SIZE).get_page(
        request.GET.get("page"))
    rows = attach_withdrawals(page.object_list)
    return render(request, "ops/withdrawals.html", {"page": page, "rows": rows, "state": state,
                                                    "query": f"state={state}"})


@operator_view
def item_message(request, item_id: int):
    thread = selectors.item_thread(_item_or_404(item_id))
    if thread is None:
        raise Http404

    def act(data):
        services.ops_message_post(thread_id=thread.pk, operator=request.user, body=data["body"], note=data["note"])
        return "事務局としてメッセージを送りました。"

    return _item_action(request, item_id, "message", MessageForm, act)


# --- users: risk panel and account measures -----------------------------------------------------------------


def _user_page(request, user_id: int, *, error: str = "", bound: AccountActionForm | None = None, status: int = 200):
    try:
        subject = selectors.user_get(user_id=user_id)
    except NotFound:
        raise Http404 from None
    risk = selectors.user_risk(subject)
    actions = _available_actions(risk)
    return render(
        request,
        "ops/user.html",
        {
            "subject": subject,
            "risk": risk,
            "actions": actions,
            "error": error,
            "bound": bound,
            "bound_action": bound.data.get("action") if bound is not None else "",
            "permits": selectors.user_permits(subject),
            "items": list(selectors.queue_items(state="open").filter(concerns=subject)[:20]),
        },
        status=status,
    )


def _available_actions(risk: dict) -> list[tuple[str, str, str]]:
    """(action, label, style) of the measures that make sense for the user's current standing."""
    labels = services.ACCOUNT_ACTIONS
    rows = [("warn", labels["warn"], "secondary")]
    rows.append(
        ("unrestrict", labels["unrestrict"], "secondary")
        if risk["restricted"]
        else ("restrict", labels["restrict"], "danger")
    )
    rows.append(
        ("reinstate", labels["reinstate"], "secondary")
        if risk["suspended"]
        else ("suspend", labels["suspend"], "danger")
    )
    if not risk["identity_verified"]:
        rows.append(("verify_identity", labels["verify_identity"], "secondary"))
    rows.append(("revoke_permits", labels["revoke_permits"], "danger"))
    return rows


@operator_view
def user(request, user_id: int):
    if refused := _only(request, "GET", "HEAD"):
        return refused
    return _user_page(request, user_id)


@operator_view
def user_action(request, user_id: int):
    if refused := _only(request, "POST"):
        return refused
    try:
        selectors.user_get(user_id=user_id)
    except NotFound:
        raise Http404 from None
    form = AccountActionForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("invalid", form_errors(form))
        data = form.cleaned_data
        services.account_action(
            user_id=user_id, operator=request.user, action=data["action"], note=data["note"], message=data["message"]
        )
    except DomainError as e:
        if e.status == 404:
            raise Http404 from None
        return _user_page(request, user_id, error=e.message, bound=form, status=_status(e))
    flash.success(request, ACCOUNT_DONE[data["action"]])
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) and back.startswith("/ops/"):
        return redirect(back)
    return redirect("ops:user", user_id=user_id)


# --- audit log ----------------------------------------------------------------------------------------------


def _subject_link(event) -> str:
    model = event.subject_type.model
    names = {
        "user": ("ops:user", "user_id"),
        "queueitem": ("ops:item", "item_id"),
        "contract": ("contracts:detail", "contract_id"),
        "order": ("orders:detail", "order_id"),
        "thread": ("messaging:thread", "thread_id"),
    }
    if model not in names:
        return ""
    name, arg = names[model]
    return reverse(name, kwargs={arg: event.subject_id})


@operator_view
def audit_log(request):
    if refused := _only(request, "GET", "HEAD"):
        return refused
    try:
        actor_id = int(request.GET.get("actor") or 0) or None
    except ValueError:
        actor_id = None
    if actor_id is not None and not 0 < actor_id <= MAX_ID:
        actor_id = None
    action = (request.GET.get("action") or "").replace("\x00", "").strip()[:64]
    subject_type = request.GET.get("subject_type") or ""
    if subject_type not in selectors.SUBJECT_TYPES:
        subject_type = ""
    page = Paginator(
        selectors.audit_events(actor_id=actor_id, action=action, subject_type=subject_type), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    rows = [
        {
            "event": event,
            "role": ROLE_WORDS.get(event.actor_role, event.actor_role),
            "type": selectors.SUBJECT_TYPES.get(event.subject_type.model, event.subject_type.model),
            "link": _subject_link(event),
            "note": (event.payload or {}).get("note", ""),
            "label": selectors.action_label(event.action),
        }
        for event in page.object_list
    ]
    query = urlencode(
        {k: v for k, v in {"actor": actor_id or "", "action": action, "subject_type": subject_type}.items() if v}
    )
    return render(
        request,
        "ops/audit.html",
        {
            "page": page,
            "rows": rows,
            "query": query,
            "operators": selectors.operators(),
            "actor_id": actor_id,
            "action": action,
            "subject_type": subject_type,
            "subject_types": selectors.SUBJECT_TYPES.items(),
        },
    )
