from anshin.core import clock
from anshin.notifications.models import Notification


def notify(*, user, kind: str, title: str, dedupe_key: str, body: str = "", url: str = "") -> Notification:
    """Queue an in-app (and later e-mail) notification once per dedupe key."""
    notification, _ = Notification.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={"user": user, "kind": kind, "title": title, "body": body, "url": url, "created_at": clock.now()},
    )
    return notification


def notifications_mark_read(*, user, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) read; returns how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=clock.now())
