"""Reading threads: the inbox (who waits for whom, since when) and one thread with its receipts."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Substr
from django.utils import timezone

from anshin import rules
from anshin.accounts.models import HEAVY_USER_FIELDS
from anshin.accounts.presence import last_seen
from anshin.core.access import for_party, get_for_party
from anshin.jobs.models import Application
from anshin.messaging.models import Message, Nudge, Receipt, Thread, ThreadMember


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
    """Threads sorted by activity, with unread counts and who is waiting for whom. Four queries."""
    latest = Message.objects.filter(thread=OuterRef("pk")).order_by("-created_at", "-id").values("pk")[:1]
    threads = list(
        for_party(Thread.objects.all(), user)
        .select_related("last_human_message", "last_human_message__sender")
        .defer(*(f"last_human_message__sender__{name}" for name in HEAVY_USER_FIELDS))
        .annotate(last_id=Subquery(latest))
        # the counterparts only: my own membership row (and user) fifty times over is work for nothing
        .prefetch_related(Prefetch("members", queryset=ThreadMember.objects.exclude(user=user)
                                   .select_related("user__presence")
                                   .defer(*(f"user__{name}" for name in HEAVY_USER_FIELDS)),
                                   to_attr="counterparts"))
        .order_by("-last_message_at", "-id")[:limit]
    )
    # The latest message of each row (system ones included), in one read by pk: one subquery per column
    # it shows was an index visit per row and column.
    latest_messages = {m["pk"]: m for m in Message.objects.filter(pk__in=[t.last_id for t in threads if t.last_id])
                       .annotate(excerpt=Substr("body", 1, 80))
                       .values("pk", "kind", "excerpt", "progress_percent", "next_date", "late_item")}
    unread = _unread_by_thread(user, [t.pk for t in threads])
    rows = []
    for thread in threads:
        others = [m.user for m in thread.counterparts]
        last = thread.last_human_message
        latest_message = latest_messages.get(thread.last_id)
        rows.append(InboxRow(
            thread=thread,
            counterpart=others[0] if others else None,
            unread=unread.get(thread.pk, 0),
            waiting_on_me=bool(last and last.sender_id != user.pk),
            waiting_since=last.created_at if last else None,
            last_excerpt=_excerpt(latest_message) if latest_message else "",
            last_kind=latest_message["kind"] if latest_message else "",
        ))
    return rows


def _unread_by_thread(user, thread_ids: list[int]) -> dict[int, int]:
    """My unread receipts in these threads, counted in one grouped query. PostgreSQL picks the cheaper side: my
    unread receipts (index user, read_at) for a reader who keeps up, the threads' messages for one who does not.
    (As a subquery per row it hashed every message of every thread shown: most of the page's SQL.)"""
    return dict(Receipt.objects.filter(user=user, read_at__isnull=True, message__thread_id__in=thread_ids)
                .values_list("message__thread_id").annotate(n=Count("pk")).order_by())


def _excerpt(message: dict) -> str:
    """A progress report or delay notice reads as what it is (its comment follows), others as their text."""
    kind = message["kind"]
    if kind in Message.DEAL_UPDATE_KINDS and message["next_date"]:
        from anshin.messaging.services import message_headline

        headline = message_headline(Message(kind=kind, progress_percent=message["progress_percent"],
                                            next_date=message["next_date"], late_item=message["late_item"] or ""))
        return f"{headline} {message['excerpt'] or ''}".strip()[:80]
    return message["excerpt"] or ""


def thread_get(*, thread_id: int, user) -> Thread:
    """The thread (404 unless `user` is a member or an operator) with its members and the deal it belongs to.
    The deal — an application and its job, a contract or an order, only one of them set — is read on its own:
    as LEFT JOINs beside the party check they took PostgreSQL longer to plan than to run (0.7–2 ms, on every
    view and every 4-second poll)."""
    return get_for_party(
        Thread.objects.select_related("last_human_message").prefetch_related(
            Prefetch("application", queryset=Application.objects.select_related("job")), "contract", "order",
            Prefetch("members", queryset=ThreadMember.objects.select_related("user__presence")),
        ),
        user, pk=thread_id,
    )


def thread_of_party(*, thread_id: int, user) -> Thread:
    """The thread alone, if `user` is a member (or an operator): for writing to it (the service locks and reads
    what it needs), where `thread_get`'s joins and members are not needed."""
    return get_for_party(Thread.objects.all(), user, pk=thread_id)


def thread_messages(*, thread: Thread, limit: int = 200, after_id: int | None = None,
                    before: Message | None = None) -> list[Message]:
    """The latest `limit` messages in time order (after `after_id`, or older than `before`), with receipts and
    attachments, in three queries."""
    qs = (
        Message.objects.filter(thread=thread)
        .select_related("sender")
        .prefetch_related(Prefetch("receipts", queryset=Receipt.objects.all(), to_attr="prefetched_receipts"),
                          Prefetch("attachments", to_attr="prefetched_files"))
    )
    if after_id:
        qs = qs.filter(id__gt=after_id)
    if before is not None:  # the page's order is (created_at, id): older means before both
        qs = qs.filter(Q(created_at__lt=before.created_at) | Q(created_at=before.created_at, id__lt=before.pk))
    return list(reversed(qs.order_by("-created_at", "-id")[:limit]))


def thread_page(*, thread: Thread, before: Message | None = None) -> tuple[list[Message], bool]:
    """One page of the thread: the newest `THREAD_PAGE_MESSAGES` (older than `before`, when given), and
    whether older ones remain (one row more is fetched to know)."""
    messages = thread_messages(thread=thread, limit=rules.THREAD_PAGE_MESSAGES + 1, before=before)
    return messages[-rules.THREAD_PAGE_MESSAGES:], len(messages) > rules.THREAD_PAGE_MESSAGES


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
    read = bool(mine and any(r.user_id == other.pk and r.read_at for r in mine[-1].receipt_rows))
    not_since = bool(mine and not read and (last_seen(other) is None or last_seen(other) < mine[-1].created_at))
    return {"user": other, "last_seen": seen, "hidden": other.hide_last_access,
            "not_logged_in_since_my_last": not_since, "my_last_message_id": mine[-1].pk if mine else None}


def deal_updates(thread: Thread | None) -> list[Message]:
    """Progress reports and delay notices of a contract's or order's thread, oldest first, for the deal
    page's timeline (one query). Each has `headline` (one line: % and next date, or what is late and the
    new date) besides `body` (the comment or reason), `progress_percent`, `next_date` and `late_item`."""
    if thread is None:
        return []
    from anshin.messaging.services import message_headline

    updates = list(
        Message.objects.filter(thread=thread, kind__in=Message.DEAL_UPDATE_KINDS)
        .select_related("sender").order_by("created_at", "id")
    )
    for m in updates:
        m.headline = message_headline(m)
    return updates


def latest_progress(updates: list[Message]) -> Message | None:
    """The latest progress report among `deal_updates(...)` (for a progress bar at the top of a deal page)."""
    return next((m for m in reversed(updates) if m.kind == Message.Kind.PROGRESS), None)


def _when(moment) -> str:
    local = timezone.localtime(moment)
    return f"{local.month}/{local.day} {local:%H:%M}"


def nudge_refusal(*, user, last_message: Message | None, last_nudge: Nudge | None, now: datetime) -> str:
    """Why `user` may not nudge now ("" when they may). Shared by the service and the thread page."""
    if last_message is None or last_message.sender_id != user.pk:
        return "相手からの返信を待っているときに催促できます。"
    hours = int(rules.NUDGE_AFTER.total_seconds() // 3600)
    if now - last_message.created_at < rules.NUDGE_AFTER:
        return (f"最後のメッセージから{hours}時間経つと催促できます"
                f"（{_when(last_message.created_at + rules.NUDGE_AFTER)}から）。")
    if last_nudge is not None and now - last_nudge.created_at < rules.NUDGE_EVERY:
        return f"催促は1日1回までです（次は{_when(last_nudge.created_at + rules.NUDGE_EVERY)}から）。"
    return ""


@dataclass
class NudgeStatus:
    show: bool  # the user is the waiting side: show the button or why it is not available yet
    allowed: bool
    reason: str
    open_nudge: Nudge | None  # my latest nudge not answered yet


def nudge_status(*, thread: Thread, user, now: datetime) -> NudgeStatus:
    """For the thread page and API: may `user` nudge now, and if not, why. One small query
    (`thread.last_human_message` and the members come with `thread_get`)."""
    last = thread.last_human_message
    members = {m.user_id for m in thread.members.all()}
    if user.pk not in members or len(members) < 2:
        return NudgeStatus(show=False, allowed=False, reason="", open_nudge=None)
    # read whether or not I am waiting, so the page costs the same whoever spoke last
    last_nudge = Nudge.objects.filter(thread=thread, sender=user).order_by("-created_at").first()
    if not (last and last.sender_id == user.pk):
        return NudgeStatus(show=False, allowed=False, reason="", open_nudge=None)
    reason = nudge_refusal(user=user, last_message=last, last_nudge=last_nudge, now=now)
    open_nudge = last_nudge if last_nudge and not last_nudge.replied_at else None
    return NudgeStatus(show=True, allowed=not reason, reason=reason, open_nudge=open_nudge)


# --- contact guard and サービス外連絡申請 on the thread page --------------------------------------------------


def thread_permits(*, thread: Thread) -> list:
    """The thread's サービス外連絡申請, newest first, with the requester (one query). Never show `internal_note`
    or `decided_by` to the parties: the decision reason is internal."""
    from anshin.trust.models import ContactPermit

    return list(ContactPermit.objects.filter(thread=thread).select_related("requested_by")
                .order_by("-created_at", "-id"))


@dataclass
class Segment:
    text: str
    kind: str = ""  # the contact kind of a flagged part ("" for the text around it)
    label: str = ""


def held_segments(text: str, spans) -> list[Segment]:
    """The held text cut at the flagged parts, for the template to escape each piece and <mark> the flagged
    ones (never HTML assembled from the user's text)."""
    from anshin.trust.holds import KIND_LABELS

    out, last = [], 0
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if span.start < last:
            continue  # overlapping spans: the first one wins
        if span.start > last:
            out.append(Segment(text[last:span.start]))
        out.append(Segment(text[span.start:span.end], span.kind, KIND_LABELS.get(span.kind, span.kind)))
        last = span.end
    if last < len(text):
        out.append(Segment(text[last:]))
    return out

