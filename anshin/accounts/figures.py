"""Profile figures (PRODUCT.md §4, §5): what a person is like to work with, computed from the record.

`figures_for(user_ids)` computes the figures of many people at once in a fixed number of queries (whatever
the number of people, threads or deals), so an applicant list or a job page can show them next to each
name; `figures_of(user)` is the same for one person, `recent_reviews(user)` the newest public comments.
Each figure's definition is in `DEFINITIONS` (shown in the tooltip next to it on the pages).

Definitions (the same words as on the pages):

- 応答率 (response rate): of the threads in which someone else wrote the first message (not a system
  message, not 事務局 looking in) during the last `rules.FIGURES_WINDOW`, the share in which the person
  posted within `rules.RESPONSE_WITHIN`. Threads whose first writer the person blocked are left out, and so
  are first messages still younger than `RESPONSE_WITHIN` that have no answer yet (there is still time).
  No such thread: no rate ("—", never 0%).
- 返信時間の中央値 (median reply time): over the same window, each time the other side wrote and the person
  wrote next in that thread, the time from the other side's first message still unanswered to the person's
  message; the median of those delays (and their histogram). Replies after more than 24 hours count here.
- 完了した取引 (completed deals): contracts completed (検収合格) and orders completed, as worker and as client.
- 評価 (rating): the mean of the stars of the public reviews (a review's stars = the mean of its five axes;
  reviews count once both sides wrote or the review window closed), their number, and the distribution by
  stars rounded half up (★4.4 → ★4, ★4.6 → ★5).
- For clients (posted a job, made a contract or bought a service):
  - 仮払い率: of the contracts the worker accepted whose funding is decided (no longer 仮払い待ち), the share
    the client funded (so before the worker started).
  - 検収にかかる時間の中央値: from the last delivery to 検収合格 (by the client or みなし検収), contracts.
  - みなし検収: contracts accepted by the clock after the client's silence + orders approved automatically.
  - 途中終了: the client's contracts that ended early (state 途中終了).
  - トラブル相談: the client's contracts and orders that went to トラブル相談 (by either side).
"""

from __future__ import annotations

import statistics
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models import ExpressionWrapper as EW

from anshin import rules
from anshin.core import clock

# Reply-time histogram buckets: (upper bound or None, label).
REPLY_BUCKETS = (
    (timedelta(hours=1), "1時間未満"),
    (timedelta(hours=3), "1〜3時間"),
    (timedelta(hours=12), "3〜12時間"),
    (timedelta(hours=24), "12〜24時間"),
    (timedelta(days=3), "1〜3日"),
    (None, "3日以上"),
)
RECENT_REVIEWS = 5

DEFINITIONS = {
    "response_rate": (
        "過去90日に相手から最初のメッセージが届いたやりとりのうち、24時間以内に返信した割合です。"
        "システムメッセージと事務局のメッセージ、ブロックした相手からのメッセージは除きます。"
        "届いてから24時間たっていない未返信のものは数えません。"
    ),
    "reply_time": (
        "過去90日に、相手がメッセージを送ってから本人が次に返信するまでの時間（相手の未返信のメッセージの"
        "うち最初のものから数えます）の中央値です。平均ではなく中央値なので、まれな長い待ちに左右されません。"
        "24時間を過ぎた返信も含みます。"
    ),
    "completed": "検収合格で完了した契約と、完了した注文の件数です（受注者・発注者どちらの立場も含みます）。",
    "rating": (
        "公開された評価（双方が評価を送ったか、評価期間が終わったもの）の平均です。1件の評価の星は"
        "5項目（スキル・クオリティ・スケジュール・コミュニケーション・パートナーシップ）の平均で、"
        "分布は四捨五入した星の数で数えます。"
    ),
    "funding_rate": (
        "受注者がオファーを承諾した契約のうち、仮払い待ちを終えたものについて、発注者が仮払いした割合です"
        "（仮払いは作業開始の前に行われます）。"
    ),
    "inspection_time": "契約で、最後の納品から検収合格（発注者による検収またはみなし検収）までの時間の中央値です。",
    "deemed": (
        "発注者が期限内に検収しなかったため自動で合格になった契約（みなし検収）と、"
        "自動で承諾された注文の件数です。"
    ),
    "terminations": "発注者としての契約のうち、途中終了となった件数です。",
    "disputes": (
        "発注者としての契約と注文のうち、トラブル相談（事務局への相談）になった件数です"
        "（どちらが相談したかを問いません）。"
    ),
}


@dataclass
class Durations:
    """Delays (replies, inspections) as the pages show them: how many, the median, the count per REPLY_BUCKETS.
    Snapshots keep this summary rather than every delay: a busy client's history holds tens of thousands, and
    reading them back on each profile view made the page grow with the data."""

    count: int = 0
    median: timedelta | None = None
    buckets: list[int] = field(default_factory=lambda: [0] * len(REPLY_BUCKETS))

    @classmethod
    def of(cls, delays: list[timedelta]) -> Durations:
        buckets = [0] * len(REPLY_BUCKETS)
        for delay in delays:
            buckets[bucket_of(delay)] += 1
        return cls(len(delays), statistics.median(delays) if delays else None, buckets)

    def dump(self) -> dict:
        return {"count": self.count, "buckets": self.buckets,
                "median": None if self.median is None else self.median.total_seconds()}

    @classmethod
    def load(cls, data: dict) -> Durations:
        median = data["median"]
        return cls(data["count"], None if median is None else timedelta(seconds=median), list(data["buckets"]))


@dataclass
class Figures:
    user_id: int
    response_total: int = 0  # first messages from new counterparts (see the module docstring)
    response_answered: int = 0  # … answered within RESPONSE_WITHIN
    replies: Durations = field(default_factory=Durations)
    completed_as_worker: int = 0
    completed_as_client: int = 0
    rating_count: int = 0
    rating_points: int = 0  # sum over the reviews of the five axes (so the mean of stars = points / 5 / count)
    rating_distribution: dict[int, int] = field(default_factory=lambda: {n: 0 for n in range(1, 6)})
    is_client: bool = False
    funding_decided: int = 0
    funding_funded: int = 0
    inspections: Durations = field(default_factory=Durations)
    pending: bool = False  # not computed yet (a list page never computes): the clock does it shortly
    deemed: int = 0
    terminations: int = 0
    disputes: int = 0

    @property
    def response_rate(self) -> int | None:
        """Percent, rounded; None without data."""
        return round(100 * self.response_answered / self.response_total) if self.response_total else None

    @property
    def reply_median(self) -> timedelta | None:
        return self.replies.median

    @property
    def reply_count(self) -> int:
        return self.replies.count

    @property
    def reply_histogram(self) -> list[tuple[str, int]]:
        return [(label, n) for (_, label), n in zip(REPLY_BUCKETS, self.replies.buckets, strict=True)]

    @property
    def completed(self) -> int:
        return self.completed_as_worker + self.completed_as_client

    @property
    def rating_average(self) -> float | None:
        """Mean stars to one decimal, None without public reviews."""
        if not self.rating_count:
            return None
        return round(self.rating_points / 5 / self.rating_count + 1e-9, 1)

    @property
    def funding_rate(self) -> int | None:
        return round(100 * self.funding_funded / self.funding_decided) if self.funding_decided else None

    @property
    def inspection_median(self) -> timedelta | None:
        return self.inspections.median

    @property
    def inspection_count(self) -> int:
        return self.inspections.count

    def as_dict(self) -> dict:
        """Plain values for the API (durations in seconds)."""

        def seconds(value):
            return None if value is None else int(value.total_seconds())

        out = {
            "response_rate": self.response_rate,
            "response_count": self.response_total,
            "reply_median_seconds": seconds(self.reply_median),
            "reply_count": self.reply_count,
            "reply_histogram": [{"label": label, "count": n} for label, n in self.reply_histogram],
            "completed": self.completed,
            "completed_as_worker": self.completed_as_worker,
            "completed_as_client": self.completed_as_client,
            "rating_average": self.rating_average,
            "rating_count": self.rating_count,
            "rating_distribution": {str(n): self.rating_distribution[n] for n in range(1, 6)},
            "is_client": self.is_client,
            "client": None,
        }
        if self.is_client:
            out["client"] = {
                "funding_rate": self.funding_rate,
                "funding_decided": self.funding_decided,
                "funding_funded": self.funding_funded,
                "inspection_median_seconds": seconds(self.inspection_median),
                "inspection_count": self.inspection_count,
                "deemed_acceptances": self.deemed,
                "terminations": self.terminations,
                "disputes": self.disputes,
            }
        return out


def bucket_of(delay: timedelta) -> int:
    for index, (upper, _) in enumerate(REPLY_BUCKETS):
        if upper is None or delay < upper:
            return index
    return len(REPLY_BUCKETS) - 1


def duration_label(value: timedelta | None) -> str:
    """「45分」「3時間20分」「2日5時間」, or 「—」."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes}分"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}時間{minutes}分" if minutes else f"{hours}時間"
    days, hours = divmod(hours, 24)
    return f"{days}日{hours}時間" if hours else f"{days}日"


# --- the queries ------------------------------------------------------------------------------------------


def _before(prefix=""):
    """Messages strictly before the outer message (created_at, then id for equal times)."""
    at, pk = OuterRef(f"{prefix}created_at"), OuterRef(f"{prefix}id")
    return Q(created_at__lt=at) | Q(created_at=at, id__lt=pk)


def _human(queryset):
    """Messages written by a member of their thread: no system messages, no operator (事務局) looking in."""
    from anshin.messaging.models import Message, ThreadMember

    return queryset.exclude(kind=Message.Kind.SYSTEM).filter(
        sender__isnull=False,
    ).filter(Exists(ThreadMember.objects.filter(thread=OuterRef("thread"), user=OuterRef("sender"))))


def _responses(ids, figures: dict[int, Figures]) -> None:
    """Response rate: one row per (person, thread) whose first human message came from someone else."""
    from anshin.messaging.models import Message, ThreadMember
    from anshin.trust.models import Block

    now = clock.now()
    since = now - rules.FIGURES_WINDOW
    first = _human(Message.objects.filter(thread=OuterRef("thread"))).order_by("created_at", "id")
    answer = Message.objects.filter(
        thread=OuterRef("thread"), sender=OuterRef("user"),
        created_at__gt=OuterRef("first_at"), created_at__lte=OuterRef("first_at") + rules.RESPONSE_WITHIN,
    )
    rows = (
        ThreadMember.objects.filter(user_id__in=ids)
        .annotate(first_sender=Subquery(first.values("sender")[:1]), first_at=Subquery(first.values("created_at")[:1]))
        .filter(first_at__gte=since)
        .exclude(first_sender=F("user"))
        .exclude(Exists(Block.objects.filter(blocker=OuterRef("user"), blocked=OuterRef("first_sender"))))
        .annotate(answered=Exists(answer))
        .filter(Q(answered=True) | Q(first_at__lte=now - rules.RESPONSE_WITHIN))
        .values_list("user_id", "answered")
    )
    for user_id, answered in rows:
        figures[user_id].response_total += 1
        figures[user_id].response_answered += int(bool(answered))


def _replies(ids, delays: dict[int, list[timedelta]]) -> None:
    """Reply times: for each message of the person, the first message of the other side since the person's
    previous message in that thread (if any, and within the window)."""
    from anshin.messaging.models import Message
    from anshin.trust.models import Block

    since = clock.now() - rules.FIGURES_WINDOW
    # inside `waiting`: a message of the person after the other side's message and before the reply
    own_between = Message.objects.filter(thread=OuterRef("thread"), sender=OuterRef(OuterRef("sender"))).filter(
        Q(created_at__gt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), id__gt=OuterRef("id"))
    ).filter(
        Q(created_at__lt=OuterRef(OuterRef("created_at")))
        | Q(created_at=OuterRef(OuterRef("created_at")), id__lt=OuterRef(OuterRef("id")))
    )
    waiting = (
        _human(Message.objects.filter(thread=OuterRef("thread")))
        .exclude(sender=OuterRef("sender"))
        .filter(_before())
        .exclude(Exists(own_between))
        .exclude(Exists(Block.objects.filter(blocker=OuterRef(OuterRef("sender")), blocked=OuterRef("sender"))))
        .order_by("created_at", "id")
    )
    rows = (
        _human(Message.objects.filter(sender_id__in=ids, created_at__gte=since))
        .annotate(waiting_since=Subquery(waiting.values("created_at")[:1]))
        .filter(waiting_since__gte=since)
        .values_list("sender_id", "created_at", "waiting_since")
    )
    for user_id, replied_at, waiting_since in rows:
        delays[user_id].append(replied_at - waiting_since)


def _event(model, *actions):
    """The deal (outer row) has an audit event with one of `actions`."""
    from anshin.core.models import AuditEvent

    return Exists(AuditEvent.objects.filter(subject_type=ContentType.objects.get_for_model(model),
                                            subject_id=OuterRef("pk"), action__in=actions))


def _deals(ids, figures: dict[int, Figures]) -> None:
    from anshin.contracts.models import Contract
    from anshin.jobs.models import Job
    from anshin.orders.models import Order

    accepted_offer = _event(Contract, "accept_offer")
    for row in (
        Contract.objects.filter(client_id__in=ids).values("client_id").order_by()
        .annotate(
            n=Count("id"),
            completed=Count("id", filter=Q(state="accepted")),
            terminated=Count("id", filter=Q(state="terminated")),
            decided=Count("id", filter=Q(accepted_offer) & ~Q(state="awaiting_funding")),
            funded=Count("id", filter=Q(accepted_offer) & ~Q(state="awaiting_funding") & Q(funded_at__isnull=False)),
            deemed=Count("id", filter=Q(_event(Contract, "deem_accept"))),
            disputed=Count("id", filter=Q(_event(Contract, "open_dispute"))),
        )
    ):
        f = figures[row["client_id"]]
        f.is_client = True
        f.completed_as_client += row["completed"]
        f.terminations += row["terminated"]
        f.funding_decided, f.funding_funded = row["decided"], row["funded"]
        f.deemed += row["deemed"]
        f.disputes += row["disputed"]
    for user_id, n in (
        Contract.objects.filter(worker_id__in=ids, state="accepted").values("worker_id").order_by()
        .annotate(n=Count("id")).values_list("worker_id", "n")
    ):
        figures[user_id].completed_as_worker += n
    for row in (
        Order.objects.filter(buyer_id__in=ids).values("buyer_id").order_by()
        .annotate(
            completed=Count("id", filter=Q(state="completed")),
            deemed=Count("id", filter=Q(_event(Order, "auto_approve"))),
            disputed=Count("id", filter=Q(_event(Order, "open_dispute"))),
        )
    ):
        f = figures[row["buyer_id"]]
        f.is_client = True
        f.completed_as_client += row["completed"]
        f.deemed += row["deemed"]
        f.disputes += row["disputed"]
    for user_id, n in (
        Order.objects.filter(seller_id__in=ids, state="completed").values("seller_id").order_by()
        .annotate(n=Count("id")).values_list("seller_id", "n")
    ):
        figures[user_id].completed_as_worker += n
    for user_id in Job.objects.filter(client_id__in=ids).values_list("client_id", flat=True).distinct():
        figures[user_id].is_client = True


def _inspections(ids, times: dict[int, list[timedelta]]) -> None:
    from anshin.contracts.models import Contract, Delivery
    from anshin.core.models import AuditEvent

    done = AuditEvent.objects.filter(
        subject_type=ContentType.objects.get_for_model(Contract), subject_id=OuterRef("pk"),
        action__in=("accept", "deem_accept"),
    ).order_by("-created_at", "-id")
    last_delivery = Delivery.objects.filter(contract=OuterRef("pk")).order_by("-created_at", "-id")
    rows = (
        Contract.objects.filter(client_id__in=ids, state="accepted")
        .annotate(done_at=Subquery(done.values("created_at")[:1]),
                  delivered_at=Subquery(last_delivery.values("created_at")[:1]))
        .filter(done_at__isnull=False, delivered_at__isnull=False)
        .values_list("client_id", "delivered_at", "done_at")
    )
    for user_id, delivered_at, done_at in rows:
        times[user_id].append(max(done_at - delivered_at, timedelta(0)))


def _axes_total():
    from anshin.reviews.models import AXES

    total = F(AXES[0][0])
    for name, _ in AXES[1:]:
        total = total + F(name)
    return total


def public_reviews(queryset=None):
    """Reviews anyone may read: their window is revealed (both sides wrote, or the window closed)."""
    from anshin.reviews.models import Review

    return (queryset if queryset is not None else Review.objects.all()).filter(window__revealed_at__isnull=False)


def _ratings(ids, figures: dict[int, Figures]) -> None:
    from anshin.reviews.models import Review

    total = _axes_total()  # 5..25; stars = total / 5, rounded half up = (2 * total + 5) // 10 (never a tie)
    rows = (
        public_reviews(Review.objects.filter(subject_id__in=ids))
        .annotate(stars=EW((total * 2 + 5) / 10, output_field=IntegerField()))
        .values("subject_id", "stars").order_by()
        .annotate(n=Count("id"), points=Sum(total))
    )
    for row in rows:
        f = figures[row["subject_id"]]
        f.rating_count += row["n"]
        f.rating_points += int(row["points"])
        f.rating_distribution[int(row["stars"])] += row["n"]


def compute_figures(user_ids) -> dict[int, Figures]:
    """The figures of each user id computed from the record, in a fixed number of queries (9, plus the content
    types until cached) whatever the number of users — but each query reads the people's whole history."""
    ids = sorted({int(pk) for pk in user_ids})
    figures = {pk: Figures(user_id=pk) for pk in ids}
    if not ids:
        return figures
    replies: dict[int, list[timedelta]] = {pk: [] for pk in ids}
    inspections: dict[int, list[timedelta]] = {pk: [] for pk in ids}
    _responses(ids, figures)
    _replies(ids, replies)
    _deals(ids, figures)
    _inspections(ids, inspections)
    _ratings(ids, figures)
    for pk, f in figures.items():
        f.replies, f.inspections = Durations.of(replies[pk]), Durations.of(inspections[pk])
    return figures


# --- snapshots: what the pages read --------------------------------------------------------------------------

DURATIONS = ("replies", "inspections")


def _dump(f: Figures) -> dict:
    data = {k: v for k, v in f.__dict__.items() if k not in ("user_id", "pending")}
    for name in DURATIONS:
        data[name] = data[name].dump()
    data["rating_distribution"] = {str(n): c for n, c in f.rating_distribution.items()}
    return data


def _load(user_id: int, data: dict) -> Figures:
    data = dict(data)
    for name in DURATIONS:
        data[name] = Durations.load(data[name])
    data["rating_distribution"] = {int(n): c for n, c in data["rating_distribution"].items()}
    return Figures(user_id=user_id, **data)


def _store(figures: dict[int, Figures]) -> None:
    from anshin.accounts.models import FiguresSnapshot

    now = clock.now()
    FiguresSnapshot.objects.bulk_create(
        [FiguresSnapshot(user_id=pk, data=_dump(f), computed_at=now, stale=False) for pk, f in figures.items()],
        update_conflicts=True, unique_fields=["user"], update_fields=["data", "computed_at", "stale"],
    )


def figures_for(user_ids, *, compute: bool = True, fresh: bool = False) -> dict[int, Figures]:
    """The figures of each user id for a page, from their snapshots (one query). A snapshot is served even when
    marked stale or a day old: the clock computes those again within seconds (`figures_refresh_due`), while a
    busy person's figures take seconds to compute — on every view of their profile or their jobs while they are
    active, had the page done it.

    People without a snapshot are computed and stored; `compute=False` (the public job list, the busiest page):
    a `pending` placeholder instead, stored stale so the clock computes it. `fresh=True` (an operator deciding
    about the person): stale snapshots and those older than FIGURES_MAX_AGE are computed too."""
    from anshin.accounts.models import FiguresSnapshot

    ids = sorted({int(pk) for pk in user_ids})
    if not ids:
        return {}
    snapshots = FiguresSnapshot.objects.filter(user_id__in=ids)
    if fresh:
        snapshots = snapshots.filter(stale=False, computed_at__gte=clock.now() - rules.FIGURES_MAX_AGE)
    stored = dict(snapshots.values_list("user_id", "data"))
    if not compute:
        figures = {pk: _load(pk, data) for pk, data in stored.items()}
        waiting = {pk: Figures(user_id=pk, pending=True) for pk in ids if pk not in stored}
        FiguresSnapshot.objects.bulk_create(
            [FiguresSnapshot(user_id=pk, data=_dump(f) | {"pending": True}, computed_at=clock.now(), stale=True)
             for pk, f in waiting.items()], ignore_conflicts=True)
        return figures | waiting
    figures = {pk: _load(pk, data) for pk, data in stored.items() if not data.get("pending")}
    missing = [pk for pk in ids if pk not in figures]
    if missing:
        computed = compute_figures(missing)
        _store(computed)
        figures.update(computed)
    return figures


def figures_of(user, *, fresh: bool = False) -> Figures:
    return figures_for([user.pk], fresh=fresh)[user.pk]


def figures_touch(user_ids) -> None:
    """Something that counts in these people's figures happened: their snapshots are computed again."""
    from anshin.accounts.models import FiguresSnapshot

    ids = {pk for pk in user_ids if pk}
    collected = _touched.get()
    if collected is not None:
        collected |= ids
    elif ids:
        FiguresSnapshot.objects.filter(user_id__in=ids, stale=False).update(stale=True)


_touched: ContextVar[set[int] | None] = ContextVar("figures_touched", default=None)


@contextmanager
def figures_touched_together():
    """The touches made inside, as one UPDATE on leaving (the clock settling a batch of deals: the snapshot rows
    are locked once, late in its transaction, instead of from its first statement on — another sweeper whose
    batch shares a person waits for that much less)."""
    outer = _touched.get()
    collected: set[int] = set()
    token = _touched.set(collected)
    try:
        yield
    finally:
        _touched.reset(token)
    if outer is not None:
        outer |= collected
    else:
        figures_touch(collected)


PARTIES = ("client_id", "worker_id", "buyer_id", "seller_id")  # the people of a job, deal or review window


def figures_touch_parties(subject) -> None:
    figures_touch(getattr(subject, name, None) for name in PARTIES)


def figures_refresh_due(batch: int = rules.FIGURES_REFRESH_BATCH) -> int:
    """For the clock: compute again the snapshots marked stale (first: pending placeholders among them), then
    those older than FIGURES_REFRESH_AFTER, oldest first, so the pages rarely compute on a request. Returns how
    many were refreshed."""
    from anshin.accounts.models import FiguresSnapshot

    due = list(
        FiguresSnapshot.objects.filter(Q(stale=True) | Q(computed_at__lt=clock.now() - rules.FIGURES_REFRESH_AFTER))
        .order_by("-stale", "computed_at").values_list("user_id", flat=True)[:batch]
    )
    if due:
        _store(compute_figures(due))
    return len(due)


def recent_reviews(user, limit: int = RECENT_REVIEWS) -> list:
    """The newest public reviews of `user` with their reply (one query)."""
    from anshin.reviews.models import Review

    return list(public_reviews(Review.objects.filter(subject=user)).select_related("author")
                .order_by("-submitted_at", "-id")[:limit])

