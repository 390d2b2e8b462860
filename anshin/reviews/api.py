"""Reviews API: the twin of the review page. The same selector decides what a party may see, so before the
reveal the response carries the caller's own review and nothing of the other side's (whether they have
submitted: yes/no only)."""

from ninja import Field, Router, Schema, Status
from pydantic import StrictInt

from anshin import rules
from anshin.accounts.api import UserBrief
from anshin.core.api_auth import ERRORS, IdPath, LocalDateTime
from anshin.reviews import selectors, services
from anshin.reviews.models import AXES, Review

router = Router(tags=["reviews"])


class ReviewOut(Schema):
    id: int
    author: UserBrief
    subject: UserBrief
    author_role: str = Field(..., description="client（発注者・購入者）| worker（受注者・出品者）")
    skill: int
    quality: int
    schedule: int
    communication: int
    partnership: int
    average: float = Field(..., description="5項目の平均")
    comment: str
    submitted_at: LocalDateTime
    reply: str = Field(..., description="評価を受けた人の返信（1回まで）")
    replied_at: LocalDateTime | None

    @staticmethod
    def resolve_average(obj):
        return round(obj.stars, 2)


class ReviewWindowOut(Schema):
    id: int
    deal_kind: str = Field(..., description="contract | order")
    deal_id: int
    deal_title: str
    role: str = Field(..., description="あなたの立場: client | worker")
    counterpart: UserBrief
    opened_at: LocalDateTime
    closes_at: LocalDateTime = Field(..., description="投稿期限（過ぎると公開されます）")
    revealed_at: LocalDateTime | None = Field(..., description="公開日時（双方の投稿、または期限で公開）")
    submitted: bool = Field(..., description="あなたが投稿済みか")
    other_submitted: bool = Field(..., description="相手が投稿済みか（内容は公開まで含まれません）")
    can_submit: bool
    can_reply: bool
    reviews: list[ReviewOut] = Field(..., description="見ることのできる評価: 公開前はあなたの評価のみ")


def _out(window, user) -> dict:
    status = selectors.window_status(window, user)
    return {
        "id": window.pk,
        "deal_kind": "contract" if window.contract_id else "order",
        "deal_id": window.contract_id or window.order_id,
        "deal_title": window.deal_title,
        "role": status.role,
        "counterpart": status.counterpart,
        "opened_at": window.opened_at,
        "closes_at": window.closes_at,
        "revealed_at": window.revealed_at,
        "submitted": status.mine is not None,
        "other_submitted": status.other_submitted,
        "can_submit": status.can_submit,
        "can_reply": status.can_reply,
        "reviews": [r for r in (status.mine, status.theirs) if r is not None],
    }


class ReviewIn(Schema):
    skill: StrictInt = Field(..., ge=1, le=5, description="スキル ★1〜5")
    quality: StrictInt = Field(..., ge=1, le=5, description="クオリティ ★1〜5")
    schedule: StrictInt = Field(..., ge=1, le=5, description="スケジュール ★1〜5")
    communication: StrictInt = Field(..., ge=1, le=5, description="コミュニケーション ★1〜5")
    partnership: StrictInt = Field(..., ge=1, le=5, description="パートナーシップ ★1〜5")
    comment: str = Field(..., max_length=rules.REVIEW_COMMENT_MAX_LENGTH, description="コメント")


class ReplyIn(Schema):
    body: str = Field(..., max_length=rules.REVIEW_COMMENT_MAX_LENGTH, description="返信（公開・1回まで）")


@router.get("/reviews/{window_id}", response={200: ReviewWindowOut, **ERRORS}, summary="取引の評価（当事者のみ）")
def get_window(request, window_id: int = IdPath()):
    return _out(selectors.review_window_get(window_id=window_id, user=request.auth), request.auth)


@router.post("/reviews/{window_id}", response={201: ReviewWindowOut, **ERRORS}, summary="評価を投稿する（1回のみ）")
def submit(request, payload: ReviewIn, window_id: int = IdPath()):
    selectors.review_window_get(window_id=window_id, user=request.auth)  # 404 for non-parties first
    data = payload.dict()
    services.review_submit(window_id=window_id, user=request.auth, comment=data.pop("comment"),
                           ratings={field: data[field] for field, _ in AXES})
    return Status(201, _out(selectors.review_window_get(window_id=window_id, user=request.auth), request.auth))


@router.post(
    "/reviews/items/{review_id}/reply",
    response={200: ReviewWindowOut, **ERRORS},
    summary="受けた評価に返信する（公開後・1回のみ）",
)
def reply(request, payload: ReplyIn, review_id: int = IdPath()):
    services.review_reply(review_id=review_id, user=request.auth, text=payload.body)
    window_id = Review.objects.values_list("window_id", flat=True).get(pk=review_id)
    return _out(selectors.review_window_get(window_id=window_id, user=request.auth), request.auth)
