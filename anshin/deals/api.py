"""Deals API: delivery-date changes on a contract or an order (the twins of the date-change buttons)."""

from datetime import date

from ninja import Field, Path, Router, Schema, Status

from anshin.accounts.api import UserBrief
from anshin.core.api_auth import ERRORS, ActionOut, IdPath, LocalDateTime, actions_out
from anshin.deals import selectors, services
from anshin.deals.kinds import kind_of

router = Router(tags=["deals"])

DealKindPath = Path(..., max_length=16, description="contract（契約）または order（注文）")


class DateChangeIn(Schema):
    new_date: date = Field(..., description="希望する納期（明日以降）")
    reason: str = Field(..., max_length=services.REASON_MAX, description="理由")


class DateChangeOut(Schema):
    id: int
    deal_kind: str
    deal_id: int = Field(..., alias="subject_id")
    state: str
    state_label: str
    old_date: date
    new_date: date
    reason: str
    proposed_by: UserBrief
    created_at: LocalDateTime
    answered_at: LocalDateTime | None
    allowed_actions: list[ActionOut]

    @staticmethod
    def resolve_deal_kind(obj):
        return kind_of(obj.deal).name

    @staticmethod
    def resolve_allowed_actions(obj, context):
        return actions_out(selectors.date_change_actions(req=obj, deal=obj.deal, user=context["request"].auth))


def _with_deal(req, deal):
    req.deal = deal
    return req


@router.get(
    "/deals/{deal_kind}/{deal_id}/date-changes",
    response={200: list[DateChangeOut], **ERRORS},
    summary="納期変更の申請一覧（当事者のみ）",
)
def list_date_changes(request, deal_kind: str = DealKindPath, deal_id: int = IdPath()):
    deal = selectors.deal_get(deal_kind=deal_kind, deal_id=deal_id, user=request.auth)
    return [_with_deal(req, deal) for req in selectors.date_change_list(deal=deal)]


@router.post(
    "/deals/{deal_kind}/{deal_id}/date-changes",
    response={201: DateChangeOut, **ERRORS},
    summary="納期の変更を申請する（受注者・出品者）",
)
def propose(request, payload: DateChangeIn, deal_kind: str = DealKindPath, deal_id: int = IdPath()):
    deal = selectors.deal_get(deal_kind=deal_kind, deal_id=deal_id, user=request.auth)
    req = services.date_change_propose(
        deal_kind=deal_kind, deal_id=deal.pk, user=request.auth, new_date=payload.new_date, reason=payload.reason
    )
    return Status(201, selectors.date_change_get(request_id=req.pk, user=request.auth))


@router.get(
    "/deals/date-changes/{request_id}", response={200: DateChangeOut, **ERRORS}, summary="納期変更の申請（当事者のみ）"
)
def get_date_change(request, request_id: int = IdPath()):
    return selectors.date_change_get(request_id=request_id, user=request.auth)


@router.post(
    "/deals/date-changes/{request_id}/actions/{action}",
    response={200: DateChangeOut, **ERRORS},
    summary="納期変更の申請に回答する（approve / decline）・取り下げる（withdraw）",
)
def answer(request, request_id: int = IdPath(), action: str = Path(..., max_length=32)):
    req = selectors.date_change_get(request_id=request_id, user=request.auth)  # 404 before anything else
    services.date_change_answer(request_id=req.pk, user=request.auth, action=action)
    return selectors.date_change_get(request_id=request_id, user=request.auth)
