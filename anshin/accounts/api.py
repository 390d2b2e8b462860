"""Accounts API: API tokens, my profile with the unread count, my balance with its ledger history."""

from django.core.exceptions import ValidationError as DjangoValidationError
from ninja import Field, Router, Schema, Status

from anshin.accounts import services
from anshin.accounts.figures import DEFINITIONS, figures_of, recent_reviews
from anshin.accounts.models import User
from anshin.accounts.presence import last_seen
from anshin.core.api_auth import ERRORS, ErrorOut, IdPath, LocalDateTime, token_create, token_revoke
from anshin.core.errors import DomainError, NotFound
from anshin.ledger.selectors import postings_for
from anshin.ledger.services import balance, worker_code
from anshin.messaging.services import unread_count
from anshin.notifications import selectors as notification_selectors
from anshin.notifications import services as notification_services

router = Router(tags=["accounts"])

BALANCE_HISTORY = 100
THROTTLED = "ログインの失敗が続いたため、しばらく時間をおいてから再度お試しください。"


# --- schemas shared by the other API modules ------------------------------------------------------------

class UserBrief(Schema):
    id: int
    name: str


class UserOut(UserBrief):
    """A counterpart: last access is omitted when the user hides it. Needs `presence` selected."""

    last_seen_at: LocalDateTime | None = None

    @staticmethod
    def resolve_last_seen_at(obj):
        return None if obj.hide_last_access else last_seen(obj)


# --- tokens ---------------------------------------------------------------------------------------------

class TokenIn(Schema):
    email: str = Field(..., max_length=254)
    password: str = Field(..., max_length=256)
    name: str = Field("default", max_length=64)


class TokenOut(Schema):
    key: str
    name: str
    created_at: LocalDateTime


@router.post("/tokens", auth=None, response={201: TokenOut, 400: ErrorOut, 422: ErrorOut, 429: ErrorOut},
             summary="APIトークンを発行する（メールアドレスとパスワード）")
def create_token(request, payload: TokenIn):
    """Log-in failures count against the same rate limit as the login form (allauth `login_failed`)."""
    from allauth.account.adapter import get_adapter

    try:
        user = get_adapter(request).authenticate(request, email=payload.email.strip().lower(),
                                                 password=payload.password)
    except DjangoValidationError:
        raise DomainError("too_many_attempts", THROTTLED, status=429) from None
    if user is None or not user.is_active:
        raise DomainError("invalid_credentials", "メールアドレスまたはパスワードが正しくありません。", status=400)
    return Status(201, token_create(user=user, name=payload.name))


class RevokedOut(Schema):
    revoked: int


@router.delete("/tokens/current", response={200: RevokedOut, **ERRORS}, summary="使用中のAPIトークンを無効にする")
def revoke_token(request):
    header = request.headers.get("Authorization", "")
    key = header.split(" ", 1)[1].strip() if header.lower().startswith("bearer ") else ""
    return {"revoked": token_revoke(user=request.auth, key=key) if key else 0}


# --- me -------------------------------------------------------------------------------------------------

class MeOut(Schema):
    id: int
    email: str
    name: str
    display_name: str
    bio: str
    skills: list[str]
    hide_last_access: bool
    is_operator: bool
    last_seen_at: LocalDateTime | None
    unread_count: int


class ProfilePatch(Schema):
    display_name: str | None = Field(None, max_length=50)
    bio: str | None = Field(None, max_length=4000)
    skills: str | None = Field(None, max_length=300, description="カンマ区切り")
    hide_last_access: bool | None = None


def _me(user) -> MeOut:
    return MeOut(id=user.pk, email=user.email, name=user.name, display_name=user.display_name, bio=user.bio,
                 skills=user.skill_list, hide_last_access=user.hide_last_access, is_operator=user.is_operator,
                 last_seen_at=last_seen(user), unread_count=unread_count(user))


@router.get("/me", response={200: MeOut, **ERRORS}, summary="自分のプロフィールと未読数")
def me(request):
    return _me(request.auth)


@router.patch("/me", response={200: MeOut, **ERRORS}, summary="プロフィールを編集する")
def update_me(request, payload: ProfilePatch):
    user = request.auth
    current = {"display_name": user.display_name, "bio": user.bio, "skills": user.skills,
               "hide_last_access": user.hide_last_access}
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    return _me(services.profile_update(user=user, **{**current, **changes}))


class ReplyBucketOut(Schema):
    label: str
    count: int


class ClientFiguresOut(Schema):
    funding_rate: int | None = Field(..., description="仮払い率（%）: " + DEFINITIONS["funding_rate"])
    funding_decided: int = Field(..., description="仮払い率の分母（仮払い待ちを終えた、承諾済みの契約）")
    funding_funded: int = Field(..., description="仮払い率の分子（そのうち仮払いされた契約）")
    inspection_median_seconds: int | None = Field(..., description="検収にかかる時間の中央値（秒）: "
                                                  + DEFINITIONS["inspection_time"])
    inspection_count: int
    deemed_acceptances: int = Field(..., description="みなし検収: " + DEFINITIONS["deemed"])
    terminations: int = Field(..., description="途中終了: " + DEFINITIONS["terminations"])
    disputes: int = Field(..., description="トラブル相談: " + DEFINITIONS["disputes"])


class FiguresOut(Schema):
    """Profile figures (PRODUCT.md §4): null means no data (shown as 「—」), never 0."""

    response_rate: int | None = Field(..., description="応答率（%）: " + DEFINITIONS["response_rate"])
    response_count: int = Field(..., description="応答率の分母（相手から最初のメッセージが届いたやりとり）")
    reply_median_seconds: int | None = Field(..., description="返信時間の中央値（秒）: " + DEFINITIONS["reply_time"])
    reply_count: int
    reply_histogram: list[ReplyBucketOut]
    completed: int = Field(..., description="完了した取引: " + DEFINITIONS["completed"])
    completed_as_worker: int
    completed_as_client: int
    rating_average: float | None = Field(..., description="評価の平均（★、小数1桁）: " + DEFINITIONS["rating"])
    rating_count: int
    rating_distribution: dict[str, int] = Field(..., description="星の数（四捨五入）ごとの件数、\"1\"〜\"5\"")
    is_client: bool = Field(..., description="発注者として仕事を募集・契約・購入したことがある")
    client: ClientFiguresOut | None = Field(..., description="発注者としての実績（is_client のときのみ）")


class PublicReviewOut(Schema):
    author: UserBrief
    author_role: str = Field(..., description="client: 発注者からの評価 / worker: 受注者からの評価")
    stars: float = Field(..., description="5項目の平均")
    comment: str
    submitted_at: LocalDateTime
    reply: str
    replied_at: LocalDateTime | None

    @staticmethod
    def resolve_stars(obj):
        return round(obj.stars, 1)


class ProfileOut(Schema):
    id: int
    name: str
    bio: str
    skills: list[str] = Field(..., alias="skill_list")
    last_seen_at: LocalDateTime | None = Field(None, description="最終アクセス（非公開なら null）")
    date_joined: LocalDateTime
    figures: FiguresOut
    recent_reviews: list[PublicReviewOut] = Field(..., description="公開された評価（新しい順に5件）と返信")

    @staticmethod
    def resolve_last_seen_at(obj):
        return None if obj.hide_last_access else last_seen(obj)

    @staticmethod
    def resolve_figures(obj):
        return figures_of(obj).as_dict()

    @staticmethod
    def resolve_recent_reviews(obj):
        return recent_reviews(obj)


@router.get("/users/{user_id}", response={200: ProfileOut, **ERRORS}, summary="公開プロフィール")
def profile(request, user_id: int = IdPath()):
    person = User.objects.select_related("presence").filter(pk=user_id, is_active=True).first()
    if person is None:
        raise NotFound()
    return person


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: LocalDateTime
    read_at: LocalDateTime | None


class MarkedOut(Schema):
    marked: int


@router.get("/notifications", response={200: list[NotificationOut], **ERRORS}, summary="お知らせ（新しい順）")
def notifications(request):
    return notification_selectors.notification_list(user=request.auth)


@router.post("/notifications/read", response={200: MarkedOut, **ERRORS}, summary="お知らせをすべて既読にする")
def notifications_read_all(request):
    return {"marked": notification_services.notifications_mark_read(user=request.auth)}


@router.post("/notifications/{notification_id}/read", response={200: MarkedOut, **ERRORS},
             summary="お知らせを1件既読にする")
def notification_read(request, notification_id: int = IdPath()):
    item = notification_selectors.notification_get(notification_id=notification_id, user=request.auth)
    if item is None:
        raise NotFound()
    return {"marked": notification_services.notifications_mark_read(user=request.auth, notification_id=item.pk)}


class PostingOut(Schema):
    entry_id: int
    kind: str
    memo: str
    ref: str
    amount: int
    created_at: LocalDateTime


class BalanceOut(Schema):
    balance: int
    postings: list[PostingOut]


@router.get("/me/balance", response={200: BalanceOut, **ERRORS}, summary="報酬残高と入出金履歴")
def my_balance(request):
    code = worker_code(request.auth.pk)
    postings = postings_for(code)[:BALANCE_HISTORY]
    return BalanceOut(
        balance=balance(code),
        postings=[PostingOut(entry_id=p.entry_id, kind=p.entry.kind, memo=p.entry.memo, ref=p.entry.ref,
                             amount=p.amount, created_at=p.entry.created_at) for p in postings],
    )
