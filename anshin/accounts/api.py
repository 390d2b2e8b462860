"""Accounts API: API tokens, my profile with the unread count, my balance with its ledger history."""

from django.core.exceptions import ValidationError as DjangoValidationError
from ninja import Field, Router, Schema, Status

from anshin.accounts.presence import last_seen
from anshin.core.api_auth import ERRORS, ErrorOut, LocalDateTime, token_create, token_revoke
from anshin.core.errors import DomainError
from anshin.ledger.models import Posting
from anshin.ledger.services import balance, worker_code
from anshin.messaging.services import unread_count

router = Router(tags=["accounts"])

BALANCE_HISTORY = 100


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
        raise DomainError("too_many_attempts", "ログインの失敗が続いたため、しばらく時間をおいてから再度お試しください。",
                          status=429) from None
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


@router.get("/me", response={200: MeOut, **ERRORS}, summary="自分のプロフィールと未読数")
def me(request):
    user = request.auth
    return MeOut(id=user.pk, email=user.email, name=user.name, display_name=user.display_name, bio=user.bio,
                 skills=user.skill_list, hide_last_access=user.hide_last_access, is_operator=user.is_operator,
                 last_seen_at=last_seen(user), unread_count=unread_count(user))


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
    postings = (Posting.objects.filter(account__code=code).select_related("entry")
                .order_by("-entry__created_at", "-id")[:BALANCE_HISTORY])
    return BalanceOut(
        balance=balance(code),
        postings=[PostingOut(entry_id=p.entry_id, kind=p.entry.kind, memo=p.entry.memo, ref=p.entry.ref,
                             amount=p.amount, created_at=p.entry.created_at) for p in postings],
    )
