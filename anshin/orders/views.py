"""Service listings and orders pages (PRODUCT.md §3): search, listing page with the purchase form and the
hearing sheet, the listing form with a hearing-sheet builder, my orders, and the order page with buttons
from the flow table. Views parse input, call one service or selector, render; refused actions come back as a
Japanese message and change nothing; anyone who is not a party gets 404."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.forms import formset_factory
from django.forms.utils import ErrorDict
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.timesince import timeuntil

from anshin import rules
from anshin.core import clock
from anshin.core.errors import DomainError, NotFound
from anshin.core.flows import Actor
from anshin.core.money import yen
from anshin.messaging.selectors import deal_updates, thread_messages
from anshin.orders import selectors, services
from anshin.orders.flow import CANCEL_REQUEST_FLOW, LISTING_FLOW, ORDER_FLOW, RESOLVE_ACTIONS
from anshin.orders.flow import OPEN as OPEN_STATES
from anshin.orders.forms import (
    BLANK_OPTIONS,
    BLANK_QUESTIONS,
    CancelRequestForm,
    DeliverForm,
    DisputeForm,
    ListingForm,
    ListingSearchForm,
    OptionRowForm,
    PurchaseForm,
    QuestionRowForm,
    RevisionForm,
    form_errors,
)
from anshin.orders.models import CancelRequest, HearingQuestion, Listing, Order

PAGE_SIZE = 20

# The timer of each state, in words: (short label for lists, label on the order page, explanation).
TIMER_WORDS = {
    "expire": ("自動キャンセルまで", "自動キャンセルまで",
               "期限までに出品者が注文を承諾するかメッセージを送らないと、注文は自動でキャンセルされ、全額返金されます。"),
    "auto_approve": ("自動承諾まで", "自動承諾まで",
                     "期限までに承諾か差し戻しがないと、自動で承諾（取引完了）となり、出品者への支払いが確定します。"),
}

TIMELINE_WORDS = {
    "purchase": "購入",
    "respond": "出品者が返答",
    "accept": "注文を承諾",
    "expire": "48時間以内に返答がなく自動キャンセル（全額返金）",
    "deliver": "正式な納品",
    "approve": "承諾（取引完了）",
    "request_revision": "差し戻し（修正依頼）",
    "auto_approve": "72時間以内に回答がなく自動承諾（取引完了）",
    "terminate_overdue": "納期超過のため取引を終了（全額返金）",
    "cancel": "キャンセル（全額返金）",
    "cancel_request": "キャンセル申請",
    "request": "キャンセル申請",
    "agree": "キャンセルに同意",
    "refuse": "キャンセルを拒否",
    "withdraw": "キャンセル申請を取り下げ",
    "lapse": "回答期限切れでキャンセル成立",
    "void": "取引の状態が変わったため、キャンセル申請は無効",
    "open_dispute": "事務局に相談（トラブル相談）",
    "resolve_release": "事務局の判断: 出品者に全額支払い（取引完了）",
    "resolve_refund": "事務局の判断: 全額返金",
    "resolve_split": "事務局の判断: 分割して精算",
    "date_change_proposed": "お届け予定日の変更を申請",
    "date_change_approved": "お届け予定日の変更を承認",
    "date_change_declined": "お届け予定日の変更を拒否",
    "date_change_withdrawn": "お届け予定日の変更申請を取り下げ",
    "date_change_voided": "お届け予定日の変更申請は無効",
}
ROLE_WORDS = {"client": "購入者", "worker": "出品者", "operator": "事務局", "system": "システム（自動）"}

DONE_TEXT = {
    "accept": "注文を承諾しました。お届け予定日までに納品してください。",
    "deliver": "納品しました。購入者の承諾をお待ちください。",
    "approve": "承諾しました。取引が完了し、出品者への支払いが確定しました。",
    "request_revision": "差し戻しました（修正依頼）。",
    "terminate_overdue": "取引を終了しました。お支払い額は全額返金されます。",
    "agree": "キャンセルに同意しました。注文はキャンセルされ、全額返金されます。",
    "refuse": "キャンセルを拒否しました。取引は続きます。",
    "withdraw": "キャンセル申請を取り下げました。",
    "open_dispute": "事務局に相談しました。事務局からの連絡をお待ちください。",
}

FORM_ACTIONS = {"deliver": DeliverForm, "request_revision": RevisionForm, "open_dispute": DisputeForm}
# Actions a person can take from the order page (unlabelled rows are the thread's or the clock's; an operator
# resolves a dispute from the operations console).
PARTY_ACTIONS = {t.action for t in ORDER_FLOW.transitions
                 if t.label and set(t.actors) - {Actor.SYSTEM}} - RESOLVE_ACTIONS
LISTING_ACTIONS = {t.action for t in LISTING_FLOW.transitions}
ANSWER_ACTIONS = {t.action for t in CANCEL_REQUEST_FLOW.transitions if set(t.actors) - {Actor.SYSTEM}}


def _or_404(error: DomainError) -> None:
    if isinstance(error, NotFound) or error.status == 404:
        raise Http404(error.message)


def _joined(duration: str) -> str:
    return duration.replace(", ", "") if translation.get_language() == "ja" else duration


def timer_info(order: Order) -> dict | None:
    if not order.due_at or order.timer_action not in TIMER_WORDS:
        return None
    short, label, explain = TIMER_WORDS[order.timer_action]
    return {"short": short, "label": label, "explain": explain, "due_at": order.due_at,
            "left": _joined(timeuntil(order.due_at, clock.now(), depth=2))}


# --- listings -------------------------------------------------------------------------------------------


def listing_list(request):
    form = ListingSearchForm(request.GET or None)
    if form.is_bound:
        form.is_valid()  # invalid fields are shown and ignored
    page = Paginator(selectors.listing_search(**form.search_args()), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    htmx = getattr(request, "htmx", False) and not request.htmx.boosted
    return render(request, "orders/listings.html#results" if htmx else "orders/listings.html", context)


def _listing_or_404(request, listing_id: int) -> Listing:
    try:
        return selectors.listing_get(listing_id=listing_id, user=request.user)
    except NotFound:
        raise Http404 from None


def _own_listing_or_404(request, listing_id: int) -> Listing:
    listing = _listing_or_404(request, listing_id)
    if listing.seller_id != request.user.pk:
        raise Http404
    return listing


def _quote(listing: Listing, option_ids) -> dict:
    chosen = [o for o in listing.options.all() if o.pk in set(option_ids)]
    subtotal = listing.price + sum(o.price for o in chosen)
    fee = services.buyer_fee(subtotal)
    return {"subtotal": subtotal, "fee": fee, "total": subtotal + fee,
            "days": listing.delivery_days + sum(o.extra_days for o in chosen),
            "permille": rules.ORDER_BUYER_FEE_PERMILLE}


def _listing_context(request, listing: Listing, form: PurchaseForm | None = None, error: str = "") -> dict:
    user = request.user
    is_seller = user.is_authenticated and listing.seller_id == user.pk
    can_buy = user.is_authenticated and not is_seller and listing.state == "active"
    option_ids = []
    if form is not None and form.is_bound:
        option_ids = [int(v) for v in form.data.getlist("options") if v.isdigit()]
    return {
        "listing": listing,
        "is_seller": is_seller,
        "transitions": selectors.listing_actions(listing=listing, user=user) if is_seller else [],
        "form": (form or PurchaseForm(listing=listing)) if can_buy else None,
        "quote": _quote(listing, option_ids),
        "error": error,
        "past_orders": (
            list(Order.objects.filter(listing=listing, buyer=user).order_by("-created_at")[:5])
            if can_buy else []),
    }


def listing_detail(request, listing_id: int):
    listing = _listing_or_404(request, listing_id)
    return render(request, "orders/listing.html", _listing_context(request, listing))


def listing_quote(request, listing_id: int):
    """htmx: the total for the options ticked so far (price + options + buyer fee)."""
    listing = _listing_or_404(request, listing_id)
    option_ids = [int(v) for v in request.GET.getlist("options") if v.isdigit()]
    return render(request, "orders/_quote.html", {"quote": _quote(listing, option_ids)})


@login_required
def order_purchase(request, listing_id: int):
    listing = _listing_or_404(request, listing_id)
    if request.method != "POST":  # e.g. back from the login page: the form is on the listing page
        return redirect("orders:listing", listing_id=listing.pk)
    form = PurchaseForm(request.POST, listing=listing)
    error = ""
    status = 400
    if form.is_valid():
        try:
            order = services.order_purchase(
                listing_id=listing.pk, user=request.user, option_ids=form.cleaned_data["options"],
                answers=form.answers(),
                card_token=form.cleaned_data["card_token"])
        except DomainError as e:
            _or_404(e)
            error = e.message
            status = e.status if 400 <= e.status < 500 else 400
        else:
            flash.success(request, "購入しました。出品者の返答をお待ちください"
                                   "（48時間以内に返答がない場合は自動でキャンセルされ、全額返金されます）。")
            return redirect("orders:detail", order_id=order.pk)
    else:
        error = "入力内容を確認してください。" + (
            " " + " ".join(form.non_field_errors()) if form.non_field_errors() else "")
        if form.has_error("options"):
            error += " " + " ".join(form.errors["options"])
    return render(request, "orders/listing.html", _listing_context(request, listing, form, error), status=status)


def _option_set(extra: int):
    return formset_factory(OptionRowForm, extra=extra, can_delete=True, max_num=services.MAX_OPTIONS,
                           absolute_max=services.MAX_OPTIONS)


def _question_set(extra: int):
    return formset_factory(QuestionRowForm, extra=extra, can_delete=True, max_num=services.MAX_QUESTIONS,
                           absolute_max=services.MAX_QUESTIONS)


def _one_more(data, key: str, cap: int) -> None:
    try:
        total = int(data.get(key) or 0)
    except ValueError:
        return  # tampered: the formset reports it
    data[key] = str(min(total + 1, cap))


def _listing_formsets(request, listing: Listing | None, data=None):
    """The listing form, its option rows and its hearing-sheet question rows (existing ones, then blanks)."""
    if data is not None:
        option_set = _option_set(0)
        question_set = _question_set(0)
        return ListingForm(data), option_set(data, prefix="opt"), question_set(data, prefix="q")
    options = [{"title": o.title, "price": o.price, "extra_days": o.extra_days}
               for o in (listing.options.all() if listing else [])]
    questions = [{"kind": q.kind, "text": q.text, "choices": "\n".join(q.choices), "example": q.example,
                  "required": q.required} for q in (listing.questions.all() if listing else [])]
    if listing is None:
        questions = [{"kind": HearingQuestion.Kind.TEXT, "required": True}]
    option_set = _option_set(BLANK_OPTIONS)
    question_set = _question_set(BLANK_QUESTIONS)
    initial = {name: getattr(listing, name) for name in ListingForm.base_fields} if listing else None
    return (ListingForm(initial=initial), option_set(initial=options, prefix="opt"),
            question_set(initial=questions, prefix="q"))


def _rows(formset) -> list[dict]:
    return [row for f in formset.forms if not (f.cleaned_data or {}).get("DELETE") and (row := f.row())]


def _listing_form_view(request, listing: Listing | None):
    if request.method == "POST":
        data = request.POST.copy()
        grow = "add_question" in data or "add_option" in data
        if "add_question" in data:
            _one_more(data, "q-TOTAL_FORMS", services.MAX_QUESTIONS)
        if "add_option" in data:
            _one_more(data, "opt-TOTAL_FORMS", services.MAX_OPTIONS)
        form, options, questions = _listing_formsets(request, listing, data)
        if grow:  # one more blank row, nothing saved yet
            for f in (form, *options.forms, *questions.forms):
                f.full_clean()
                f._errors = ErrorDict()  # a blank row is not an error yet
            return render(request, "orders/listing_form.html",
                          {"form": form, "options": options, "questions": questions, "listing": listing})
        if form.is_valid() & options.is_valid() & questions.is_valid():
            fields = dict(form.cleaned_data, options=_rows(options), questions=_rows(questions))
            try:
                if listing is None:
                    listing = services.listing_create(user=request.user, **fields)
                    flash.success(request, "サービスを出品しました。")
                else:
                    services.listing_update(listing_id=listing.pk, user=request.user, **fields)
                    flash.success(request, "サービスの内容を更新しました。")
            except DomainError as e:
                _or_404(e)
                form.add_error(None, e.message)
            else:
                return redirect("orders:listing", listing_id=listing.pk)
        elif options.non_form_errors() or questions.non_form_errors():
            form.add_error(None, " ".join([*options.non_form_errors(), *questions.non_form_errors()]))
        return render(request, "orders/listing_form.html",
                      {"form": form, "options": options, "questions": questions, "listing": listing}, status=400)
    form, options, questions = _listing_formsets(request, listing)
    return render(request, "orders/listing_form.html",
                  {"form": form, "options": options, "questions": questions, "listing": listing})


@login_required
def listing_create(request):
    return _listing_form_view(request, None)


@login_required
def listing_edit(request, listing_id: int):
    return _listing_form_view(request, _own_listing_or_404(request, listing_id))


@login_required
def listing_action(request, listing_id: int, action: str):
    listing = _own_listing_or_404(request, listing_id)
    if action not in LISTING_ACTIONS:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.listing_transition(listing_id=listing.pk, user=request.user, action=action)
    except DomainError as e:
        _or_404(e)
        flash.error(request, e.message)
    else:
        flash.success(request, {"pause": "出品を一時停止しました。", "resume": "出品を再開しました。"}[action])
    return redirect("orders:listing", listing_id=listing.pk)


# --- orders ---------------------------------------------------------------------------------------------


@login_required
def order_list(request):
    rows = []
    for o in selectors.order_list(user=request.user):
        mine_as = "client" if o.buyer_id == request.user.pk else "worker" if o.seller_id == request.user.pk else ""
        rows.append({"order": o, "role": ROLE_WORDS.get(mine_as, "事務局"), "as_buyer": mine_as == "client",
                     "counterpart": o.seller if mine_as == "client" else o.buyer, "timer": timer_info(o)})
    listings = selectors.listings_of(seller=request.user, include_paused=True)[:PAGE_SIZE]
    return render(request, "orders/list.html", {"rows": rows, "listings": listings})


def _order_or_404(order_id: int, user) -> Order:
    try:
        return selectors.order_get(order_id=order_id, user=user)
    except NotFound:
        raise Http404 from None


def _timeline(order: Order) -> list[dict]:
    rows = []
    for event in selectors.order_timeline(order=order):
        role = ROLE_WORDS.get(event.actor_role, event.actor_role)
        who = f"{role} {event.actor.name}" if event.actor and event.actor_role != "operator" else role
        payload = event.payload if isinstance(event.payload, dict) else {}
        rows.append({
            "at": event.created_at, "who": who, "what": TIMELINE_WORDS.get(event.action, event.action),
            "from": ORDER_FLOW.states.get(event.from_state, ""), "to": ORDER_FLOW.states.get(event.to_state, ""),
            "reason": payload.get("reason", ""),
            "detail": _detail_words(event.action, payload),
        })
    return rows


def _detail_words(action: str, payload: dict) -> str:
    if action == "resolve_split" and "refund" in payload:
        return (f"出品者へ {yen(payload['seller_amount'])}（販売手数料 {yen(payload['seller_fee'])} 差し引き後 "
                f"{yen(payload['seller_net'])}）・購入者へ返金 {yen(payload['refund'])}")
    return ""


def _settlement(order: Order) -> dict | None:
    """How a dispute closed the order (the operator's decision), for the page: None if it did not."""
    event = selectors.order_timeline(order=order).filter(action__in=RESOLVE_ACTIONS).last()
    if event is None or not isinstance(event.payload, dict):
        return None
    return {"outcome": event.payload.get("outcome"), "refund": event.payload.get("refund", 0),
            "seller_net": event.payload.get("seller_net", 0)}


def _answers(order: Order) -> list[dict]:
    return [{"question": a.question, "kind": a.kind, "answer": a.answer if isinstance(a.answer, list) else [a.answer]}
            for a in order.answers.all()]


def _detail(request, order: Order, *, error: str = "", bound: dict | None = None, status: int = 200):
    user = request.user
    role = order.role_of(user)
    side = {Actor.CLIENT: "buyer", Actor.WORKER: "seller"}.get(role, "")
    actions = [t for t in selectors.order_actions(order=order, user=user) if t.label and t.action in PARTY_ACTIONS]
    bound = bound or {}
    forms = {t.action: bound.get(t.action) or FORM_ACTIONS[t.action]() for t in actions if t.action in FORM_ACTIONS}
    # 「事務局に相談する」 has its own panel (open after a refused キャンセル申請), like the contract page's.
    dispute = next(((t, forms.pop(t.action)) for t in actions if t.action == "open_dispute"), None)
    actions = [t for t in actions if t.action != "open_dispute"]
    latest = selectors.order_cancel_requests(order=order).first()
    pending = selectors.order_pending_cancel_request(order=order)
    cancel_form = None
    if pending is None and side and order.state not in ORDER_FLOW.terminal:
        cancel_form = bound.get("cancel_request") or CancelRequestForm(side=side, state=order.state, prefix="cancel")
        if len(cancel_form.fields["reason"].choices) <= 1:
            cancel_form = None
    try:
        thread = order.thread
    except Order.thread.RelatedObjectDoesNotExist:
        thread = None
    fee = services.seller_fee(order.subtotal)
    context = {
        "order": order,
        "role": role,
        "role_word": ROLE_WORDS.get(role or "operator"),
        "is_buyer": role == Actor.CLIENT,
        "is_seller": role == Actor.WORKER,
        "buttons": [t for t in actions if t.action not in FORM_ACTIONS],
        "form_actions": [(t, forms[t.action]) for t in actions if t.action in FORM_ACTIONS],
        "revisions_left": max(order.included_revisions - order.revisions_used, 0),
        "timer": timer_info(order),
        "late": order.state == "in_progress" and order.delivery_date is not None
        and clock.today() > order.delivery_date,
        "seller_fee": fee,
        "net": order.subtotal - fee,
        "answers": _answers(order),
        "deliveries": selectors.order_deliveries(order=order),
        "pending": pending,
        "pending_actions": selectors.cancel_request_actions(cancel_request=pending, user=user) if pending else [],
        "pending_mine": bool(pending and pending.requested_by_id == user.pk),
        "pending_reason": _reason_label(pending) if pending else "",
        "cancel_form": cancel_form,
        "dispute": dispute,
        "cancel_refused": bool(latest and latest.state == "refused" and order.state in OPEN_STATES),
        "settlement": _settlement(order) if order.state in ORDER_FLOW.terminal else None,
        "timeline": _timeline(order),
        "thread": thread,
        "recent_messages": thread_messages(thread=thread, limit=5) if thread else [],
        "deal_updates": deal_updates(thread),
        "error": error,
    }
    return render(request, "orders/detail.html", context, status=status)


def _reason_label(cancel_request: CancelRequest) -> str:
    from anshin.orders.flow import CANCEL_REASONS

    for side in CANCEL_REASONS.values():
        if cancel_request.reason in side:
            return str(side[cancel_request.reason][0])
    return cancel_request.reason


@login_required
def order_detail(request, order_id: int):
    order = _order_or_404(order_id, request.user)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])  # after the party check: a non-party gets 404 whatever the method
    return _detail(request, order)


def _refused(request, order_id: int, e: DomainError, bound: dict | None = None):
    _or_404(e)
    order = _order_or_404(order_id, request.user)  # fresh: nothing changed, but the clock may have
    return _detail(request, order, error=e.message, bound=bound, status=e.status if 400 <= e.status < 500 else 400)


@login_required
def order_action(request, order_id: int, action: str):
    order = _order_or_404(order_id, request.user)
    if action not in PARTY_ACTIONS:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = None
    try:
        if action in FORM_ACTIONS:
            form = FORM_ACTIONS[action](request.POST, request.FILES)
            if not form.is_valid():
                raise DomainError("invalid", form_errors(form))
            if action == "deliver":
                services.order_deliver(order_id=order.pk, user=request.user, body=form.cleaned_data["body"],
                                       files=form.cleaned_data["files"])
            elif action == "open_dispute":
                services.order_open_dispute(order_id=order.pk, user=request.user, reason=form.cleaned_data["reason"])
            else:
                services.order_request_revision(order_id=order.pk, user=request.user,
                                                reason=form.cleaned_data["reason"])
        else:
            services.order_simple_action(order_id=order.pk, user=request.user, action=action)
    except DomainError as e:
        return _refused(request, order.pk, e, {action: form} if form else None)
    flash.success(request, DONE_TEXT.get(action, "完了しました。"))
    return redirect("orders:detail", order_id=order.pk)


@login_required
def cancel_request_create(request, order_id: int):
    order = _order_or_404(order_id, request.user)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    role = order.role_of(request.user)
    side = {Actor.CLIENT: "buyer", Actor.WORKER: "seller"}.get(role)
    if side is None:  # operators act from the operations console
        raise Http404
    form = CancelRequestForm(request.POST, side=side, state=order.state, prefix="cancel")
    try:
        if not form.is_valid():
            raise DomainError("invalid", form_errors(form))
        services.order_cancel_request(order_id=order.pk, user=request.user, reason=form.cleaned_data["reason"],
                                      detail=form.cleaned_data["detail"])
    except DomainError as e:
        return _refused(request, order.pk, e, {"cancel_request": form})
    flash.success(request, "キャンセルを申請しました。相手の回答をお待ちください"
                           "（24時間以内に回答がない場合はキャンセルが成立します）。")
    return redirect("orders:detail", order_id=order.pk)


@login_required
def cancel_request_answer(request, request_id: int, action: str):
    cancel_request = CancelRequest.objects.filter(pk=request_id).only("pk", "order_id").first()
    if cancel_request is None:
        raise Http404
    order = _order_or_404(cancel_request.order_id, request.user)
    if action not in ANSWER_ACTIONS:
        raise Http404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.cancel_request_answer(request_id=cancel_request.pk, user=request.user, action=action)
    except DomainError as e:
        return _refused(request, order.pk, e)
    flash.success(request, DONE_TEXT[action])
    return redirect("orders:detail", order_id=order.pk)
