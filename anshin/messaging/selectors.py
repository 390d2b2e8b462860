"""Reading threads: the inbox (who waits for whom, since when) and one thread with its receipts."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Substr

from anshin.accounts.presence import last_seen
from anshin.core.access import for_party, get_for_party
from anshin.messaging.models import Message, Receipt, Thread, ThreadMember


@dataclass
class InboxRow:
    thread: Thread
    counterpart: object  # User or None
    unread: int
    waiting_on_me: bool  # the last word was the counterpart's: I owe a reply
    waiting_since: datetime | None
    last_excerpt: str = ""  # the latest message of any kind (system included), first 80 characters
    last_kind: str = ""


def inbox(*, user, limit: int = 50) -> list[InboxRow]:
    """Threads sorted by activity, with unread counts and who is waiting for whom. Four queries at most."""
    latest = Message.objects.filter(thread=OuterRef("pk")).order_by("-created_at", "-id")
    threads = (
        for_party(Thread.objects.all(), user)
        .select_related("last_human_message", "last_human_message__sender")
        .annotate(unread=Count("messages__receipts", filter=Q(messages__receipts__user=user,
                                                               messages__receipts__read_at__isnull=True)),
                  last_excerpt=Subquery(latest.annotate(excerpt=Substr("body", 1, 80)).values("excerpt")[:1]),
                  last_kind=Subquery(latest.values("kind")[:1]))
        .prefetch_related(Prefetch("members", queryset=ThreadMember.objects.select_related("user__presence")))
        .order_by("-last_message_at", "-id")[:limit]
    )
    rows = []
    for thread in threads:
        others = [m.user for m in thread.members.all() if m.user_id != user.pk]
        last = thread.last_human_message
        rows.append(InboxRow(
            thread=thread,
            counterpart=others[0] if others else None,
            unread=thread.unread,
            waiting_on_me=bool(last and last.sender_id != user.pk),
            waiting_since=last.created_at if last else None,
            last_excerpt=thread.last_excerpt or "",
            last_kind=thread.last_kind or "",
        ))
    return rows


def thread_get(*, thread_id: int, user) -> Thread:
    return get_for_party(
        Thread.objects.select_related("application__job", "contract").prefetch_related(
            Prefetch("members", queryset=ThreadMember.objects.select_related("user__presence"))
        ),
        user, pk=thread_id,
    )


def thread_messages(*, thread: Thread, limit: int = 200, after_id: int | None = None) -> list[Message]:
    """The latest `limit` messages in time order, with receipts and attachments, in three queries."""
    qs = (
        Message.objects.filter(thread=thread)
        .select_related("sender")
        .prefetch_related(Prefetch("receipts", queryset=Receipt.objects.all()), "attachments")
    )
    if after_id:
        qs = qs.filter(id__gt=after_id)
    return list(reversed(qs.order_by("-created_at", "-id")[:limit]))


def counterpart_status(*, thread: Thread, user, messages: list[Message]) -> dict:
    """What the waiting side wants to know: when the other party was last here, and whether they have
    logged in since my last message (「このメッセージの送信後、相手はまだログインしていません」)."""
    others = [m.user for m in thread.members.all() if m.user_id != user.pk]
    if not others:
        return {}
    other = others[0]
    seen = None if other.hide_last_access else last_seen(other)
    mine = [m for m in messages if m.sender_id == user.pk]
    # Presence is written at most once a minute, so a reader may look "not logged in" for up to a minute
    # after reading: a receipt of my last message is proof enough that they have been here since.
    read = bool(mine and any(r.user_id == other.pk and r.read_at for r in mine[-1].receipts.all()))
    not_since = bool(mine and not read and (last_seen(other) is None or last_seen(other) < mine[-1].created_at))
    return {"user": other, "last_seen": seen, "hidden": other.hide_last_access,
            "not_logged_in_since_my_last": not_since, "my_last_message_id": mine[-1].pk if mine else None}
