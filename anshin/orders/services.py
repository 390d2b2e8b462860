"""Listing and order actions (PRODUCT.md §3). Each public function is one transaction, like the contract
services: settle what the clock has already decided (in its own transaction), lock, check the flow table,
then write state, money, audit, thread message and notifications together.

Locks are always taken in the same order — the order's thread, the order, its pending キャンセル申請 —
because `message_send` locks the thread and then (for the seller's first reply) the order; the sweeper and
every action here do the same, so nothing can deadlock.
"""

from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from anshin import rules
from anshin.core import audit, clock, flows, timers
from anshin.core.errors import DomainError, NotFound
from anshin.core.flows import Actor
from anshin.core.money import yen
from anshin.jobs.models import Category
from anshin.ledger import gateway
from anshin.ledger.services import GATEWAY, REVENUE, Line, entry_post, escrow_code, worker_code
from anshin.messaging.models import Thread
from anshin.messaging.services import (
    attachments_validate,
    message_post_system,
    message_precheck,
    message_send,
    thread_create,
)
from anshin.notifications.services import notify
from anshin.orders.flow import CANCEL_REASONS, OPEN, ORDER_FLOW
from anshin.orders.models import (
    CancelRequest,
    HearingAnswer,
    HearingQuestion,
    Listing,
    ListingOption,
    Order,
    OrderDelivery,
)
from anshin.reviews.services import review_window_open
from anshin.trust.blocks import refuse_if_blocked
from anshin.trust.holds import text_guard

MAX_OPTIONS = 10
MAX_QUESTIONS = 20
MAX_CHOICES = 20
REASON_MAX_LENGTH = 2_000


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y/%m/%d %H:%M")


# --- listings -------------------------------------------------------------------------------------------


def _int_in(value, low: int, high: int, message: str, code: str = "invalid") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DomainError(code, message)
    return value


def _text(value, label: str, limit: int, *, required: bool = True) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        raise DomainError("invalid", f"{label}は文字列で入力してください。")
    if required and not value:
        raise DomainError("invalid", f"{label}を入力してください。")
    if len(value) > limit:
        raise DomainError("too_long", f"{label}は{limit:,}文字以内で入力してください。")
    return value


def _validate_listing(*, title, description, category, price, delivery_days, included_revisions, options,
                      questions) -> tuple[dict, list[dict], list[dict]]:
    data = {
        "title": _text(title, "タイトル", 100),
        "description": _text(description, "サービス内容", 10_000),
    }
    if category not in Category.values:
        raise DomainError("invalid", "カテゴリを選択してください。")
    data["category"] = category
    data["price"] = _int_in(
        price, rules.LISTING_MIN_PRICE, rules.MAX_AMOUNT,
        f"価格は{yen(rules.LISTING_MIN_PRICE)}以上{yen(rules.MAX_AMOUNT)}以下の整数で入力してください。",
        "invalid_amount",
    )
    data["delivery_days"] = _int_in(
        delivery_days, 1, rules.MAX_DELIVERY_DAYS, f"お届け日数は1〜{rules.MAX_DELIVERY_DAYS}日で入力してください。"
    )
    data["included_revisions"] = _int_in(
        included_revisions, 0, rules.MAX_INCLUDED_REVISIONS,
        f"修正回数は0〜{rules.MAX_INCLUDED_REVISIONS}回で入力してください。",
    )
    options, questions = list(options or []), list(questions or [])
    if len(options) > MAX_OPTIONS:
        raise DomainError("invalid", f"オプションは{MAX_OPTIONS}個までです。")
    if len(questions) > MAX_QUESTIONS:
        raise DomainError("invalid", f"ヒアリングの質問は{MAX_QUESTIONS}個までです。")
    clean_options = []
    for n, option in enumerate(options, 1):
        if not isinstance(option, dict):
            raise DomainError("invalid", f"オプション{n}の形式が正しくありません。")
        clean_options.append({
            "title": _text(option.get("title"), f"オプション{n}の名前", 100),
            "price": _int_in(option.get("price"), 0, rules.MAX_AMOUNT,
                             f"オプション{n}の追加料金は0〜{yen(rules.MAX_AMOUNT)}の整数で入力してください。",
                             "invalid_amount"),
            "extra_days": _int_in(option.get("extra_days", 0), 0, rules.MAX_DELIVERY_DAYS,
                                  f"オプション{n}の追加日数は0〜{rules.MAX_DELIVERY_DAYS}日で入力してください。"),
        })
    clean_questions = []
    for n, question in enumerate(questions, 1):
        if not isinstance(question, dict):
            raise DomainError("invalid", f"質問{n}の形式が正しくありません。")
        kind = question.get("kind")
        if kind not in HearingQuestion.Kind.values:
            raise DomainError("invalid", f"質問{n}の形式（自由記述・単一選択・複数選択）を選んでください。")
        choices = []
        if kind != HearingQuestion.Kind.TEXT:
            raw = question.get("choices") or []
            if not isinstance(raw, list | tuple):
                raise DomainError("invalid", f"質問{n}の選択肢の形式が正しくありません。")
            for choice in raw:
                choice = _text(choice, f"質問{n}の選択肢", 100, required=False)
                if choice and choice not in choices:
                    choices.append(choice)
            if len(choices) < 2:
                raise DomainError("invalid_choices", f"質問{n}（選択式）には異なる選択肢を2つ以上入力してください。")
            if len(choices) > MAX_CHOICES:
                raise DomainError("invalid_choices", f"質問{n}の選択肢は{MAX_CHOICES}個までです。")
        required = question.get("required", True)
        if not isinstance(required, bool):
            raise DomainError("invalid", f"質問{n}の「必須」は true または false で指定してください。")
        clean_questions.append({
            "kind": kind,
            "text": _text(question.get("text"), f"質問{n}", 300),
            "choices": choices,
            "example": _text(question.get("example"), f"質問{n}の回答例", 300, required=False),
            "required": required,
        })
    return data, clean_options, clean_questions


def _guard_listing_texts(user, data: dict, options: list[dict], questions: list[dict]) -> None:
    """trust: a listing's public texts (title, description, options, hearing sheet) cannot carry contact
    details (PRODUCT.md §6). Called outside the transaction, so the hold record survives the refusal."""
    fields = {"タイトル": data["title"], "サービス内容": data["description"]}
    for n, option in enumerate(options, 1):
        fields[f"オプション{n}の名前"] = option["title"]
    for n, question in enumerate(questions, 1):
        fields[f"質問{n}"] = "\n".join([question["text"], *question["choices"], question["example"]])
    text_guard(user=user, surface="listing", fields=fields)


def _save_parts(listing: Listing, options: list[dict], questions: list[dict]) -> None:
    listing.options.all().delete()
    listing.questions.all().delete()
    ListingOption.objects.bulk_create(
        [ListingOption(listing=listing, position=i, **option) for i, option in enumerate(options)]
    )
    HearingQuestion.objects.bulk_create(
        [HearingQuestion(listing=listing, position=i, **question) for i, question in enumerate(questions)]
    )


def listing_create(*, user, title: str, description: str, category: str, price: int, delivery_days: int,
                   included_revisions: int, options=(), questions=()) -> Listing:
    """options: [{"title", "price", "extra_days"}]; questions: [{"kind": text|single|multiple, "text",
    "choices": [..], "example", "required"}]. DomainError (Japanese message) on bad input."""
    data, clean_options, clean_questions = _validate_listing(
        title=title, description=description, category=category, price=price, delivery_days=delivery_days,
        included_revisions=included_revisions, options=options, questions=questions,
    )
    _guard_listing_texts(user, data, clean_options, clean_questions)  # trust: before the transaction
    now = clock.now()
    with transaction.atomic():
        listing = Listing(seller=user, created_at=now, updated_at=now, **data)
        listing.init_state("active")
        listing.save()
        _save_parts(listing, clean_options, clean_questions)
        audit.record(subject=listing, action="create", actor=user, actor_role=Actor.WORKER, to_state="active",
                     payload={"price": listing.price})
    return listing


def _own_listing(listing_id: int, user) -> tuple[Listing, Actor]:
    listing = Listing.objects.select_for_update().filter(pk=listing_id).first()
    if listing is None or (listing.seller_id != user.pk and not user.is_operator):
        raise NotFound()
    return listing, (Actor.WORKER if listing.seller_id == user.pk else Actor.OPERATOR)


def listing_update(*, listing_id: int, user, title: str, description: str, category: str, price: int,
                   delivery_days: int, included_revisions: int, options=(), questions=()) -> Listing:
    """Seller (or operator) only; replaces options and questions. Orders already placed keep their snapshot."""
    data, clean_options, clean_questions = _validate_listing(
        title=title, description=description, category=category, price=price, delivery_days=delivery_days,
        included_revisions=included_revisions, options=options, questions=questions,
    )
    if Listing.objects.filter(pk=listing_id, seller_id=user.pk).exists() or user.is_operator:  # others: 404
        _guard_listing_texts(user, data, clean_options, clean_questions)  # trust: before the transaction
    with transaction.atomic():
        listing, actor = _own_listing(listing_id, user)
        for key, value in data.items():
            setattr(listing, key, value)
        listing.updated_at = clock.now()
        listing.save()
        _save_parts(listing, clean_options, clean_questions)
        audit.record(subject=listing, action="update", actor=user, actor_role=actor, from_state=listing.state,
                     to_state=listing.state, payload={"price": listing.price})
    return listing


def listing_transition(*, listing_id: int, user, action: str) -> Listing:
    """action: "pause" | "resume"."""
    if action not in ("pause", "resume"):
        raise DomainError("unknown_action", f"「{action}」という操作はありません。")
    with transaction.atomic():
        listing, actor = _own_listing(listing_id, user)
        flows.apply(listing, action, actor=actor, user=user)
        listing.updated_at = clock.now()
        listing.save(update_fields=["updated_at"])
    return listing


# --- what the order thread says -------------------------------------------------------------------------

# {b} buyer, {s} seller.
SYSTEM_TEXT = {
    "purchase": "{b}さんがサービスを購入しました（お支払い {total}）。{s}さんは{deadline}までに承諾またはメッセージで"
                "返答してください（返答がない場合は自動でキャンセルされ、全額返金されます）。",
    "respond": "{s}さんが返答しました。注文の承諾をお待ちください。",
    "accept": "{s}さんが注文を承諾しました。お届け予定日: {delivery_date}",
    "expire": "出品者から48時間以内に返答がなかったため、注文は自動でキャンセルされました。{total}は全額返金されます。",
    "deliver": "{s}さんが正式な納品をしました。{deadline}までに承諾または差し戻しをしてください"
               "（期限を過ぎると自動で承諾となります）。",
    "approve": "{b}さんが納品を承諾し、取引が完了しました。{net}が{s}さんに支払われました。",
    "request_revision": "{b}さんが修正を依頼しました（修正 {used}/{included}回目）。理由: {reason}",
    "auto_approve": "承諾期限を過ぎたため、自動で承諾となり取引が完了しました。{net}が{s}さんに支払われました。",
    "terminate_overdue": "お届け予定日を過ぎても納品がなかったため、{b}さんが取引を終了しました。"
                         "{total}は全額返金されます。",
    "cancel": "キャンセル申請が成立したため、注文はキャンセルされました。{total}は全額返金されます。",
    "cancel_request": "{who}さんがキャンセルを申請しました（理由: {reason}）。{deadline}までに回答してください"
                      "（回答がない場合はキャンセルが成立します）。",
    "cancel_refuse": "{who}さんがキャンセル申請を拒否しました。取引は続きます。話し合いで解決できない場合は"
                     "「事務局に相談する」から事務局に相談できます。",
    "cancel_withdraw": "{who}さんがキャンセル申請を取り下げました。",
    "open_dispute": "{who}さんが事務局に相談しました（トラブル相談）。事務局が確認するまで、この注文の期限のカウントは"
                    "停止します。相談内容: {reason}",
    "open_dispute_operator": "事務局がこの注文をトラブル相談として預かりました。事務局が確認するまで、この注文の期限の"
                             "カウントは停止します。理由: {reason}",
    "resolve_release": "事務局がトラブル相談を確認し、代金の全額を{s}さんに支払うと判断しました。{s}さんへの支払い: "
                       "{net}（{gross}から販売手数料{fee}を差し引き）。取引は完了しました。",
    "resolve_refund": "事務局がトラブル相談を確認し、お支払い額（{total}）を全額{b}さんに返金すると判断しました。"
                      "注文はキャンセルされました。",
    "resolve_split": "事務局がトラブル相談を確認し、代金を分割して精算すると判断しました。{s}さんへの支払い: {net}"
                     "（{gross}から販売手数料{fee}を差し引き）、{b}さんへの返金: {refund}"
                     "（うち購入手数料 {fee_refund}）。注文はキャンセルされました。",
}


def _url(order: Order) -> str:
    return f"/orders/{order.pk}/"


def _say(order: Order, key: str, **extra) -> str:
    return SYSTEM_TEXT[key].format(
        b=order.buyer.name,
        s=order.seller.name,
        total=yen(order.total),
        deadline=local(order.due_at) if order.due_at else "",
        delivery_date=order.delivery_date.strftime("%Y/%m/%d") if order.delivery_date else "",
        **extra,
    )


def _tell(order: Order, key: str, text: str, *, actor_user=None, stamp=None) -> None:
    """System message in the order thread; a notification to the other side of `actor_user` (both when the
    clock acted)."""
    message_post_system(thread=order.thread, body=text)
    state = ORDER_FLOW.states.site(order.state)
    stamp = (stamp or order.state_entered_at).isoformat()
    for user in (order.buyer, order.seller):
        if actor_user is not None and user.pk == actor_user.pk:
            continue
        notify(user=user, kind=f"order.{key}", title=f"「{order.title}」{state}", body=text, url=_url(order),
               dedupe_key=f"order:{order.pk}:{key}:{stamp}:{user.pk}")


# --- money ----------------------------------------------------------------------------------------------


def seller_fee(subtotal: int) -> int:
    return subtotal * rules.ORDER_SELLER_FEE_PERCENT // 100


def buyer_fee(subtotal: int) -> int:
    return subtotal * rules.ORDER_BUYER_FEE_PERMILLE // 1000


def _payout(order: Order) -> int:
    """Escrow → the seller's balance minus 22%; the seller fee and the buyer fee → revenue. Once per order."""
    fee = seller_fee(order.subtotal)
    net = order.subtotal - fee
    entry_post(
        key=f"{order.ledger_ref}:payout",
        kind="payout",
        ref=order.ledger_ref,
        memo=f"取引完了: {order.title}",
        lines=[
            Line(escrow_code(order.ledger_ref), -order.total),
            Line(worker_code(order.seller_id), net),
            Line(REVENUE, fee + order.buyer_fee),
        ],
    )
    order.completed_at = clock.now()
    order.save(update_fields=["completed_at"])
    return net


def _refund(order: Order) -> None:
    """The whole payment (price, options and the buyer fee) back to the buyer's card. Once per order."""
    entry_post(
        key=f"{order.ledger_ref}:refund",
        kind="refund",
        ref=order.ledger_ref,
        memo=f"キャンセル（全額返金）: {order.title}",
        lines=[Line(escrow_code(order.ledger_ref), -order.total), Line(GATEWAY, order.total)],
    )


def _effects(order: Order, action: str, *, actor_user=None, **extra) -> None:
    """Money and telling, after `action` moved the order."""
    if action in ("approve", "auto_approve"):
        extra["net"] = yen(_payout(order))
    elif action in ("expire", "terminate_overdue", "cancel"):
        _refund(order)
    _tell(order, action, _say(order, action, **extra), actor_user=actor_user)
    _close_pending_requests(order)


def _close_pending_requests(order: Order) -> None:
    """Requests that no longer make sense in the order's new state are voided (the order stays locked): a
    納期変更 once the work is no longer in progress, a キャンセル申請 once the order is closed or disputed."""
    from anshin.deals.services import date_change_void_pending

    date_change_void_pending(deal=order)
    if order.state not in OPEN:  # closed, or gone to a dispute (where 24 h of silence must not cancel it)
        _void_pending_request(order)
    review_window_open(order=order)  # reviews (§5): once completed, or cancelled after the work had started


def order_lock(order_id: int) -> Order | None:
    """For other apps acting on an order (e.g. 納期変更): lock it the way every order service does — its
    thread first, then the order — so they can never deadlock with `message_send` or the sweeper."""
    return _lock(order_id)


def _void_pending_request(order: Order) -> None:
    request = CancelRequest.objects.select_for_update().filter(order=order, state="pending").first()
    if request is not None:
        flows.apply(request, "void", actor=Actor.SYSTEM, payload={"order_state": order.state})


# --- locking, roles, the clock first --------------------------------------------------------------------


def _lock(order_id: int, *, skip_locked: bool = False) -> Order | None:
    """Lock the order's thread, then the order (see the module docstring). None if absent (or, with
    `skip_locked`, held by someone else)."""
    skip = skip_locked and connection.features.has_select_for_update_skip_locked
    thread = Thread.objects.select_for_update(skip_locked=skip).filter(order_id=order_id).first()
    if thread is None:
        return None
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("buyer", "seller", "thread")
        .filter(pk=order_id)
        .first()
    )


def _role(order: Order, user) -> Actor:
    role = order.role_of(user)
    if role:
        return role
    if user.is_operator:
        return Actor.OPERATOR
    raise NotFound()


def _pending_request(order: Order) -> CancelRequest | None:
    return (
        CancelRequest.objects.select_for_update().select_related("requested_by")
        .filter(order=order, state="pending").first()
    )


def _fire_due(order: Order) -> list[str]:
    """On a locked order: fire whatever the clock has decided — the order's own timer and a lapsed キャンセル
    申請 — earliest first (a request that lapsed before the 72 h wins over the auto-approval)."""
    done = []
    while True:
        now = clock.now()
        request = _pending_request(order)
        due = []
        if order.due_at and order.due_at <= now:
            due.append((order.due_at, 0, "order"))
        if request is not None and request.due_at and request.due_at <= now:
            due.append((request.due_at, 1, "request"))
        if not due:
            return done
        _, _, which = min(due)
        if which == "order":
            action = order.timer_action
            flows.apply(order, action, actor=Actor.SYSTEM)
            _effects(order, action)
            done.append(f"order {order.pk}: {action}")
        else:
            flows.apply(request, "lapse", actor=Actor.SYSTEM)
            _cancel_order(order, actor=Actor.SYSTEM, user=None, request=request)
            done.append(f"order {order.pk}: cancel request {request.pk} lapse")


def _cancel_order(order: Order, *, actor: Actor, user, request: CancelRequest) -> None:
    flows.apply(order, "cancel", actor=actor, user=user, payload={"cancel_request": request.pk})
    _effects(order, "cancel", actor_user=user)


def _due(order: Order) -> bool:
    now = clock.now()
    if order.due_at and order.due_at <= now:
        return True
    return CancelRequest.objects.filter(order=order, state="pending", due_at__lte=now).exists()


def order_settle_due(order_id: int) -> str | None:
    """Called by `tick`, by readers and before every action: settle the order if the clock has decided."""
    with transaction.atomic():
        order = _lock(order_id, skip_locked=True)
        if order is None or not _due(order):
            return None  # settled already, held by another sweeper/action, or not due
        done = _fire_due(order)
    return "; ".join(done) or None


@contextmanager
def _acting(order_id: int, user):
    """The transaction of a party action on a locked order whose due timers are already settled (committed
    on their own first, so a refused late click never rolls a settlement back)."""
    order_settle_due(order_id)
    with transaction.atomic():
        order = _lock(order_id)
        if order is None:
            raise NotFound()
        role = _role(order, user)  # non-parties get 404 before learning anything else
        if _due(order):
            # The deadline passed between the settlement above and this lock: refuse; the sweeper settles it.
            raise DomainError("deadline_passed", "期限を過ぎたため、この操作はできません。画面を更新してください。")
        yield order, role


# --- purchase -------------------------------------------------------------------------------------------


def _answers(questions: list[HearingQuestion], answers: dict) -> list[HearingAnswer]:
    answers = {str(key): value for key, value in (answers or {}).items()}
    known = {str(q.pk) for q in questions}
    if set(answers) - known:
        raise DomainError("invalid_answer", "ヒアリングの回答に、このサービスにない質問が含まれています。")
    result = []
    for n, question in enumerate(questions, 1):
        raw = answers.get(str(question.pk))
        label = f"ヒアリングの質問{n}「{question.text}」"
        if question.kind == HearingQuestion.Kind.TEXT:
            if raw is not None and not isinstance(raw, str):
                raise DomainError("invalid_answer", f"{label}には文字で回答してください。")
            value = (raw or "").strip()
            if len(value) > 2_000:
                raise DomainError("invalid_answer", f"{label}の回答は2,000文字以内で入力してください。")
            chosen = [value] if value else []
        elif question.kind == HearingQuestion.Kind.SINGLE:
            if raw in (None, "", []):
                chosen = []
            elif isinstance(raw, str) and raw in question.choices:
                chosen = [raw]
            else:
                raise DomainError("invalid_answer", f"{label}は選択肢から1つ選んでください。")
        else:
            raw = [] if raw in (None, "") else ([raw] if isinstance(raw, str) else raw)
            if not isinstance(raw, list | tuple) or any(c not in question.choices for c in raw):
                raise DomainError("invalid_answer", f"{label}は選択肢の中から選んでください。")
            chosen = [c for c in question.choices if c in raw]  # the seller's order, no repeats
        if question.required and not chosen:
            raise DomainError("answer_required", f"{label}は必須です。回答してください。")
        result.append(HearingAnswer(question=question.text, kind=question.kind, answer=chosen, position=n - 1))
    return result


def order_purchase(*, listing_id: int, user, option_ids=(), answers: dict | None = None,
                   card_token: str = "tok_visa") -> Order:
    """answers: {question_id (int or str): str (text/single) | list[str] (multiple)}. The buyer pays price +
    options + the 5.5% buyer fee into escrow; a declined card writes nothing."""
    if not isinstance(answers, dict | None):
        raise DomainError("invalid_answer", "ヒアリングの回答の形式が正しくありません。")
    try:
        option_ids = {int(pk) for pk in (option_ids or [])}
    except (TypeError, ValueError):
        raise DomainError("invalid_option", "オプションの指定が正しくありません。") from None
    with transaction.atomic():
        listing = Listing.objects.select_for_update().select_related("seller").filter(pk=listing_id).first()
        if listing is None or (listing.state != "active" and listing.seller_id != user.pk):
            raise NotFound()
        if listing.seller_id == user.pk:
            raise DomainError("own_listing", "自分のサービスは購入できません。")
        refuse_if_blocked(listing.seller_id, user.pk)  # trust: no new orders between blocked users
        if listing.state != "active":
            raise NotFound()
        options = [o for o in listing.options.all() if o.pk in option_ids]
        if len(options) != len(option_ids):
            raise DomainError("invalid_option",
                              "選択されたオプションはこのサービスにありません。画面を更新してください。")
        hearing = _answers(list(listing.questions.all()), answers or {})
        subtotal = listing.price + sum(o.price for o in options)
        fee = buyer_fee(subtotal)
        now = clock.now()
        order = Order(
            listing=listing, buyer=user, seller=listing.seller, title=listing.title,
            options=[{"title": o.title, "price": o.price, "extra_days": o.extra_days} for o in options],
            subtotal=subtotal, buyer_fee=fee, total=subtotal + fee,
            delivery_days=listing.delivery_days + sum(o.extra_days for o in options),
            included_revisions=listing.included_revisions, created_at=now,
        )
        order.init_state("purchased")
        order.save()
        for answer in hearing:
            answer.order = order
        HearingAnswer.objects.bulk_create(hearing)
        key = f"{order.ledger_ref}:purchase"
        charge = gateway.gateway().charge(amount=order.total, token=card_token, key=key)
        if not charge.approved:
            raise DomainError("payment_declined", charge.message, status=402)  # rolls everything back
        entry_post(
            key=key, kind="purchase", ref=order.ledger_ref, memo=f"サービス購入: {order.title}",
            lines=[Line(GATEWAY, -order.total), Line(escrow_code(order.ledger_ref), order.total)],
        )
        audit.record(subject=order, action="purchase", actor=user, actor_role=Actor.CLIENT, to_state="purchased",
                     payload={"total": order.total, "charge": charge.reference})
        thread_create(kind=Thread.Kind.ORDER, subject=order.title, members=[order.buyer, order.seller], order=order)
        order = _lock(order.pk)
        _tell(order, "purchase", _say(order, "purchase"), actor_user=user)
    return order


# --- party actions --------------------------------------------------------------------------------------


def _move(order: Order, action: str, user, role: Actor, payload: dict | None = None) -> None:
    flows.apply(order, action, actor=role, user=user, payload=payload)


def order_accept(*, order_id: int, user) -> Order:
    """The seller accepts: the delivery date is the local date of acceptance + the delivery days."""
    with _acting(order_id, user) as (order, role):
        _move(order, "accept", user, role)
        order.accepted_at = clock.now()
        order.delivery_date = clock.today() + timedelta(days=order.delivery_days)
        order.save(update_fields=["accepted_at", "delivery_date"])
        _effects(order, "accept", actor_user=user)
    return order


def order_seller_wrote(*, order_id: int, user) -> Order | None:
    """Called by `message_send` (inside its transaction, thread already locked) when the seller writes in
    the order thread: a first word in `purchased` is a 返答 and stops the 48 h auto-cancel. Never raises for
    a message that arrives too late: the clock's decision is settled instead and the message still goes."""
    order = _lock(order_id)
    if order is None or user.pk != order.seller_id:
        return None
    if _due(order):
        _fire_due(order)
    if order.state != "purchased":
        return order
    flows.apply(order, "respond", actor=Actor.WORKER, user=user)
    message_post_system(thread=order.thread, body=_say(order, "respond"))
    return order


def order_deliver(*, order_id: int, user, body: str, files=()) -> OrderDelivery:
    """正式な納品: the text and files go into the order thread as the seller's message; the buyer has 72 h."""
    body = (body or "").strip()
    if not body:
        raise DomainError("empty", "納品メッセージを入力してください。")
    if len(body) > rules.MESSAGE_MAX_LENGTH - 20:
        raise DomainError("too_long", f"納品メッセージは{rules.MESSAGE_MAX_LENGTH - 20:,}文字以内で入力してください。")
    files = list(files or [])
    attachments_validate(files)
    message_precheck(sender=user, text=body,  # trust: held before the order's transaction, so the hold is logged
                     thread_id=Thread.objects.filter(order_id=order_id).values_list("pk", flat=True).first())
    with _acting(order_id, user) as (order, role):
        _move(order, "deliver", user, role)
        message = message_send(thread=order.thread, sender=user, body=f"【正式な納品】\n{body}", files=files)
        delivery = OrderDelivery.objects.create(order=order, body=body, message=message, created_at=clock.now())
        _effects(order, "deliver", actor_user=user)
    return delivery


def order_approve(*, order_id: int, user) -> Order:
    with _acting(order_id, user) as (order, role):
        _move(order, "approve", user, role)
        _effects(order, "approve", actor_user=user)
    return order


def order_request_revision(*, order_id: int, user, reason: str) -> Order:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("empty", "修正を依頼する内容を入力してください。")
    if len(reason) > REASON_MAX_LENGTH:
        raise DomainError("too_long", f"修正依頼の内容は{REASON_MAX_LENGTH:,}文字以内で入力してください。")
    with _acting(order_id, user) as (order, role):
        _move(order, "request_revision", user, role, {"reason": reason})  # guard: revisions_left
        order.revisions_used += 1
        order.save(update_fields=["revisions_used"])
        _effects(order, "request_revision", actor_user=user, reason=reason, used=order.revisions_used,
                 included=order.included_revisions)
    return order


def order_terminate_overdue(*, order_id: int, user) -> Order:
    with _acting(order_id, user) as (order, role):
        _move(order, "terminate_overdue", user, role)  # guard: is_overdue
        _effects(order, "terminate_overdue", actor_user=user)
    return order


SIMPLE_ACTIONS = {"accept": order_accept, "approve": order_approve, "terminate_overdue": order_terminate_overdue}


def order_simple_action(*, order_id: int, user, action: str) -> Order:
    """One-click actions: "accept", "approve", "terminate_overdue"."""
    if action in ("deliver", "request_revision", "open_dispute"):
        raise DomainError("needs_input", "この操作には入力が必要です。")
    if action not in SIMPLE_ACTIONS:
        raise DomainError("unknown_action", f"「{action}」という操作はありません。")
    return SIMPLE_ACTIONS[action](order_id=order_id, user=user)


# --- キャンセル申請 -------------------------------------------------------------------------------------


def side_of(order: Order, user) -> str:
    """"buyer" | "seller" | "" (operators and strangers have no side)."""
    return {Actor.CLIENT: "buyer", Actor.WORKER: "seller"}.get(order.role_of(user), "")


def reasons_for(order: Order, side: str) -> dict[str, str]:
    """code -> label (site language) a side may give in the order's current state."""
    return {code: flows.site_text(label) for code, (label, states) in CANCEL_REASONS.get(side, {}).items()
            if order.state in states}


def order_cancel_request(*, order_id: int, user, reason: str, detail: str = "") -> CancelRequest:
    """reason: a key of CANCEL_REASONS[side] allowed in the order's state (see selectors.cancel_reasons)."""
    detail = (detail or "").strip() if isinstance(detail, str) or detail is None else ""
    if len(detail) > REASON_MAX_LENGTH:
        raise DomainError("too_long", f"詳細は{REASON_MAX_LENGTH:,}文字以内で入力してください。")
    with _acting(order_id, user) as (order, role):
        side = side_of(order, user)
        if not side:
            raise DomainError("not_allowed", "キャンセル申請は購入者または出品者が行います。")
        allowed = reasons_for(order, side)
        if not allowed:
            raise DomainError("not_allowed",
                              f"現在の状態（{ORDER_FLOW.states.site(order.state)}）ではキャンセルを申請できません。")
        if reason not in allowed:
            raise DomainError("invalid_reason", "キャンセル理由を選択肢から選んでください。")
        if reason == "other" and not detail:
            raise DomainError("empty", "「その他」を選んだ場合は詳細を入力してください。")
        if _pending_request(order) is not None:
            raise DomainError("pending_exists", "回答待ちのキャンセル申請があります。回答をお待ちください。")
        request = CancelRequest(order=order, requested_by=user, reason=reason, detail=detail,
                                created_at=clock.now())
        request.init_state("pending")
        try:
            with transaction.atomic():
                request.save()
        except IntegrityError:  # one pending per order (a constraint backs the check above)
            raise DomainError("pending_exists", "回答待ちのキャンセル申請があります。回答をお待ちください。") from None
        audit.record(subject=request, action="request", actor=user, actor_role=role, to_state="pending",
                     payload={"reason": reason, "order": order.pk})
        text = SYSTEM_TEXT["cancel_request"].format(who=user.name, reason=allowed[reason],
                                                     deadline=local(request.due_at))
        if detail:
            text += f"\n詳細: {detail}"
        _tell(order, "cancel_request", text, actor_user=user, stamp=request.created_at)
    return request


def cancel_request_answer(*, request_id: int, user, action: str) -> CancelRequest:
    """action: "agree" | "refuse" (the other side) or "withdraw" (the requester); operators may do all."""
    if action not in ("agree", "refuse", "withdraw"):
        raise DomainError("unknown_action", f"「{action}」という操作はありません。")
    order_id = CancelRequest.objects.filter(pk=request_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound()
    with _acting(order_id, user) as (order, role):
        request = CancelRequest.objects.select_for_update().select_related("requested_by").get(pk=request_id)
        mine = request.requested_by_id == user.pk
        if role != Actor.OPERATOR and request.state == "pending":
            if action == "withdraw" and not mine:
                raise DomainError("not_allowed", "申請を取り下げられるのは申請した本人だけです。")
            if action != "withdraw" and mine:
                raise DomainError("not_allowed", "自分の申請には回答できません。相手の回答をお待ちください。")
        flows.apply(request, action, actor=role, user=user)
        if action == "agree":
            _cancel_order(order, actor=role, user=user, request=request)
        else:
            key = f"cancel_{action}"
            _tell(order, key, SYSTEM_TEXT[key].format(who=user.name), actor_user=user,
                  stamp=request.state_entered_at)
    return request


# --- disputes (トラブル相談) --------------------------------------------------------------------------------


OUTCOME_WORDS = {"release": "全額支払い", "refund": "全額返金", "split": "分割"}


def dispute_split(order: Order, seller_amount: int) -> dict:
    """The money of a resolution giving the seller `seller_amount` of the price (subtotal), exact to the yen:
    the seller gets it minus 22%, the buyer the rest of the price back plus the buyer fee in proportion
    (rounded down), revenue both fees' remainders. seller_amount = subtotal is a payout, 0 a full refund;
    seller_net + revenue + refund = total, so the escrow ends at 0."""
    fee = seller_fee(seller_amount)
    price_refund = order.subtotal - seller_amount
    fee_refund = order.buyer_fee * price_refund // order.subtotal
    return {
        "seller_amount": seller_amount,
        "seller_fee": fee,
        "seller_net": seller_amount - fee,
        "price_refund": price_refund,
        "buyer_fee_refund": fee_refund,
        "refund": price_refund + fee_refund,
        "revenue": fee + order.buyer_fee - fee_refund,
    }


def order_open_dispute(*, order_id: int, user, reason: str, concerns=None, note: str = "") -> Order:
    """Either side (or an operator) asks 事務局 to step in: the order goes to `disputed`, where no timer runs
    (no 48 h auto-cancel, no 72 h auto-approval); the time that was left is kept in the audit payload; a
    pending キャンセル申請 and 納期変更 are voided; a `dispute` queue item concerning the other side (for an
    operator: `concerns`, else the seller) is opened. `note`: an operator's internal note, never shown."""
    from anshin.ops.models import QueueItem
    from anshin.ops.services import ops_due, queue_item_open

    reason = (reason or "").strip() if isinstance(reason, str) or reason is None else ""
    if not reason:
        raise DomainError("empty", "相談内容を入力してください。")
    if len(reason) > REASON_MAX_LENGTH:
        raise DomainError("too_long", f"相談内容は{REASON_MAX_LENGTH:,}文字以内で入力してください。")
    with _acting(order_id, user) as (order, role):
        now = clock.now()
        frozen = None
        if order.due_at:
            left = order.due_at - now
            frozen = {"timer_action": order.timer_action, "due_at": order.due_at.isoformat(),
                      "remaining_seconds": left.total_seconds(), "remaining_us": left // timedelta(microseconds=1)}
        pending = _pending_request(order)
        latest = CancelRequest.objects.filter(order=order).order_by("-created_at", "-id").first()
        payload = {
            "reason": reason,
            "frozen_timer": frozen,
            "frozen_cancel_request": (
                {"id": pending.pk, "remaining_seconds": (pending.due_at - now).total_seconds()} if pending else None),
            "refused_cancel_request": latest.pk if latest is not None and latest.state == "refused" else None,
        }
        if note:
            payload["note"] = note
        _move(order, "open_dispute", user, role, payload)
        concerned = {Actor.CLIENT: order.seller, Actor.WORKER: order.buyer}.get(role) or concerns or order.seller
        queue_item_open(
            kind=QueueItem.Kind.DISPUTE,
            subject=order,
            summary=f"トラブル相談（サービス注文）: {order.title}",
            dedupe_key=f"{order.ledger_ref}:dispute:{order.state_entered_at.isoformat()}",
            due_at=ops_due(now),
            opened_by=user,
            concerns=concerned,
            payload={"opened_by_role": str(role), **payload},
        )
        if role == Actor.OPERATOR:
            text = _say(order, "open_dispute_operator", reason=reason)
        else:
            text = _say(order, "open_dispute", who=user.name, reason=reason)
        _tell(order, "open_dispute", text, actor_user=user)
        _close_pending_requests(order)
    return order


def order_resolve_dispute(*, order_id: int, operator, outcome: str, seller_amount: int | None = None,
                          note: str) -> Order:
    """事務局の裁定 on a disputed order (operators only; anyone else gets 404): "release" completes it and
    pays the seller like an approval, "refund" cancels it with the whole payment back (buyer fee included),
    "split" cancels it paying the seller `seller_amount` of the price (0 < seller_amount < price) — see
    `dispute_split`. One ledger entry under one idempotency key per order; both parties are told (the
    internal note stays in the audit event and the closed queue items)."""
    from anshin.ops.models import QueueItem
    from anshin.ops.services import note_required, operator_required, queue_items_close_for

    operator_required(operator)
    note = note_required(note)
    if outcome not in ("release", "refund", "split"):
        raise DomainError("unknown_outcome", "裁定の内容（全額支払い・全額返金・分割）を選んでください。")
    if outcome == "split" and (not isinstance(seller_amount, int) or isinstance(seller_amount, bool)):
        raise DomainError("invalid_amount", "出品者に支払う額は円単位の整数で入力してください。")
    action = f"resolve_{outcome}"
    with _acting(order_id, operator) as (order, role):
        ORDER_FLOW.find(action, order.state, role, order)  # an operator who is a party is refused here
        if outcome == "split" and not 0 < seller_amount < order.subtotal:
            raise DomainError(
                "invalid_amount",
                f"分割する場合、出品者に支払う額は1円以上、代金（{yen(order.subtotal)}）未満で入力してください"
                "（全額なら「出品者に全額支払う」、0円なら「全額返金する」を選んでください）。",
            )
        share = {"release": order.subtotal, "refund": 0, "split": seller_amount}[outcome]
        split = dispute_split(order, share)
        _move(order, action, operator, role, {"note": note, "outcome": outcome, **split})
        entry_post(
            key=f"{order.ledger_ref}:dispute_resolution",
            kind=f"dispute_{outcome}",
            ref=order.ledger_ref,
            memo=f"トラブル相談の裁定（{OUTCOME_WORDS[outcome]}）: {order.title}",
            lines=[
                Line(escrow_code(order.ledger_ref), -order.total),
                Line(worker_code(order.seller_id), split["seller_net"]),
                Line(REVENUE, split["revenue"]),
                Line(GATEWAY, split["refund"]),
            ],
        )
        if outcome == "release":
            order.completed_at = clock.now()
            order.save(update_fields=["completed_at"])
        queue_items_close_for(subject=order, operator=operator, resolution=action, note=note,
                              kinds=[QueueItem.Kind.DISPUTE, QueueItem.Kind.TERMINATION_ESCALATION])
        text = _say(order, action, gross=yen(split["seller_amount"]), fee=yen(split["seller_fee"]),
                    net=yen(split["seller_net"]), refund=yen(split["refund"]),
                    fee_refund=yen(split["buyer_fee_refund"]))
        _tell(order, action, text)
        _close_pending_requests(order)
    return order


# --- timers ---------------------------------------------------------------------------------------------


def order_remind(order_id: int) -> str | None:
    """Before the 48 h rule (24 h and 6 h left, to the seller) and the 72 h approval (24 h left, to the buyer).
    Only the most urgent reminder already due goes out: a stopped sweeper never sends stale ones late."""
    with transaction.atomic():
        order = (
            timers.lock_for_update(Order.objects.select_related("buyer", "seller"))
            .filter(pk=order_id, remind_at__lte=clock.now())
            .first()
        )
        if order is None:
            return None
        timer = ORDER_FLOW.timer_for(order.state)
        now = clock.now()
        if timer is None or order.due_at is None or order.due_at <= now:
            order.remind_at = None  # nothing left to remind of: the timer itself settles the order
            order.save(update_fields=["remind_at"])
            return None
        latest = max(order.due_at - before for before in timer.reminders if order.due_at - before <= now)
        hours = round((order.due_at - latest).total_seconds() / 3600)
        if order.state == "purchased":
            user, kind = order.seller, "order.first_response_reminder"
            title = f"「{order.title}」の注文に返答してください（残り{hours}時間）"
            body = (f"{local(order.due_at)}までに注文を承諾するか、メッセージで返答してください。"
                    "返答がない場合、注文は自動でキャンセルされ購入者に全額返金されます。")
        else:
            user, kind = order.buyer, "order.approval_reminder"
            title = f"「{order.title}」の納品の承諾期限まであと{hours}時間です"
            body = (f"{local(order.due_at)}までに承諾または差し戻しをしてください。"
                    "期限を過ぎると自動で承諾となり、出品者への支払いが確定します。")
        notify(user=user, kind=kind, title=title, body=body, url=_url(order),
               dedupe_key=f"order:{order.pk}:remind:{order.due_at.isoformat()}:{hours}")
        order.remind_at = flows.next_reminder(order.due_at, timer, after=now)
        order.save(update_fields=["remind_at"])
    return f"order {order_id}: reminder {hours}h"


def cancel_request_settle_due(request_id: int) -> str | None:
    """A lapsed キャンセル申請 (24 h of silence): settled through its order, which fires due timers in time order."""
    order_id = CancelRequest.objects.filter(pk=request_id).values_list("order_id", flat=True).first()
    return order_settle_due(order_id) if order_id else None


timers.register(Order, settle=order_settle_due, remind=order_remind)
timers.register(CancelRequest, settle=cancel_request_settle_due)  # its timer has no reminders
