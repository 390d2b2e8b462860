"""Operations console API (/api/ops/...): the twins of the console's pages and decisions.

Operators only. Anyone else — anonymous, an ordinary user, staff without the operators' group — gets
404 `not_found` on every endpoint and every method, before the body is even read (so a malformed request
does not reveal the endpoint either). Authentication is the usual token or session (CSRF on unsafe methods)."""

from datetime import datetime
from typing import Literal

from ninja import Field, Path, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from anshin import rules
from anshin.accounts.api import UserBrief
from anshin.core import api_auth
from anshin.core.api_auth import ERRORS, IdPath, LocalDateTime
from anshin.core.errors import DomainError, NotFound
from anshin.ops import selectors, services
from anshin.ops.models import QueueItem
from anshin.payouts.api import BankOut
from anshin.payouts.flow import WITHDRAWAL_FLOW
from anshin.payouts.models import Withdrawal

ReverseReason = Withdrawal.ReverseReason


def _operator_or_404(user):
    if not (user and user.is_authenticated and user.is_operator):
        raise NotFound()
    return user


# The same class names as the site-wide schemes: the OpenAPI document names the same two security schemes.
class TokenAuth(api_auth.TokenAuth):
    def authenticate(self, request, token):
        user = super().authenticate(request, token)
        return _operator_or_404(user) if user else None


class SessionCsrfAuth(api_auth.SessionCsrfAuth):
    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_operator:
            raise NotFound()  # before the CSRF check: a non-operator learns nothing
        return super().__call__(request)


class Nobody:
    """Last in the list: no token and no session is a 404 here too, never a 401."""

    def __call__(self, request):
        raise NotFound()


router = Router(tags=["ops"], auth=[TokenAuth(), SessionCsrfAuth(), Nobody()])

KindValue = Literal[tuple(QueueItem.Kind.values)]  # type: ignore[valid-type]
NoteField = Field(..., max_length=rules.OPS_NOTE_MAX_LENGTH, description="内部メモ（必須・当事者には表示されません）")


class Pagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(50, ge=1, le=200)
        offset: int = Field(0, ge=0, le=1_000_000)


# --- schemas ------------------------------------------------------------------------------------------------


class QueueCountOut(Schema):
    kind: str
    label: str
    open: int
    overdue: int


class QueueItemOut(Schema):
    id: int
    kind: str
    kind_label: str = Field(..., alias="get_kind_display")
    state: str
    summary: str
    due_at: LocalDateTime | None
    overdue: bool = Field(..., alias="is_overdue")
    created_at: LocalDateTime
    concerns: UserBrief | None
    assignee: UserBrief | None
    closed_at: LocalDateTime | None
    closed_by: UserBrief | None
    resolution: str
    note: str
    subject_type: str
    subject_id: int

    @staticmethod
    def resolve_subject_type(obj):
        from django.contrib.contenttypes.models import ContentType

        return ContentType.objects.get_for_id(obj.subject_type_id).model


class DashboardOut(Schema):
    queues: list[QueueCountOut]
    open_total: int
    overdue_total: int
    escrow_total: int = Field(..., description="エスクロー残高の合計（円）")
    pending_payouts_total: int = Field(..., description="支払い待ち: 出金申請（振込待ち）の合計（円）")
    worker_balance_total: int = Field(..., description="受注者残高（出金可能・未申請）の合計（円）")
    my_items: list[QueueItemOut]


class MessageOut(Schema):
    id: int
    sender: UserBrief | None
    kind: str
    body: str
    masked: bool
    caution: list
    created_at: LocalDateTime


class ItemOut(Schema):
    item: QueueItemOut
    view: str = Field(..., description="permit / deal / thread / report / message / holds / withdrawal / generic")
    subject: dict
    thread_id: int | None
    messages: list[MessageOut]
    parties: list[UserBrief]
    risk: dict | None


class AssignIn(Schema):
    assignee_id: int | None = Field(
        None, ge=1, le=api_auth.MAX_ID, description="担当にする事務局メンバー（null で担当を外す）"
    )


class CloseIn(Schema):
    note: str = NoteField
    resolution: Literal["done", "no_action"] = "done"


class PermitDecideIn(Schema):
    approve: bool
    note: str = NoteField


class NoteIn(Schema):
    note: str = NoteField


class UserActionIn(Schema):
    action: Literal[tuple(services.ACCOUNT_ACTIONS)]  # type: ignore[valid-type]
    note: str = NoteField
    message: str = Field("", max_length=2_000, description="ユーザーへの警告文（warn のとき必須）")


class ResolveIn(Schema):
    outcome: Literal["release", "refund", "split"]
    worker_amount: int | None = Field(None, ge=0, le=rules.MAX_AMOUNT, description="split のとき受注者に支払う額")
    note: str = NoteField


class WithdrawalPayIn(Schema):
    note: str = NoteField


class WithdrawalReverseIn(Schema):
    reason: Literal[tuple(ReverseReason.values)] = Field(  # type: ignore[valid-type]
        ..., description="差し戻しの理由（受注者に通知）: " + " / ".join(ReverseReason.values)
    )
    note: str = NoteField


class OpsWithdrawalOut(Schema):
    id: int
    user: UserBrief
    amount: int
    state: str
    state_label: str
    created_at: LocalDateTime
    bank: BankOut
    decided_at: LocalDateTime | None
    decided_by: UserBrief | None
    reverse_reason: str
    internal_note: str
    item_id: int | None = Field(None, description="事務局キューの項目ID")

    @staticmethod
    def resolve_bank(obj):
        return obj

    @staticmethod
    def resolve_item_id(obj):
        return getattr(obj, "item_id", None)


class WithdrawalFilter(Schema):
    state: Literal[tuple(WITHDRAWAL_FLOW.states)] | Literal[""] = ""  # type: ignore[valid-type]


class PermitOut(Schema):
    id: int
    state: str
    thread_id: int
    decided_at: LocalDateTime | None


class AuditEventOut(Schema):
    id: int
    created_at: LocalDateTime
    actor: UserBrief | None
    actor_role: str
    action: str
    subject_type: str
    subject_id: int
    from_state: str
    to_state: str
    payload: dict

    @staticmethod
    def resolve_subject_type(obj):
        return obj.subject_type.model


class QueueFilter(Schema):
    kind: KindValue | Literal[""] = ""  # type: ignore[valid-type]
    state: Literal["open", "closed"] = "open"
    mine: bool = False


class AuditFilter(Schema):
    action: str = Field("", max_length=64, description="操作名（前方一致）")
    actor_id: int | None = Field(None, ge=1, le=api_auth.MAX_ID)
    subject_type: str = Field("", max_length=32, description="user, contract, order, queueitem…")


# --- helpers ------------------------------------------------------------------------------------------------


def _jsonable(value):
    if isinstance(value, datetime):
        from django.utils import timezone

        return timezone.localtime(value).isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "total_seconds"):
        return int(value.total_seconds())
    return value


def _brief(user) -> dict | None:
    return {"id": user.pk, "name": user.name} if user else None


def _risk_out(risk: dict) -> dict:
    out = {k: v for k, v in risk.items() if k not in ("user", "operator_actions")}
    out["user"] = _brief(risk["user"])
    out["operator_actions"] = [
        {
            "id": e.pk,
            "action": e.action,
            "actor": _brief(e.actor),
            "created_at": e.created_at,
            "note": (e.payload or {}).get("note", ""),
        }
        for e in risk["operator_actions"]
    ]
    return _jsonable(out)


def _subject_out(ctx: dict) -> dict:
    view = ctx["view"]
    subject = ctx["subject"]
    if view == "permit":
        p = ctx["permit"]
        return _jsonable(
            {
                "type": "permit",
                "id": p.pk,
                "state": p.state,
                "tool": p.tool,
                "purpose": p.purpose,
                "requested_by": _brief(p.requested_by),
                "decide_by": p.decide_by,
                "decided_at": p.decided_at,
                "internal_note": p.internal_note,
            }
        )
    if view == "deal":
        deal = ctx["deal"]
        frozen = ctx["frozen"]
        return _jsonable(
            {
                "type": ctx["deal_kind"].name,
                "id": deal.pk,
                "title": deal.title,
                "state": deal.state,
                "client": _brief(ctx["deal_client"]),
                "worker": _brief(ctx["deal_worker"]),
                "amount": ctx["deal_amount"],
                "escrow": ctx["escrow"],
                "frozen_remaining_seconds": (frozen or {}).get("timer", {}).get("remaining_seconds")
                if frozen and frozen.get("timer")
                else None,
                "frozen_timer_action": frozen["timer"]["action"] if frozen and frozen.get("timer") else None,
                "timeline": [
                    {
                        "at": e.created_at,
                        "action": e.action,
                        "actor": _brief(e.actor),
                        "actor_role": e.actor_role,
                        "from": e.from_state,
                        "to": e.to_state,
                        "note": (e.payload or {}).get("note", ""),
                        "reason": (e.payload or {}).get("reason", ""),
                    }
                    for e in ctx["timeline"]
                ],
            }
        )
    if view == "report":
        r, target = ctx["report"], ctx["target"]
        return _jsonable(
            {
                "type": "report",
                "id": r.pk,
                "category": r.category,
                "text": r.text,
                "reporter": _brief(r.reporter),
                "reported_user": _brief(r.reported_user),
                "target": {
                    "kind": target["kind"],
                    "id": getattr(target["object"], "pk", None),
                    "title": target["title"],
                    "text": target["text"],
                },
            }
        )
    if view == "message":
        m = ctx["flagged"]
        return _jsonable(
            {"type": "message", "id": m.pk, "body": m.body, "caution": m.caution, "sender": _brief(m.sender)}
        )
    if view == "holds":
        return _jsonable(
            {
                "type": "user",
                "id": subject.pk,
                "holds": [
                    {"at": h.created_at, "surface": h.surface, "kinds": h.kinds, "fragments": h.fragments}
                    for h in ctx["holds"]
                ],
            }
        )
    if view == "thread":
        return {"type": "thread", "id": subject.pk, "subject": subject.subject}
    if view == "withdrawal":
        w = ctx["withdrawal"]
        return _jsonable(
            {
                "type": "withdrawal",
                "id": w.pk,
                "state": w.state,
                "amount": w.amount,
                "user": _brief(w.user),
                "created_at": w.created_at,
                "bank": {**w.bank_details(), "account_type_label": w.get_account_type_display()},
                "bank_changed": ctx["bank_changed"],
                "bank_changed_at": ctx["bank_changed_at"],
                "balances": ctx["balances"],
                "paid_count": ctx["paid_count"],
                "paid_total": ctx["paid_total"],
                "decided_at": w.decided_at,
                "decided_by": _brief(w.decided_by),
                "reverse_reason": w.reverse_reason,
                "internal_note": w.internal_note,
            }
        )
    return {"type": "", "id": getattr(subject, "pk", None)}


def _with_withdrawal(ctx: dict) -> dict:
    from anshin.payouts.selectors import ops_context

    if isinstance(ctx["subject"], Withdrawal):
        ctx.update(view="withdrawal", **ops_context(ctx["subject"]))
    return ctx


def _item_out(item_id: int) -> dict:
    item = selectors.queue_item_get(item_id=item_id)
    ctx = _with_withdrawal(selectors.item_context(item))
    thread = ctx.get("thread")
    return {
        "item": item,
        "view": ctx["view"],
        "subject": _subject_out(ctx),
        "thread_id": thread.pk if thread else None,
        "messages": ctx.get("messages") or [],
        "parties": ctx.get("parties") or [],
        "risk": _risk_out(selectors.user_risk(item.concerns)) if item.concerns_id else None,
    }


# --- endpoints ----------------------------------------------------------------------------------------------


@router.get("/ops/dashboard", response={200: DashboardOut, **ERRORS}, summary="事務局: ダッシュボード")
def dashboard(request):
    return selectors.dashboard(operator=request.auth)


@router.get("/ops/queue", response={200: list[QueueItemOut], **ERRORS}, summary="事務局: キュー（期限の早い順）")
@paginate(Pagination)
def queue(request, filters: Query[QueueFilter]):
    return selectors.queue_items(
        kind=filters.kind, state=filters.state, assignee=request.auth if filters.mine else None
    )


@router.get("/ops/items/{item_id}", response={200: ItemOut, **ERRORS}, summary="事務局: 項目（対象の内容とリスク情報）")
def get_item(request, item_id: int = IdPath()):
    return _item_out(item_id)


@router.post("/ops/items/{item_id}/assign", response={200: ItemOut, **ERRORS}, summary="事務局: 担当を決める・外す")
def assign(request, payload: AssignIn, item_id: int = IdPath()):
    services.queue_item_assign(item_id=item_id, operator=request.auth, assignee_id=payload.assignee_id)
    return _item_out(item_id)


@router.post("/ops/items/{item_id}/close", response={200: ItemOut, **ERRORS}, summary="事務局: 対応済みにする")
def close(request, payload: CloseIn, item_id: int = IdPath()):
    from anshin.payouts.selectors import refuse_close_while_waiting

    refuse_close_while_waiting(selectors.queue_item_get(item_id=item_id))
    services.item_close(item_id=item_id, operator=request.auth, resolution=payload.resolution, note=payload.note)
    return _item_out(item_id)


@router.post(
    "/ops/permits/{permit_id}/decide",
    response={200: PermitOut, **ERRORS},
    summary="事務局: サービス外連絡申請を承認・否認する",
)
def permit_decide(request, payload: PermitDecideIn, permit_id: int = IdPath()):
    from anshin.trust.permits import permit_decide as decide

    return decide(permit_id=permit_id, operator=request.auth, approve=payload.approve, note=payload.note)


@router.post(
    "/ops/permits/{permit_id}/revoke",
    response={200: PermitOut, **ERRORS},
    summary="事務局: サービス外連絡の承認を取り消す",
)
def permit_revoke(request, payload: NoteIn, permit_id: int = IdPath()):
    from anshin.trust.permits import permit_revoke as revoke

    return revoke(permit_id=permit_id, operator=request.auth, note=payload.note)


@router.post(
    "/ops/users/{user_id}/actions",
    response={200: dict, **ERRORS},
    summary="事務局: アカウントへの対応（警告・制限・利用停止・本人確認・承認の一括取り消し）",
)
def user_action(request, payload: UserActionIn, user_id: int = IdPath()):
    selectors.user_get(user_id=user_id)
    services.account_action(
        user_id=user_id, operator=request.auth, action=payload.action, note=payload.note, message=payload.message
    )
    return _risk_out(selectors.user_risk(selectors.user_get(user_id=user_id)))


@router.post(
    "/ops/disputes/{kind}/{deal_id}/resolve",
    response={200: dict, **ERRORS},
    summary="事務局: トラブル相談を解決する（release / refund / split）",
)
def dispute_resolve(request, payload: ResolveIn, kind: str = Path(..., max_length=16), deal_id: int = IdPath()):
    from anshin.deals.disputes import dispute_resolve as resolve
    from anshin.deals.kinds import kind_by_name

    deal_kind = kind_by_name(kind)
    if payload.outcome == "split" and payload.worker_amount is None:
        raise DomainError("worker_amount_required", "分割のときは受注者に支払う額（worker_amount）を指定してください。")
    deal = resolve(
        kind=deal_kind.name,
        deal_id=deal_id,
        operator=request.auth,
        outcome=payload.outcome,
        worker_amount=payload.worker_amount if payload.outcome == "split" else None,
        note=payload.note,
    )
    return {"kind": deal_kind.name, "id": deal.pk, "state": deal.state, "escrow": selectors.escrow_balance(deal)}


@router.get("/ops/users/{user_id}/risk", response={200: dict, **ERRORS}, summary="事務局: ユーザーのリスク情報")
def user_risk(request, user_id: int = IdPath()):
    return _risk_out(selectors.user_risk(selectors.user_get(user_id=user_id)))


@router.get("/ops/audit", response={200: list[AuditEventOut], **ERRORS}, summary="事務局: 監査ログ（新しい順）")
@paginate(Pagination)
def audit(request, filters: Query[AuditFilter]):
    return selectors.audit_events(actor_id=filters.actor_id, action=filters.action, subject_type=filters.subject_type)


# --- withdrawals (出金申請) -----------------------------------------------------------------------------------


def _withdrawal_out(withdrawal_id: int) -> Withdrawal:
    from django.contrib.contenttypes.models import ContentType

    withdrawal = Withdrawal.objects.select_related("user", "decided_by").filter(pk=withdrawal_id).first()
    if withdrawal is None:
        raise NotFound()
    withdrawal.item_id = (
        QueueItem.objects.filter(subject_type=ContentType.objects.get_for_model(Withdrawal), subject_id=withdrawal.pk)
        .values_list("pk", flat=True)
        .first()
    )
    return withdrawal


@router.get("/ops/withdrawals", response={200: list[OpsWithdrawalOut], **ERRORS},
            summary="事務局: 出金申請（振込待ちは申請の古い順、それ以外は新しい順）")
@paginate(Pagination)
def withdrawals(request, filters: Query[WithdrawalFilter]):
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import OuterRef, Subquery

    items = QueueItem.objects.filter(
        subject_type=ContentType.objects.get_for_model(Withdrawal), subject_id=OuterRef("pk")
    ).values("pk")[:1]
    qs = Withdrawal.objects.select_related("user", "decided_by").annotate(item_id=Subquery(items))
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.state == "requested":
        return qs.order_by("created_at", "id")
    return qs.order_by("-created_at", "-id")


@router.get("/ops/withdrawals/{withdrawal_id}", response={200: OpsWithdrawalOut, **ERRORS},
            summary="事務局: 出金申請（振込先は申請時の口座）")
def withdrawal_get(request, withdrawal_id: int = IdPath()):
    return _withdrawal_out(withdrawal_id)


@router.post("/ops/withdrawals/{withdrawal_id}/pay", response={200: OpsWithdrawalOut, **ERRORS},
             summary="事務局: 出金申請を振込済みにする（内部メモ必須）")
def withdrawal_pay(request, payload: WithdrawalPayIn, withdrawal_id: int = IdPath()):
    from anshin.payouts.services import withdrawal_pay as pay

    pay(withdrawal_id=withdrawal_id, operator=request.auth, note=payload.note)
    return _withdrawal_out(withdrawal_id)


@router.post("/ops/withdrawals/{withdrawal_id}/reverse", response={200: OpsWithdrawalOut, **ERRORS},
             summary="事務局: 出金申請を差し戻す（出金可能額に戻す。理由は受注者に通知、内部メモ必須）")
def withdrawal_reverse(request, payload: WithdrawalReverseIn, withdrawal_id: int = IdPath()):
    from anshin.payouts.services import withdrawal_reverse as reverse

    reverse(withdrawal_id=withdrawal_id, operator=request.auth, note=payload.note, reason=payload.reason)
    return _withdrawal_out(withdrawal_id)
