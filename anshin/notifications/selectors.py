"""Reading the in-app notification centre and the e-mail preferences."""

from dataclasses import dataclass

from anshin.notifications import rules
from anshin.notifications.models import EmailPreference, Notification


def notification_list(*, user, limit: int = 100):
    """The user's notifications, newest first (one query)."""
    return list(Notification.objects.filter(user=user).order_by("-created_at", "-id")[:limit])


def unread_notification_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_get(*, notification_id: int, user) -> Notification | None:
    """Only the owner's notification; None (→ 404) for anyone else's."""
    return Notification.objects.filter(pk=notification_id, user=user).first()


@dataclass(frozen=True)
class GroupChoice:
    key: str
    label: str
    help: str
    switchable: bool
    email: bool


def email_preferences(*, user) -> list[GroupChoice]:
    """Every preference group of the rules table with the user's e-mail choice (default on; groups that
    cannot be switched off read as on)."""
    stored = dict(EmailPreference.objects.filter(user=user).values_list("group", "email"))
    return [
        GroupChoice(key=g.key, label=g.label, help=g.help, switchable=g.switchable,
                    email=True if not g.switchable else stored.get(g.key, True))
        for g in rules.GROUPS
    ]
