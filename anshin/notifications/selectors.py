"""Reading the in-app notification centre."""

from anshin.notifications.models import Notification


def notification_list(*, user, limit: int = 100):
    """The user's notifications, newest first (one query)."""
    return list(Notification.objects.filter(user=user).order_by("-created_at", "-id")[:limit])


def unread_notification_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_get(*, notification_id: int, user) -> Notification | None:
    """Only the owner's notification; None (→ 404) for anyone else's."""
    return Notification.objects.filter(pk=notification_id, user=user).first()
