"""Contract pages: my contracts, the offer form, the contract page with buttons from the flow table, and
one POST endpoint per action. Views parse input, call one service, render; non-parties get 404."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.timesince import timeuntil

from anshin.contracts import selectors, services
from anshin.contracts.flow import CONTRACT_FLOW, FORM_ACTIONS, RESOLVE_ACTIONS
from anshin.contracts.forms import FORMS, OfferForm, TerminationForm, form_errors
from anshin.contracts.models import Contract
from anshin.core import clock
from anshin.core.errors import DomainError, NotFound
from anshin.core.flows import Actor
from anshin.core.money import tiered_fee, yen
from anshin.deals.selectors import TIMELINE_WORDS as DEAL_TIMELINE_WORDS
from anshin.jobs.selectors import application_get
from anshin.messaging.selectors import deal_updates, thread_messages

# The timer of each state, in words: (short label for lists, sentence for the contract page).
TIMER_WORDS = {
    "lapse": ("承諾期限", "承諾期限", "期限を過ぎるとオファーは失効します。"),
    "expire_funding": ("仮払い期限", "仮払い期限", "期限までに仮払いがないと契約は自動でキャンセルされます。"),
    "deem_accept": (
        "自動検収",
        "自動検収まで",
        "期限までに検収合格か修正依頼がないと、自動で検収合格となり支払いが確定します。",
    ),
}

# How each audit action reads on the timeline.
TIMELINE_WORDS = {
    "offer": "契約オファー",
    "accept_offer": "オファーを承諾",
    "decline_offer": "オファーを辞退",
    "withdraw_offer": "オファーを取り下げ",
    "lapse": "承諾期限切れでオファー失効",
    "fund": "仮払い完了",
    "cancel": "契約をキャンセル",
    "expire_funding": "仮払い期限切れで自動キャンセル",
    "deliver": "納品",
    "accept": "検収合格",
    "request_revision": "修正を依頼",
    "deem_accept": "期限切れで自動検収合格",
    "terminate_overdue": "納期超過のため契約を終了（全額返金）",
    "terminate": "途中終了（合意）",
    "open_dispute": "事務局に相談（トラブル相談）",
    "resolve_release": "事務局の判断: 受注者に全額支払い",
    "resolve_refund": "事務局の判断: 全額返金",
    "resolve_split": "事務局の判断: 分割して精算",
    "termination_requested": "途中終了をリクエスト",
    "termination_refused": "途中終了リクエストを拒否",
    "termination_withdrawn": "途中終了リクエストを取り下げ",
    "termination_voided": "途中終了リクエストが無効に",
    **DEAL_TIMELINE_WORDS,
}
ROLE_WORDS = {"client": "発注者", "worker": "受注者", "operator": "事務局", "system": "システム（自動）"}

DONE_TEXT = {
    "accept_offer": "オファーを承諾しました。発注者の仮払いをお待ちください。",
    "decline_offer": "オファーを辞退しました。",
    "withdraw_offer": "オファーを取り下げました。",
    "cancel": "契約をキャンセルしました。",
    "fund": "仮払いが完了しました。",
    "deliver": "納品しました。発注者の検収をお待ちください。",
    "accept": "検収合格にしました。受注者へ支払いが確定しました。",
    "request_revision": "修正を依頼しました。",
    "terminate_overdue": "契約を終了しました。仮払いは全額返金されます。",
    "open_dispute": "事務局に相談しました。事務局からの連絡をお待ちください。",
    "termination_request": "途中終了をリクエストしました。相手の回答をお待ちください。",
    "agree": "途中終了に合意しました。契約は終了しました。",
    "refuse": "途中終了のリクエストを拒否しました。",
    "withdraw": "途中終了のリクエストを取り下げました。",
}

# Actions a person can take from this page (SYSTEM-only rows are the clock's; so is `terminate`, reached only
# through an agreed termination request; an operator resolves a dispute from the operations console).
PARTY_ACTIONS = {t.action for t in CONTRACT_FLOW.transitions if t.label} - RESOLVE_ACTIONS
TERMINATION_ANSWERS = ("agree", "refuse", "withdraw")


def _contract_or_404(contract_id: int, user) -> Contract:
    try:
        return selectors.contract_get(contract_id=contract_id, user=user)
    except NotFound:
        raise Http404 from None


def _joined(duration: str) -> str:
    """「1週間, 2日」 reads 「1週間2日」 in Japanese; English keeps "1 week, 2 days"."""
    return duration.replace(", ", "") if translation.get_language() == "ja" else duration


def timer_info(contract: Contract) -> dict | None:
    if not contract.due_at or contract.timer_action not in TIMER_WORDS:
        return None
    short, long, explain = TIMER_WORDS[contract.timer_action]
    return {
        "short": short,
        "label": long,
        "explain": explain,
        "due_at": contract.due_at,
        "left": _joined(timeuntil(contract.due_at, clock.now(), depth=2)),
    }


@login_required
def contract_list(request):
    rows = []
    for c in selectors.contract_list(user=request.user):
        mine_as = "client" if c.client_id == request.user.pk else "worker" if c.worker_id == request.user.pk else ""
        rows.append(
            {
                "contract": c,
                "role": ROLE_WORDS.get(mine_as, "事務局"),
                "counterpart": c.worker if mine_as == "client" else c.client,
                "timer": timer_info(c),
            }
        )
    return render(request, "contracts/list.html", {"rows": rows})


@login_required
def offer(request, application_id: int):
    """The job's client offers a contract to an applicant. Anyone else (the applicant included) gets 404."""
    try:
        application = application_get(application_id=application_id, user=request.user)
    except NotFound:
        raise Http404 from None
    if application.job.client_id != request.user.pk and not request.user.is_operator:
        raise Http404
    existing = Contract.objects.filter(application=application).first()
    error = ""
    if request.method == "POST":
        form = OfferForm(request.POST)
        if form.is_valid():
            try:
                contract = services.contract_offer(
                    application_id=application.pk,
                    user=request.user,
                    amount=form.cleaned_data["amount"],
                    delivery_date=form.cleaned_data["delivery_date"],
                    title=form.cleaned_data["title"],
                )
            except DomainError as e:
                if e.status == 404:
                    raise Http404 from None
                error = e.message
            else:
                flash.success(request, "契約オファーを送りました。受注者の承諾をお待ちください。")
                return redirect("contracts:detail", contract_id=contract.pk)
        else:
            error = form_errors(form)
    else:
        form = OfferForm(
            initial={
                "title": application.job.title,
                "amount": application.amount,
                "delivery_date": application.estimated_date,
            }
        )
    return render(
        request,
        "contracts/offer.html",
        {
            "application": application,
            "form": form,
            "error": error,
            "existing": existing,
            "fee": tiered_fee(application.amount),
        },
        status=400 if error else 200,
    )


def _timeline(contract: Contract) -> list[dict]:
    rows = []
    for event in selectors.contract_timeline(contract=contract):
        role = ROLE_WORDS.get(event.actor_role, event.actor_role)
        who = f"{role} {event.actor.name}" if event.actor and event.actor_role != "operator" else role
        rows.append(
            {
                "at": event.created_at,
                "who": who,
                "what": TIMELINE_WORDS.get(event.action, event.action),
                "from": CONTRACT_FLOW.states.get(event.from_state, ""),
                "to": CONTRACT_FLOW.states.get(event.to_state, ""),
                "reason": (event.payload or {}).get("reason", ""),
                "detail": _detail_words(event.action, event.payload or {}),
            }
        )
    return rows


def _detail_words(action: str, payload: dict) -> str:
    if action in ("terminate", "termination_requested", "resolve_split") and "refund" in payload:
        return (
            f"受注者へ {yen(payload['worker_amount'])}（手数料 {yen(payload['fee'])} 差し引き後 "
            f"{yen(payload['worker_net'])}）・発注者へ返金 {yen(payload['refund'])}"
        )
    if action.startswith("date_change_") and "new_date" in payload:
        return f"{payload['old_date'].replace('-', '/')} → {payload['new_date'].replace('-', '/')}"
    return ""


def _detail(request, contract: Contract, *, error: str = "", bound: dict | None = None, status: int = 200):
    user = request.user
    actions = [t for t in selectors.contract_actions(contract=contract, user=user) if t.action in PARTY_ACTIONS]
    forms = {t.action: (bound or {}).get(t.action) or FORMS[t.action]() for t in actions if t.action in FORM_ACTIONS}
    dispute = next(((t, forms.pop(t.action)) for t in actions if t.action == "open_dispute"), None)
    actions = [t for t in actions if t.action != "open_dispute"]
    termination = selectors.termination_panel(contract=contract, user=user)
    termination_form = (bound or {}).get("termination_request") or TerminationForm(initial={"worker_amount": 0})
    role = contract.role_of(user)
    try:
        thread = contract.thread
    except Contract.thread.RelatedObjectDoesNotExist:
        thread = None
    fee = tiered_fee(contract.amount)
    context = {
        "contract": contract,
        "role": role,
        "role_word": ROLE_WORDS.get(role or "operator"),
        "buttons": [t for t in actions if t.action not in FORM_ACTIONS],
        "form_actions": [(t, forms[t.action]) for t in actions if t.action in FORM_ACTIONS],
        "timer": timer_info(contract),
        "fee": fee,
        "net": contract.amount - fee,
        "show_fee": role != Actor.CLIENT,
        "before_funding": contract.state in ("offered", "awaiting_funding") and role == Actor.WORKER,
        "deliveries": contract.deliveries.prefetch_related("attachments"),
        "timeline": _timeline(contract),
        "thread": thread,
        "recent_messages": thread_messages(thread=thread, limit=5) if thread else [],
        "deal_updates": deal_updates(thread),
        "error": error,
        "dispute": dispute,
        "termination": termination,
        "termination_form": termination_form if termination["can_request"] else None,
        "split_preview": _split(contract, 0),
    }
    return render(request, "contracts/detail.html", context, status=status)


@login_required
def detail(request, contract_id: int):
    contract = _contract_or_404(contract_id, request.user)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])  # after the party check: a non-party gets 404 whatever the method
    return _detail(request, contract)


@login_required
def action(request, contract_id: int, action: str):
    contract = _contract_or_404(contract_id, request.user)
    if action not in PARTY_ACTIONS:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = None
    try:
        if action in FORMS:
            form = FORMS[action](request.POST, request.FILES)
            if not form.is_valid():
                raise DomainError("invalid", form_errors(form))
            data = form.cleaned_data
            if action == "fund":
                services.contract_fund(contract_id=contract.pk, user=request.user, card_token=data["card_token"])
            elif action == "deliver":
                services.contract_deliver(
                    contract_id=contract.pk,
                    user=request.user,
                    body=data["body"],
                    links=data["links"],
                    files=data["files"],
                )
            elif action == "open_dispute":
                services.contract_open_dispute(contract_id=contract.pk, user=request.user, reason=data["reason"])
            else:
                services.contract_request_revision(contract_id=contract.pk, user=request.user, reason=data["reason"])
        else:
            services.contract_simple_action(contract_id=contract.pk, user=request.user, action=action)
    except DomainError as e:
        if e.status == 404:
            raise Http404 from None
        contract = _contract_or_404(contract_id, request.user)  # fresh: nothing changed, but the clock may have
        return _detail(
            request,
            contract,
            error=e.message,
            bound={action: form} if form else None,
            status=e.status if 400 <= e.status < 500 else 400,
        )
    flash.success(request, DONE_TEXT.get(action, "完了しました。"))
    return redirect("contracts:detail", contract_id=contract.pk)


# --- 契約途中終了リクエスト -----------------------------------------------------------------------------------


def _split(contract: Contract, worker_amount: int) -> dict:
    fee = tiered_fee(worker_amount)
    return {
        "worker_amount": worker_amount,
        "fee": fee,
        "worker_net": worker_amount - fee,
        "refund": contract.amount - worker_amount,
    }


@login_required
def termination_request(request, contract_id: int):
    contract = _contract_or_404(contract_id, request.user)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = TerminationForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError("invalid", form_errors(form))
        services.termination_request_create(
            contract_id=contract.pk,
            user=request.user,
            worker_amount=form.cleaned_data["worker_amount"],
            reason=form.cleaned_data["reason"],
        )
    except DomainError as e:
        if e.status == 404:
            raise Http404 from None
        contract = _contract_or_404(contract_id, request.user)
        return _detail(
            request,
            contract,
            error=e.message,
            bound={"termination_request": form},
            status=e.status if 400 <= e.status < 500 else 400,
        )
    flash.success(request, DONE_TEXT["termination_request"])
    return redirect("contracts:detail", contract_id=contract.pk)


@login_required
def termination_preview(request, contract_id: int):
    """The split a worker_amount gives (htmx, as the amount is typed): exact yen from the same fee function."""
    contract = _contract_or_404(contract_id, request.user)
    try:
        worker_amount = int(request.GET.get("worker_amount") or 0)
    except ValueError:
        worker_amount = -1
    invalid = not 0 <= worker_amount <= contract.amount
    context = {"contract": contract, "split": None if invalid else _split(contract, worker_amount), "invalid": invalid}
    return render(request, "contracts/_split.html", context)


@login_required
def termination_answer(request, request_id: int, action: str):
    try:
        termination = selectors.termination_get(request_id=request_id, user=request.user)
    except NotFound:
        raise Http404 from None
    if action not in TERMINATION_ANSWERS:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    contract = termination.contract
    try:
        services.termination_answer(request_id=termination.pk, user=request.user, action=action)
    except DomainError as e:
        if e.status == 404:
            raise Http404 from None
        contract = _contract_or_404(contract.pk, request.user)
        return _detail(request, contract, error=e.message, status=e.status if 400 <= e.status < 500 else 400)
    flash.success(request, DONE_TEXT[action])
    return redirect("contracts:detail", contract_id=contract.pk)
