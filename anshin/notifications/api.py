"""E-mail preferences over the API (the notification list and read marks live in accounts/api.py)."""

from ninja import Router, Schema

from anshin.core.api_auth import ERRORS
from anshin.notifications import selectors, services

router = Router(tags=["notifications"])


class PreferenceOut(Schema):
    group: str
    label: str
    help: str
    switchable: bool
    email: bool


class PreferencesIn(Schema):
    """{"groups": {"messages": false, "deals": true}}: e-mail on/off per group; groups not named keep theirs."""

    groups: dict[str, bool]


def _out(user) -> list[dict]:
    return [{"group": g.key, "label": g.label, "help": g.help, "switchable": g.switchable, "email": g.email}
            for g in selectors.email_preferences(user=user)]


@router.get("/notifications/preferences", response={200: list[PreferenceOut], **ERRORS},
            summary="メール通知の設定（種類ごと）")
def preferences(request):
    return _out(request.auth)


@router.put("/notifications/preferences", response={200: list[PreferenceOut], **ERRORS},
            summary="メール通知の設定を変更する（オフにできない種類は常にオン）")
def preferences_update(request, payload: PreferencesIn):
    services.email_preferences_update(user=request.auth, choices=payload.groups)
    return _out(request.auth)
