"""Contracts API: offer from an application, list, detail with allowed actions (from the flow table),
actions (fund, deliver, request_revision, and the one-click moves), deliveries with files, timeline."""

from datetime import date

from ninja import Field, File, Form, Path, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import StrictInt

from anshin import rules
from anshin.accounts.api import UserBrief, UserOut
from anshin.contracts import selectors, services
from anshin.contracts.flow import CONTRACT_FLOW, FORM_ACTIONS, RESOLVE_ACTIONS
from anshin.contracts.models import Contract, TerminationRequest
from anshin.core.api_auth import ERRORS, ActionOut, ErrorOut, IdPath, LocalDateTime, actions_out
from anshin.core.errors import DomainError
from anshin.core.money import tiered_fee
from anshin.jobs.api import Pagination
from anshin.ledger.services import balance, escrow_code

router = Router(tags=["contracts"])

ACTION_ERRORS = {**ERRORS, 402: ErrorOut}
# SYSTEM rows are not for people; dispute resolutions are the operations console's (with an internal note).
PARTY_ACTIONS = {t.action for t in CONTRACT_FLOW.transitions if t.label} - RESOLVE_ACTIONS
INTERNAL_KEYS = ("note",)  # operators' internal notes in audit payloads: never shown to the parties


class OfferIn(Schema):
    amount: StrictInt
    delivery_date: date
    title: str = Field("", max_length=100)


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
    links: list[str] = Field(..., alias="link_list")
    created_at: LocalDateTime
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_attachments(obj):
        return list(obj.attachments.all())


class ContractListOut(Schema):
    id: int
    title: str
    state: str
    state_label: str
    amount: int
    delivery_date: date
    due_at: LocalDateTime | None
    timer_action: str
    client: UserBrief
    worker: UserBrief
    role: str
    created_at: LocalDateTime

    @staticmethod
    def resolve_role(obj, context):
        user = context["request"].auth
        role = obj.role_of(user)
        return str(role) if role else ("operator" if user.is_operator else "")


class ContractOut(ContractListOut):
    client: UserOut
    worker: UserOut
    application_id: int | None
    thread_id: int | None
    fee: int = Field(..., description="受注者の報酬から差し引かれるシステム利用料（税込）")
    net: int = Field(..., description="受注者が受け取る金額（契約金額 − 手数料）")
    escrow: int = Field(..., description="仮払い（エスクロー）残高")
    funded_at: LocalDateTime | None
    accepted_at: LocalDateTime | None
    allowed_actions: list[ActionOut]
    deliveries: list[DeliveryOut]

    @staticmethod
    def resolve_thread_id(obj):
        thread = getattr(obj, "thread", None)
        return thread.pk if thread else None

    @staticmethod
    def resolve_fee(obj):
        return tiered_fee(obj.amount)

    @staticmethod
    def resolve_net(obj):
        return obj.amount - tiered_fee(obj.amount)

    @staticmethod
    def resolve_escrow(obj):
        return balance(escrow_code(obj.ledger_ref))

    @staticmethod
    def resolve_allowed_actions(obj, context):
        rows = selectors.contract_actions(contract=obj, user=context["request"].auth)
        return actions_out([t for t in rows if t.action in PARTY_ACTIONS], FORM_ACTIONS)

    @staticmethod
    def resolve_deliveries(obj):
        return list(obj.deliveries.prefetch_related("attachments"))


class ContractActionIn(Schema):
    card_token: str | None = Field(None, max_length=64, description="fund: 決済カードのトークン")
    body: str | None = Field(None, max_length=rules.MESSAGE_MAX_LENGTH, description="deliver: 納品メッセージ")
    links: list[str] | str | None = Field(None, description="deliver: 納品物のURL（配列、または1行に1つ）")
    reason: str | None = Field(
        None, max_length=2_000, description="request_revision: 修正依頼の理由 / open_dispute: 相談内容"
    )


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


def _links(value) -> str:
    if isinstance(value, list):
        return "\n".join(value)
    return value or ""


def _detail(contract_id: int, user) -> Contract:
    return selectors.contract_get(contract_id=contract_id, user=user)


@router.post(
    "/applications/{application_id}/offer",
    response={201: ContractOut, **ERRORS},
    summary="契約をオファーする（発注者）",
)
def offer(request, payload: OfferIn, application_id: int = IdPath()):
    contract = services.contract_offer(application_id=application_id, user=request.auth, **payload.dict())
    return Status(201, _detail(contract.pk, request.auth))


@router.get("/contracts", response=list[ContractListOut], summary="自分の契約一覧")
@paginate(Pagination)
def list_contracts(request):
    return selectors.contract_list(user=request.auth)


@router.get("/contracts/{contract_id}", response={200: ContractOut, **ERRORS}, summary="契約の詳細（当事者のみ）")
def get_contract(request, contract_id: int = IdPath()):
    return _detail(contract_id, request.auth)


@router.post(
    "/contracts/{contract_id}/actions/{action}",
    response={200: ContractOut, **ACTION_ERRORS},
    summary="契約の操作（allowed_actions の action）",
)
def contract_action(
    request,
    payload: ContractActionIn | None = None,
    contract_id: int = IdPath(),
    action: str = Path(..., max_length=32),
):
    """`fund` → `{card_token}`, `deliver` → `{body, links}` (files: POST …/deliveries),
    `request_revision` → `{reason}`, `open_dispute` → `{reason}`（事務局に相談する）, anything else
    (e.g. `terminate_overdue`: 納期を3日過ぎても納品がないとき、全額返金で終了) : no body."""
    user, data = request.auth, payload or ContractActionIn()
    if action not in PARTY_ACTIONS:
        raise DomainError("unknown_action", f"「{action}」という操作はありません。")
    if action == "fund":
        if not (data.card_token or "").strip():
            raise DomainError("invalid", "仮払いに使うカードのトークン（card_token）を指定してください。")
        services.contract_fund(contract_id=contract_id, user=user, card_token=data.card_token.strip())
    elif action == "deliver":
        services.contract_deliver(contract_id=contract_id, user=user, body=data.body or "", links=_links(data.links))
    elif action == "request_revision":
        services.contract_request_revision(contract_id=contract_id, user=user, reason=data.reason or "")
    elif action == "open_dispute":
        services.contract_open_dispute(contract_id=contract_id, user=user, reason=data.reason or "")
    else:
        services.contract_simple_action(contract_id=contract_id, user=user, action=action)
    return _detail(contract_id, user)


@router.post(
    "/contracts/{contract_id}/deliveries",
    response={201: ContractOut, **ERRORS, 413: ErrorOut},
    summary="納品する（ファイル添付: multipart/form-data）",
)
def deliver_with_files(
    request,
    contract_id: int = IdPath(),
    body: Form[str] = "",
    links: Form[str] = "",
    files: File[list[UploadedFile]] = None,
):
    services.contract_deliver(contract_id=contract_id, user=request.auth, body=body, links=links, files=files or [])
    return Status(201, _detail(contract_id, request.auth))


@router.get(
    "/contracts/{contract_id}/timeline",
    response={200: list[TimelineOut], **ERRORS},
    summary="契約のタイムライン（監査ログ）",
)
def timeline(request, contract_id: int = IdPath()):
    return selectors.contract_timeline(contract=_detail(contract_id, request.auth))


# --- 契約途中終了リクエスト -----------------------------------------------------------------------------------


class TerminationIn(Schema):
    worker_amount: StrictInt = Field(
        0, ge=0, le=rules.MAX_AMOUNT, description="受注者に支払う額（円）。残りは発注者に返金。0 = 全額返金"
    )
    reason: str = Field(..., max_length=2_000, description="理由")


class TerminationOut(Schema):
    id: int
    contract_id: int
    state: str
    state_label: str
    requested_by: UserBrief
    requested_as: str
    worker_amount: int
    fee: int = Field(..., description="受注者への支払いから差し引かれるシステム利用料")
    worker_net: int = Field(..., description="受注者の受取額")
    refund: int = Field(..., description="発注者への返金額")
    reason: str
    created_at: LocalDateTime
    due_at: LocalDateTime | None = Field(..., description="回答期限（過ぎると合意とみなされます）")
    answered_at: LocalDateTime | None
    allowed_actions: list[ActionOut]

    @staticmethod
    def resolve_fee(obj):
        return tiered_fee(obj.worker_amount)

    @staticmethod
    def resolve_worker_net(obj):
        return obj.worker_amount - tiered_fee(obj.worker_amount)

    @staticmethod
    def resolve_refund(obj):
        return obj.contract.amount - obj.worker_amount

    @staticmethod
    def resolve_allowed_actions(obj, context):
        return actions_out(
            selectors.termination_actions(request=obj, contract=obj.contract, user=context["request"].auth)
        )


def _with_contract(request: TerminationRequest, contract: Contract) -> TerminationRequest:
    request.contract = contract
    return request


@router.get(
    "/contracts/{contract_id}/termination-requests",
    response={200: list[TerminationOut], **ERRORS},
    summary="契約途中終了リクエストの一覧（当事者のみ）",
)
def list_termination_requests(request, contract_id: int = IdPath()):
    contract = _detail(contract_id, request.auth)
    return [_with_contract(r, contract) for r in selectors.termination_requests(contract=contract)]


@router.post(
    "/contracts/{contract_id}/termination-requests",
    response={201: TerminationOut, **ERRORS},
    summary="契約途中終了をリクエストする（発注者・受注者）",
)
def create_termination_request(request, payload: TerminationIn, contract_id: int = IdPath()):
    _detail(contract_id, request.auth)  # 404 for non-parties before anything else
    created = services.termination_request_create(
        contract_id=contract_id, user=request.auth, worker_amount=payload.worker_amount, reason=payload.reason
    )
    return Status(201, selectors.termination_get(request_id=created.pk, user=request.auth))


@router.get(
    "/termination-requests/{request_id}",
    response={200: TerminationOut, **ERRORS},
    summary="契約途中終了リクエスト（当事者のみ）",
)
def get_termination_request(request, request_id: int = IdPath()):
    return selectors.termination_get(request_id=request_id, user=request.auth)


@router.post(
    "/termination-requests/{request_id}/actions/{action}",
    response={200: TerminationOut, **ERRORS},
    summary="契約途中終了リクエストに回答する（agree / refuse）・取り下げる（withdraw）",
)
def answer_termination_request(request, request_id: int = IdPath(), action: str = Path(..., max_length=32)):
    selectors.termination_get(request_id=request_id, user=request.auth)  # 404 first
    services.termination_answer(request_id=request_id, user=request.auth, action=action)
    return selectors.termination_get(request_id=request_id, user=request.auth)
