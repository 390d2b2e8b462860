"""Service listings and orders API: listings (search, create, edit, pause/resume), purchase with the hearing
sheet, orders (list, detail with allowed actions from the flow table, actions, deliveries with files,
timeline) and キャンセル申請 (request, agree/refuse/withdraw). Orders are party-only: anyone else gets 404."""

from datetime import date
from typing import Literal

from ninja import Field, File, Form, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import StrictBool, StrictInt

from anshin import rules
from anshin.accounts.api import UserBrief, UserOut
from anshin.core.api_auth import ERRORS, ActionOut, ErrorOut, IdPath, LocalDateTime, actions_out
from anshin.core.errors import DomainError, NotFound
from anshin.jobs.api import Pagination
from anshin.jobs.models import Category
from anshin.ledger.services import balance, escrow_code
from anshin.orders import selectors, services
from anshin.orders.flow import ORDER_FLOW, RESOLVE_ACTIONS
from anshin.orders.models import Listing, Order

router = Router(tags=["orders"])

ACTION_ERRORS = {**ERRORS, 402: ErrorOut}
FORM_ACTIONS = frozenset({"deliver", "request_revision", "open_dispute"})
# Dispute resolutions are the operations console's (with an internal note), not the parties' API.
PARTY_ACTIONS = {t.action for t in ORDER_FLOW.transitions if t.label} - {"cancel"} - RESOLVE_ACTIONS
INTERNAL_KEYS = ("note",)  # operators' internal notes in audit payloads: never shown to the parties
MAX_PRICE_FILTER = 10**12
CategoryValue = Literal[tuple(Category.values)]  # type: ignore[valid-type]


# --- listings -------------------------------------------------------------------------------------------

class OptionIn(Schema):
    title: str = Field(..., max_length=100)
    price: StrictInt
    extra_days: StrictInt = 0


class QuestionIn(Schema):
    kind: Literal["text", "single", "multiple"]
    text: str = Field(..., max_length=300)
    choices: list[str] = Field(default_factory=list, max_length=50)
    example: str = Field("", max_length=300)
    required: StrictBool = True


class ListingIn(Schema):
    title: str = Field(..., max_length=100)
    description: str = Field(..., max_length=10_000)
    category: CategoryValue  # type: ignore[valid-type]
    price: StrictInt
    delivery_days: StrictInt
    included_revisions: StrictInt = 1
    options: list[OptionIn] = Field(default_factory=list, max_length=50)
    questions: list[QuestionIn] = Field(default_factory=list, max_length=50)


class ListingPatch(Schema):
    title: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=10_000)
    category: CategoryValue | None = None  # type: ignore[valid-type]
    price: StrictInt | None = None
    delivery_days: StrictInt | None = None
    included_revisions: StrictInt | None = None
    options: list[OptionIn] | None = Field(None, max_length=50)
    questions: list[QuestionIn] | None = Field(None, max_length=50)


class ListingFilter(Schema):
    q: str = Field("", max_length=200, description="タイトル・サービス内容の部分一致（空白区切りでAND）")
    category: CategoryValue | Literal[""] = ""  # type: ignore[valid-type]
    price_min: int | None = Field(None, ge=0, le=MAX_PRICE_FILTER)
    price_max: int | None = Field(None, ge=0, le=MAX_PRICE_FILTER)
    sort: Literal["new", "price_low", "price_high"] = "new"


class OptionOut(Schema):
    id: int
    title: str
    price: int
    extra_days: int


class QuestionOut(Schema):
    id: int
    kind: str
    text: str
    choices: list[str]
    example: str
    required: bool


class ListingListOut(Schema):
    id: int
    title: str
    category: str
    category_label: str = Field(..., alias="get_category_display")
    price: int
    delivery_days: int
    included_revisions: int
    state: str
    state_label: str
    seller: UserBrief
    created_at: LocalDateTime


class ListingOut(ListingListOut):
    description: str
    buyer_fee: int = Field(..., description="購入者が価格に上乗せして支払うサービス手数料（5.5%、切り捨て）")
    options: list[OptionOut]
    questions: list[QuestionOut]
    allowed_actions: list[ActionOut]

    @staticmethod
    def resolve_buyer_fee(obj):
        return services.buyer_fee(obj.price)

    @staticmethod
    def resolve_options(obj):
        return list(obj.options.all())

    @staticmethod
    def resolve_questions(obj):
        return list(obj.questions.all())

    @staticmethod
    def resolve_allowed_actions(obj, context):
        return actions_out(selectors.listing_actions(listing=obj, user=context["request"].auth))


def _listing(listing_id: int, user) -> Listing:
    return selectors.listing_get(listing_id=listing_id, user=user)


@router.get("/listings", response=list[ListingListOut], summary="サービスを探す")
@paginate(Pagination)
def list_listings(request, filters: Query[ListingFilter]):
    return selectors.listing_search(**filters.dict())


@router.get("/listings/mine", response=list[ListingListOut], summary="自分の出品（一時停止中を含む）")
@paginate(Pagination)
def my_listings(request):
    return selectors.listings_of(seller=request.auth, include_paused=True)


@router.post("/listings", response={201: ListingOut, **ERRORS}, summary="サービスを出品する")
def create_listing(request, payload: ListingIn):
    listing = services.listing_create(user=request.auth, **payload.dict())
    return Status(201, _listing(listing.pk, request.auth))


@router.get("/listings/{listing_id}", response={200: ListingOut, **ERRORS}, summary="サービスの詳細")
def get_listing(request, listing_id: int = IdPath()):
    return _listing(listing_id, request.auth)


@router.patch("/listings/{listing_id}", response={200: ListingOut, **ERRORS},
              summary="出品を編集する（出品者のみ。options / questions を送ると置き換え）")
def update_listing(request, payload: ListingPatch, listing_id: int = IdPath()):
    user = request.auth
    current = Listing.objects.filter(pk=listing_id).prefetch_related("options", "questions").first()
    if current is None or (current.seller_id != user.pk and not user.is_operator):
        raise NotFound()
    data = {
        "title": current.title, "description": current.description, "category": current.category,
        "price": current.price, "delivery_days": current.delivery_days,
        "included_revisions": current.included_revisions,
        "options": [{"title": o.title, "price": o.price, "extra_days": o.extra_days} for o in current.options.all()],
        "questions": [{"kind": q.kind, "text": q.text, "choices": q.choices, "example": q.example,
                       "required": q.required} for q in current.questions.all()],
    }
    data.update(payload.dict(exclude_unset=True, exclude_none=True))
    services.listing_update(listing_id=listing_id, user=user, **data)
    return _listing(listing_id, user)


@router.post("/listings/{listing_id}/actions/{action}", response={200: ListingOut, **ERRORS},
             summary="出品を一時停止・再開する（pause / resume）")
def listing_action(request, listing_id: int = IdPath(), action: str = Path(..., max_length=32)):
    services.listing_transition(listing_id=listing_id, user=request.auth, action=action)
    return _listing(listing_id, request.auth)


# --- orders ---------------------------------------------------------------------------------------------

class PurchaseIn(Schema):
    option_ids: list[StrictInt] = Field(default_factory=list, max_length=50)
    answers: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="ヒアリングの回答: {質問ID: 文字列（自由記述・単一選択）| 文字列の配列（複数選択）}",
    )
    card_token: str = Field(..., min_length=1, max_length=64, description="決済カードのトークン")


class AnswerOut(Schema):
    question: str
    kind: str
    answer: list[str]


class AttachmentOut(Schema):
    name: str
    size: int
    url: str

    @staticmethod
    def resolve_url(obj):
        return f"/files/{obj.token}/"


class DeliveryOut(Schema):
    id: int
    body: str
    created_at: LocalDateTime
    attachments: list[AttachmentOut]


class CancelRequestOut(Schema):
    id: int
    reason: str
    reason_label: str
    detail: str
    state: str
    state_label: str
    requested_by: UserBrief
    due_at: LocalDateTime | None
    created_at: LocalDateTime
    allowed_actions: list[ActionOut]

    @staticmethod
    def resolve_allowed_actions(obj, context):
        return actions_out(selectors.cancel_request_actions(cancel_request=obj, user=context["request"].auth))


class ReasonOut(Schema):
    code: str
    label: str


class OrderListOut(Schema):
    id: int
    title: str
    listing_id: int
    state: str
    state_label: str
    total: int
    delivery_date: date | None
    due_at: LocalDateTime | None
    timer_action: str
    buyer: UserBrief
    seller: UserBrief
    role: str
    created_at: LocalDateTime

    @staticmethod
    def resolve_role(obj, context):
        user = context["request"].auth
        role = obj.role_of(user)
        return {"client": "buyer", "worker": "seller"}.get(str(role), "operator" if user.is_operator else "")


class OrderOut(OrderListOut):
    buyer: UserOut
    seller: UserOut
    thread_id: int | None
    options: list[dict]
    subtotal: int = Field(..., description="価格＋オプション")
    buyer_fee: int = Field(..., description="購入者のサービス手数料（5.5%）")
    seller_fee: int = Field(..., description="出品者の販売手数料（22%）")
    net: int = Field(..., description="出品者が受け取る金額（subtotal − seller_fee）")
    escrow: int = Field(..., description="預かり金（エスクロー）残高")
    delivery_days: int
    included_revisions: int
    revisions_used: int
    accepted_at: LocalDateTime | None
    completed_at: LocalDateTime | None
    answers: list[AnswerOut]
    deliveries: list[DeliveryOut]
    allowed_actions: list[ActionOut]
    cancel_requests: list[CancelRequestOut]
    cancel_reasons: list[ReasonOut] = Field(..., description="今キャンセル申請に使える理由")

    @staticmethod
    def resolve_thread_id(obj):
        thread = getattr(obj, "thread", None)
        return thread.pk if thread else None

    @staticmethod
    def resolve_seller_fee(obj):
        return services.seller_fee(obj.subtotal)

    @staticmethod
    def resolve_net(obj):
        return obj.subtotal - services.seller_fee(obj.subtotal)

    @staticmethod
    def resolve_escrow(obj):
        return balance(escrow_code(obj.ledger_ref))

    @staticmethod
    def resolve_answers(obj):
        return list(obj.answers.all())

    @staticmethod
    def resolve_deliveries(obj):
        return list(selectors.order_deliveries(order=obj))

    @staticmethod
    def resolve_allowed_actions(obj, context):
        rows = selectors.order_actions(order=obj, user=context["request"].auth)
        return actions_out([t for t in rows if t.action in PARTY_ACTIONS], FORM_ACTIONS)

    @staticmethod
    def resolve_cancel_requests(obj):
        return list(selectors.order_cancel_requests(order=obj).select_related("order"))

    @staticmethod
    def resolve_cancel_reasons(obj, context):
        return [ReasonOut(code=code, label=label)
                for code, label in selectors.cancel_reasons(order=obj, user=context["request"].auth)]


class OrderActionIn(Schema):
    body: str | None = Field(None, max_length=rules.MESSAGE_MAX_LENGTH, description="deliver: 納品メッセージ")
    reason: str | None = Field(
        None, max_length=2_000, description="request_revision: 修正依頼の内容 / open_dispute: 相談内容"
    )


class CancelRequestIn(Schema):
    reason: str = Field(..., max_length=32, description="order.cancel_reasons の code")
    detail: str = Field("", max_length=2_000)


class TimelineOut(Schema):
    action: str
    actor: UserBrief | None
    actor_role: str
    from_state: str
    to_state: str
    payload: dict
    created_at: LocalDateTime

    @staticmethod
    def resolve_payload(obj, context):
        payload = obj.payload if isinstance(obj.payload, dict) else {}
        if context["request"].auth.is_operator:
            return payload
        return {key: value for key, value in payload.items() if key not in INTERNAL_KEYS}


def _detail(order_id: int, user) -> Order:
    return selectors.order_get(order_id=order_id, user=user)


@router.post("/listings/{listing_id}/purchase", response={201: OrderOut, **ACTION_ERRORS},
             summary="サービスを購入する（ヒアリングに回答し、価格＋手数料を仮払い）")
def purchase(request, payload: PurchaseIn, listing_id: int = IdPath()):
    order = services.order_purchase(listing_id=listing_id, user=request.auth, option_ids=payload.option_ids,
                                    answers=payload.answers, card_token=payload.card_token.strip())
    return Status(201, _detail(order.pk, request.auth))


@router.get("/orders", response=list[OrderListOut], summary="自分の注文（購入・販売）")
@paginate(Pagination)
def list_orders(request, role: Literal["", "buyer", "seller"] = ""):
    return selectors.order_list(user=request.auth, role=role)


@router.get("/orders/{order_id}", response={200: OrderOut, **ERRORS}, summary="注文の詳細（当事者のみ）")
def get_order(request, order_id: int = IdPath()):
    return _detail(order_id, request.auth)


@router.post("/orders/{order_id}/actions/{action}", response={200: OrderOut, **ACTION_ERRORS},
             summary="注文の操作（allowed_actions の action）")
def order_action(request, payload: OrderActionIn | None = None, order_id: int = IdPath(),
                 action: str = Path(..., max_length=32)):
    """`deliver` → `{body}` (files: POST …/deliveries), `request_revision` → `{reason}`, `open_dispute` →
    `{reason}`（事務局に相談する: the order's clock stops）, anything else: no body."""
    user, data = request.auth, payload or OrderActionIn()
    if action not in PARTY_ACTIONS:
        raise DomainError("unknown_action", f"「{action}」という操作はありません。")
    if action == "deliver":
        services.order_deliver(order_id=order_id, user=user, body=data.body or "")
    elif action == "request_revision":
        services.order_request_revision(order_id=order_id, user=user, reason=data.reason or "")
    elif action == "open_dispute":
        services.order_open_dispute(order_id=order_id, user=user, reason=data.reason or "")
    else:
        services.order_simple_action(order_id=order_id, user=user, action=action)
    return _detail(order_id, user)


@router.post("/orders/{order_id}/deliveries", response={201: OrderOut, **ERRORS, 413: ErrorOut},
             summary="正式な納品をする（ファイル添付: multipart/form-data）")
def deliver_with_files(request, order_id: int = IdPath(), body: Form[str] = "",
                       files: File[list[UploadedFile]] = None):
    services.order_deliver(order_id=order_id, user=request.auth, body=body, files=files or [])
    return Status(201, _detail(order_id, request.auth))


@router.post("/orders/{order_id}/cancel-requests", response={201: OrderOut, **ERRORS},
             summary="キャンセルを申請する（相手は24時間以内に回答。回答がなければ成立）")
def request_cancel(request, payload: CancelRequestIn, order_id: int = IdPath()):
    services.order_cancel_request(order_id=order_id, user=request.auth, reason=payload.reason,
                                  detail=payload.detail)
    return Status(201, _detail(order_id, request.auth))


@router.post("/cancel-requests/{request_id}/actions/{action}", response={200: OrderOut, **ERRORS},
             summary="キャンセル申請に回答する（agree / refuse）・取り下げる（withdraw）")
def answer_cancel(request, request_id: int = IdPath(), action: str = Path(..., max_length=32)):
    cancel_request = services.cancel_request_answer(request_id=request_id, user=request.auth, action=action)
    return _detail(cancel_request.order_id, request.auth)


@router.get("/orders/{order_id}/timeline", response={200: list[TimelineOut], **ERRORS},
            summary="注文のタイムライン（監査ログ）")
def timeline(request, order_id: int = IdPath()):
    return selectors.order_timeline(order=_detail(order_id, request.auth))

