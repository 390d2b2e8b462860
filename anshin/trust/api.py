"""Blocks and reports API: the twins of the profile's 「ブロックする」 and the 「通報する」 page, calling the same
services. A block is private (the blocked user is never told); a report goes to the operators."""

from typing import Literal

from ninja import Field, Router, Schema, Status

from anshin.accounts.api import UserBrief
from anshin.core.api_auth import ERRORS, MAX_ID, IdPath, LocalDateTime
from anshin.core.errors import NotFound
from anshin.trust import blocks, reports
from anshin.trust.models import Report

router = Router(tags=["trust"])

CategoryValue = Literal[tuple(Report.Category.values)]  # type: ignore[valid-type]
SubjectValue = Literal[reports.SUBJECT_KINDS]  # type: ignore[valid-type]


class BlockIn(Schema):
    user_id: int = Field(..., ge=1, le=MAX_ID, description="ブロックするユーザーのID")


class BlockOut(Schema):
    user: UserBrief
    created_at: LocalDateTime

    @staticmethod
    def resolve_user(obj):
        return obj.blocked


class UnblockOut(Schema):
    removed: bool


@router.get("/blocks", response={200: list[BlockOut], **ERRORS}, summary="ブロックしたユーザー（新しい順）")
def list_blocks(request):
    return list(blocks.blocks_of(request.auth))


@router.post(
    "/blocks",
    response={201: BlockOut, **ERRORS},
    summary="ユーザーをブロックする（新しいメッセージ・応募・スカウト・注文ができなくなる。進行中の取引は続く）",
)
def create_block(request, payload: BlockIn):
    block = blocks.block_create(user=request.auth, target_id=payload.user_id)
    return Status(201, block)


@router.delete("/blocks/{user_id}", response={200: UnblockOut, **ERRORS}, summary="ブロックを解除する")
def remove_block(request, user_id: int = IdPath("ブロックを解除するユーザーのID")):
    if not blocks.block_remove(user=request.auth, target_id=user_id):
        raise NotFound("このユーザーはブロックしていません。")
    return {"removed": True}


class ReportIn(Schema):
    subject: SubjectValue = Field(..., description="通報の対象: user / message / job / listing")  # type: ignore[valid-type]
    id: int = Field(..., ge=1, le=MAX_ID, description="対象のID")
    category: CategoryValue = Field(..., description="通報の種類")  # type: ignore[valid-type]
    text: str = Field(..., max_length=Report._meta.get_field("text").max_length, description="何があったか")


class ReportOut(Schema):
    id: int
    subject: str
    subject_id: int
    category: str
    category_label: str = Field(..., alias="get_category_display")
    state: str
    message: str = reports.RECEIVED_MESSAGE
    created_at: LocalDateTime


@router.post("/reports", response={201: ReportOut, **ERRORS}, summary="通報する（事務局が確認します）")
def create_report(request, payload: ReportIn):
    report = reports.report_create(
        user=request.auth,
        subject_kind=payload.subject,
        subject_id=payload.id,
        category=payload.category,
        text=payload.text,
    )
    return Status(
        201,
        ReportOut(
            id=report.pk,
            subject=payload.subject,
            subject_id=report.subject_id,
            category=report.category,
            get_category_display=report.get_category_display(),
            state=report.state,
            created_at=report.created_at,
        ),
    )
