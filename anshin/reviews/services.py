"""Double-blind reviews (PRODUCT.md §5). When a deal ends with work done — a contract accepted or terminated,
an order completed or cancelled after the seller had accepted it — a review window opens for both sides for
REVIEW_WINDOW. Each side may write one review (five axes ★1–5 and a comment). Nobody but its author sees a
review until the window is revealed: at once when both have written, or by the timer when the window closes.
The subject may then reply once, publicly.

Every function here is one transaction on the locked window row; the timer (`tick`) and a user acting at the
same instant can never reveal a window twice. Notifications never carry a review's stars or comment.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from anshin import rules
from anshin.core import audit, bulk, clock, timers
from anshin.core.errors import DomainError, NotFound
from anshin.core.flows import Actor
from anshin.notifications.services import notice, notify
from anshin.reviews.models import AXES, Review, ReviewWindow
from anshin.trust.holds import text_guard

CONTRACT_STATES = ("accepted", "terminated")  # a contract that ended with work done (or paid for in part)


def local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y/%m/%d %H:%M")


def _next_reminder(closes_at: datetime, *, after: datetime) -> datetime | None:
    """The earliest reminder strictly later than `after` (REVIEW_REMINDERS are offsets before closes_at)."""
    return next((t for t in sorted(closes_at - before for before in rules.REVIEW_REMINDERS) if t > after), None)


def _window_times(now: datetime) -> dict:
    """A window opening at `now`: when it closes (REVIEW_WINDOW later, the reveal timer) and its first reminder."""
    closes_at = now + rules.REVIEW_WINDOW
    return {"opened_at": now, "closes_at": closes_at, "due_at": closes_at,
            "remind_at": _next_reminder(closes_at, after=now)}


def _window_qs():
    return ReviewWindow.objects.select_related("client", "worker", "contract", "order")


def _lock(window_id: int) -> ReviewWindow | None:
    return _window_qs().select_for_update(of=("self",)).filter(pk=window_id).first()


# --- opening --------------------------------------------------------------------------------------------


def deal_ended_with_work(*, contract=None, order=None) -> bool:
    """Reviews follow completion or termination (§5): a contract accepted or terminated (termination only
    happens once funded); an order completed, or cancelled after the seller had accepted it. An order
    cancelled before the work started (48 h without a response, a cancellation agreed before acceptance)
    gets no reviews."""
    if contract is not None:
        return contract.state in CONTRACT_STATES
    return order.state == "completed" or (order.state == "cancelled" and order.accepted_at is not None)


def review_window_open(*, contract=None, order=None) -> ReviewWindow | None:
    """Open the review window of a deal that has just ended (called by the contract and order services,
    inside their transaction, after every move; the deal row is locked). Idempotent: one window per deal,
    whatever moves follow. Returns the window, or None when the deal's state opens none."""
    if (contract is None) == (order is None):
        raise ValueError("review_window_open: pass exactly one of contract or order")
    if not deal_ended_with_work(contract=contract, order=order):
        return None
    if contract is not None:
        lookup, client, worker, title = {"contract": contract}, contract.client, contract.worker, contract.title
    else:
        lookup, client, worker, title = {"order": order}, order.buyer, order.seller, order.title
    existing = ReviewWindow.objects.filter(**lookup).first()
    if existing is not None:
        return existing
    window, created = ReviewWindow.objects.get_or_create(
        **lookup, defaults={"client": client, "worker": worker, **_window_times(clock.now())})
    if not created:
        return window
    audit.record(**_opened_event(window, contract or order))
    for one in _opened_notices(window, title):
        notify(**one)
    return window


def review_windows_open_for_contracts(contracts: list) -> list[dict]:
    """`review_window_open(contract=…)` for many contracts that have just ended (the clock settling a batch;
    the contracts are locked), in a fixed number of queries. Returns the notices asking both sides for their
    review, for the caller to send with its own in one `notify_many`."""
    contracts = [c for c in contracts if deal_ended_with_work(contract=c)]
    opened = set(ReviewWindow.objects.filter(contract_id__in=[c.pk for c in contracts])
                 .values_list("contract_id", flat=True))
    contracts = [c for c in contracts if c.pk not in opened]
    times = _window_times(clock.now())
    rows = [dict(contract=c, client=c.client, worker=c.worker, **times) for c in contracts]
    windows = [ReviewWindow(pk=pk, **row) for pk, row in zip(bulk.insert(ReviewWindow, rows, ids=True), rows,
                                                               strict=True)]
    audit.record_many([_opened_event(window, c) for window, c in zip(windows, contracts, strict=True)])
    return [one for window, c in zip(windows, contracts, strict=True) for one in _opened_notices(window, c.title)]


def _opened_event(window: ReviewWindow, deal) -> dict:
    return dict(
        subject=window,
        action="review_window_open",
        actor_role=Actor.SYSTEM,
        payload={"deal": "contract" if window.contract_id else "order", "deal_id": deal.pk,
                 "closes_at": window.closes_at.isoformat()},
    )


def _opened_notices(window: ReviewWindow, title: str) -> list[dict]:
    """Both sides are asked for their review, as `notify` arguments."""
    return [
        notice(
            user=user,
            kind="review.opened",
            title=f"「{title}」の評価をお願いします",
            body=(
                f"取引が終了しました。{local(window.closes_at)}までに、相手の評価（5項目・5段階）とコメントを投稿して"
                "ください。評価は双方が投稿するか期限を過ぎるまで、相手には公開されません。"
            ),
            url=window.url,
            dedupe_key=f"review:{window.pk}:opened:{user.pk}",
        )
        for user in (window.client, window.worker)
    ]


# --- reveal, and the timer ------------------------------------------------------------------------------


def _reveal(window: ReviewWindow, *, reason: str) -> int:
    """On a locked, unrevealed window: make what was written visible, stop its timers, tell both sides
    (only when there is something to see). `reason`: "both_submitted" | "window_closed". Returns how many
    reviews became visible."""
    window.revealed_at = clock.now()
    window.due_at = None
    window.remind_at = None
    window.save(update_fields=["revealed_at", "due_at", "remind_at"])
    count = Review.objects.filter(window=window).count()
    audit.record(subject=window, action="review_reveal", actor_role=Actor.SYSTEM,
                 payload={"reason": reason, "reviews": count})
    if not count:
        return 0  # nobody wrote anything: the window simply closes
    if reason == "both_submitted":
        body = "双方の評価が投稿されたため、評価が公開されました。評価ページで相手からの評価を確認できます。"
    else:
        body = "評価の投稿期間が終了したため、投稿された評価が公開されました。評価ページで確認できます。"
    for user in (window.client, window.worker):
        notify(
            user=user,
            kind="review.revealed",
            title=f"「{window.deal_title}」の評価が公開されました",
            body=body,
            url=window.url,
            dedupe_key=f"review:{window.pk}:revealed:{user.pk}",
        )
    return count


def review_window_settle_due(window_id: int) -> str | None:
    """`tick`, readers and every action first: a window whose time is up is revealed. The row is locked
    (SKIP LOCKED on PostgreSQL: another sweeper or a submission holds it) and re-checked, so never twice."""
    with transaction.atomic():
        window = (
            timers.lock_for_update(_window_qs())
            .filter(pk=window_id, revealed_at__isnull=True, due_at__lte=clock.now())
            .first()
        )
        if window is None:
            return None
        count = _reveal(window, reason="window_closed")
    # A window nobody wrote in closes without anything to show or tell anyone: nothing to report.
    return f"review_window {window_id}: revealed" if count else None


def review_window_remind(window_id: int) -> str | None:
    """REVIEW_REMINDERS before the window closes, to whoever has not written yet. Only the most urgent
    reminder already due goes out (a stopped sweeper never sends stale ones late); then the next is armed."""
    with transaction.atomic():
        window = (
            timers.lock_for_update(_window_qs())
            .filter(pk=window_id, remind_at__lte=clock.now())
            .first()
        )
        if window is None:
            return None
        now = clock.now()
        passed = [window.closes_at - before for before in rules.REVIEW_REMINDERS if window.closes_at - before <= now]
        if window.revealed_at is not None or window.closes_at <= now or not passed:
            # nothing to remind of (the timer itself reveals the window), or the reminders were re-planned
            ended = window.revealed_at is not None or window.closes_at <= now
            window.remind_at = None if ended else _next_reminder(window.closes_at, after=now)
            window.save(update_fields=["remind_at"])
            return None
        days = round((window.closes_at - max(passed)).total_seconds() / 86400)
        written = set(Review.objects.filter(window=window).values_list("author_id", flat=True))
        for user in (window.client, window.worker):
            if user.pk in written:
                continue
            notify(
                user=user,
                kind="review.reminder",
                title=f"「{window.deal_title}」の評価の投稿期限まであと{days}日です",
                body=(f"{local(window.closes_at)}までに評価を投稿してください。期限を過ぎると投稿できなくなり、"
                      "相手が投稿した評価は公開されます。"),
                url=window.url,
                dedupe_key=f"review:{window.pk}:remind:{days}:{user.pk}",
            )
        window.remind_at = _next_reminder(window.closes_at, after=now)
        window.save(update_fields=["remind_at"])
    return f"review_window {window_id}: reminder {days}d"


timers.register(ReviewWindow, settle=review_window_settle_due, remind=review_window_remind)


# --- writing --------------------------------------------------------------------------------------------


def _clean_ratings(ratings) -> dict[str, int]:
    if not isinstance(ratings, dict):
        raise DomainError("invalid_rating", "評価（5項目）の形式が正しくありません。")
    unknown = set(ratings) - {field for field, _ in AXES}
    if unknown:
        raise DomainError("invalid_rating", f"評価の項目に不明なものがあります: {'、'.join(sorted(map(str, unknown)))}")
    clean = {}
    for field, label in AXES:
        value = ratings.get(field)
        if value is None or value == "":
            raise DomainError("invalid_rating", f"{label}を★1〜5で選んでください。")
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            raise DomainError("invalid_rating", f"{label}は★1〜5（1〜5の整数）で選んでください。")
        clean[field] = value
    return clean


def _clean_text(value, label: str) -> str:
    if value is not None and not isinstance(value, str):
        raise DomainError("invalid", f"{label}は文字列で入力してください。")
    value = (value or "").strip()
    if not value:
        raise DomainError("empty", f"{label}を入力してください。")
    limit = rules.REVIEW_COMMENT_MAX_LENGTH
    if len(value) > limit:
        raise DomainError("too_long", f"{label}は{limit:,}文字以内で入力してください。")
    return value


def _party_window(window_id: int, user) -> ReviewWindow:
    """Unlocked read: the window, for one of its two parties only (anyone else, operators included: 404)."""
    window = _window_qs().filter(pk=window_id).first() if user.is_authenticated else None
    if window is None or not window.role_of(user):
        raise NotFound()
    return window


def review_submit(*, window_id: int, user, ratings: dict, comment: str) -> Review:
    """One side writes its review: once, before the window closes. The other side is told only that a review
    was written. If both have now written, the window is revealed at once."""
    _party_window(window_id, user)  # non-parties get 404 before learning anything else
    clean = _clean_ratings(ratings)
    comment = _clean_text(comment, "コメント")
    # trust: reviews are public texts; checked outside the transaction, so the hold record is kept
    text_guard(user=user, surface="review", fields={"コメント": comment})
    review_window_settle_due(window_id)  # a deadline that has passed wins: committed on its own first
    with transaction.atomic():
        window = _lock(window_id)
        role = window.role_of(user) if window is not None else ""
        if not role:
            raise NotFound()
        if Review.objects.filter(window=window, author=user).exists():
            raise DomainError("already_submitted", "この取引の評価は投稿済みです。評価は1回だけ投稿できます。",
                              status=409)
        now = clock.now()
        if window.revealed_at is not None or now >= window.closes_at:
            # (the deadline fell between the settlement above and this lock: refused; the sweeper reveals it)
            raise DomainError("review_closed", f"評価の投稿期限（{local(window.closes_at)}）を過ぎたため、"
                              "投稿できません。", status=409)
        other = window.counterpart(user)
        review = Review.objects.create(
            window=window, author=user, subject=other, author_role=role, comment=comment, submitted_at=now, **clean
        )
        audit.record(subject=window, action="review_submit", actor=user, actor_role=role,
                     payload={"review": review.pk})
        if Review.objects.filter(window=window).count() >= 2:
            _reveal(window, reason="both_submitted")
        else:
            notify(
                user=other,
                kind="review.submitted",
                title=f"「{window.deal_title}」相手が評価を投稿しました",
                body=(f"{local(window.closes_at)}までにあなたも評価を投稿してください。評価は双方が投稿するか、"
                      "期限を過ぎると公開されます。"),
                url=window.url,
                dedupe_key=f"review:{window.pk}:submitted:{other.pk}",
            )
    return review


def review_reply(*, review_id: int, user, text: str) -> Review:
    """The subject of a review answers it once, publicly, after the window was revealed."""
    window_id = Review.objects.filter(pk=review_id).values_list("window_id", flat=True).first()
    if window_id is None:
        raise NotFound()
    window = _party_window(window_id, user)
    review_window_settle_due(window_id)  # a window whose time is up is revealed first
    review = Review.objects.filter(pk=review_id).first()
    if review.author_id != user.pk and not ReviewWindow.objects.filter(pk=window_id,
                                                                       revealed_at__isnull=False).exists():
        raise NotFound()  # the other side's review does not exist for this user before the reveal
    if review.subject_id != user.pk:
        raise DomainError("not_allowed", "返信できるのは、評価を受けた人だけです。", status=403)
    text = _clean_text(text, "返信")
    text_guard(user=user, surface="review", fields={"返信": text})
    with transaction.atomic():
        window = _lock(window.pk)
        review = Review.objects.select_for_update().get(pk=review_id)
        if window.revealed_at is None:
            raise NotFound()
        if review.replied_at is not None:
            raise DomainError("already_replied", "この評価にはすでに返信しています。返信は1回だけです。", status=409)
        review.reply = text
        review.replied_at = clock.now()
        review.save(update_fields=["reply", "replied_at"])
        audit.record(subject=window, action="review_reply", actor=user, actor_role=window.role_of(user),
                     payload={"review": review.pk})
        notify(
            user=review.author,
            kind="review.replied",
            title=f"「{window.deal_title}」あなたの評価に返信がありました",
            body="あなたが投稿した評価に、相手から返信がありました。評価ページで確認できます。",
            url=window.url,
            dedupe_key=f"review:{review.pk}:replied",
        )
    return review
