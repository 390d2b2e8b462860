from django.utils.functional import SimpleLazyObject

from anshin.messaging.services import unread_count


def unread(request):
    """`unread_count` for the header's メッセージ link, counted only if the template shows it (not in the
    fragments htmx swaps in, such as the thread's 4-second poll)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_count": SimpleLazyObject(lambda: unread_count(user))}
