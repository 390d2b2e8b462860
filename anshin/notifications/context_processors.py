from django.utils.functional import SimpleLazyObject

from anshin.notifications.selectors import unread_notification_count


def unread(request):
    """`notification_unread_count` for the header's 通知 link (one COUNT on an indexed column), counted only if the
    template shows it (not in the fragments htmx swaps in)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notification_unread_count": SimpleLazyObject(lambda: unread_notification_count(user=user))}
