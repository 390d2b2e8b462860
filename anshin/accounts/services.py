"""Accounts: profile changes (services write; views and the API call these)."""

from django.db import transaction

from anshin.accounts.models import User
from anshin.core import audit
from anshin.core.errors import DomainError
from anshin.trust.holds import text_guard

PROFILE_LIMITS = {"display_name": 50, "bio": 4000, "skills": 300}


def profile_update(*, user: User, display_name: str, bio: str, skills: str, hide_last_access: bool) -> User:
    values = {
        "display_name": (display_name or "").strip(),
        "bio": (bio or "").strip(),
        "skills": (skills or "").strip(),
    }
    labels = {"display_name": "表示名", "bio": "自己紹介", "skills": "スキル"}
    for field, limit in PROFILE_LIMITS.items():
        if len(values[field]) > limit:
            raise DomainError("too_long", f"{labels[field]}は{limit:,}文字以内で入力してください。")
    # trust: public texts cannot carry contact details; checked before the transaction so the hold is kept
    text_guard(user=user, surface="profile", fields={labels[field]: value for field, value in values.items()})
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        for field, value in values.items():
            setattr(locked, field, value)
        locked.hide_last_access = bool(hide_last_access)
        locked.save(update_fields=[*values, "hide_last_access"])
        audit.record(subject=locked, action="profile_edit", actor=locked, payload={"fields": sorted(values)})
    for field, value in values.items():
        setattr(user, field, value)
    user.hide_last_access = bool(hide_last_access)
    return locked
