"""API plumbing shared by every router: authentication (token or session), the token service, and the
small schemas and types every API module uses (error body, allowed action, ids, local date-times).

Authentication is tried in order: `Authorization: Bearer <key>` against `ApiToken`, then the Django session.
The session path enforces CSRF on unsafe methods (like Ninja's `django_auth`), but only for a request that
really carries a logged-in session, so an anonymous call gets 401 `unauthenticated`, not a CSRF 403.
"""

from datetime import datetime
from typing import Annotated

from django.db import transaction
from django.utils import timezone
from ninja import Field, Path, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth
from pydantic import PlainSerializer

from anshin import rules
from anshin.accounts.models import ApiToken
from anshin.accounts.presence import last_seen, presence_touch
from anshin.core import clock
from anshin.core.flows import T

# --- authentication -------------------------------------------------------------------------------------


class CsrfFailed(HttpError):
    def __init__(self) -> None:
        super().__init__(403, "CSRFトークンが確認できません。ページを再読み込みするか、APIトークンを使ってください。")


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <key>`. Touches presence (last access) at most once a minute, like the UI."""

    def authenticate(self, request, token: str):
        if not token or len(token) > 64:
            return None
        api_token = ApiToken.objects.select_related("user", "user__presence").filter(key=token).first()
        if api_token is None or not api_token.user.is_active:
            return None
        user = api_token.user
        seen = last_seen(user)
        if seen is None or clock.now() - seen >= rules.PRESENCE_WRITE_EVERY:
            presence_touch(user)
        request.user = user
        return user


class SessionCsrfAuth(SessionAuth):
    """Ninja's `django_auth`, with CSRF enforced on unsafe methods only for logged-in sessions."""

    def __call__(self, request):
        if not getattr(request, "user", None) or not request.user.is_authenticated:
            return None
        try:
            return super().__call__(request)
        except HttpError as exc:
            if exc.status_code == 403:
                raise CsrfFailed() from exc
            raise


AUTH = [TokenAuth(), SessionCsrfAuth()]


def token_create(*, user, name: str = "default") -> ApiToken:
    """A new API token for `user` (the key is shown once, in the response that creates it)."""
    with transaction.atomic():
        return ApiToken.objects.create(user=user, key=ApiToken.new_key(), name=(name or "default")[:64])


def token_revoke(*, user, key: str) -> int:
    return ApiToken.objects.filter(user=user, key=key).delete()[0]


# --- shared schemas and types ---------------------------------------------------------------------------

# Date-times leave the API in Japan time (ISO 8601 with +09:00).
LocalDateTime = Annotated[
    datetime, PlainSerializer(lambda value: timezone.localtime(value).isoformat(), return_type=str)
]

MAX_ID = 2**53  # ids beyond any real row: refused as 422 instead of overflowing the database driver


def IdPath(description: str = "id"):  # noqa: N802 - reads like a type in signatures
    return Path(..., ge=1, le=MAX_ID, description=description)


class ErrorOut(Schema):
    code: str = Field(..., examples=["not_found"])
    message: str = Field(..., examples=["見つかりません。"])


class ActionOut(Schema):
    action: str
    label: str
    style: str
    needs_input: bool = False


def actions_out(transitions: list[T], form_actions=frozenset()) -> list[ActionOut]:
    return [ActionOut(action=t.action, label=str(t.label), style=t.style, needs_input=t.action in form_actions)
            for t in transitions if t.label]


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
