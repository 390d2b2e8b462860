"""Profile figures against hand-computed fixtures (PRODUCT.md §4, §5). Messages are written with explicit
times so each number can be worked out on paper; deals go through the real services with the clock moved."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anshin.accounts.figures import duration_label, figures_for, figures_of, recent_reviews
from anshin.messaging.models import Message
from anshin.messaging.services import thread_create
from tests import factories

NOW = datetime(2026, 7, 15, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def thread(*members):
    return thread_create(kind="scout", subject="やりとり", members=members)


def say(a_thread, sender, at, kind=Message.Kind.NORMAL, body="こんにちは"):
    return Message.objects.create(thread=a_thread, sender=sender, kind=kind, body=body, created_at=at)


def block(blocker, blocked):
    from anshin.trust.blocks import block_create

    block_create(user=blocker, target_id=blocked.pk)


# --- no data ----------------------------------------------------------------------------------------------

def test_no_data_means_no_figures_not_zero(frozen, worker):
    f = figures_of(worker)
    assert f.response_rate is None and f.response_total == 0
    assert f.reply_median is None and duration_label(f.reply_median) == "—"
    assert [n for _, n in f.reply_histogram] == [0, 0, 0, 0, 0, 0]
    assert f.completed == 0
    assert f.rating_average is None and f.rating_count == 0
    assert f.rating_distribution == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
    assert f.is_client is False and f.funding_rate is None and f.inspection_median is None
    assert f.as_dict()["client"] is None


# --- response rate and reply times ------------------------------------------------------------------------

def test_one_unanswered_message_is_a_zero_rate_and_no_reply_time(frozen, worker, make_user):
    a = make_user("a")
    say(thread(worker, a), a, NOW - 2 * D)
    f = figures_of(worker)
    assert (f.response_answered, f.response_total, f.response_rate) == (0, 1, 0)
    assert f.reply_median is None


def test_one_message_answered_in_an_hour(frozen, worker, make_user):
    a = make_user("a")
    t = thread(worker, a)
    say(t, a, NOW - 2 * D)
    say(t, worker, NOW - 2 * D + H)
    f = figures_of(worker)
    assert f.response_rate == 100
    assert (f.reply_count, f.reply_median) == (1, H) and duration_label(f.reply_median) == "1時間"
    other = figures_of(a)  # a wrote first: no first message from a new counterpart for a, and no reply
    assert other.response_rate is None and other.reply_median is None


def test_a_first_message_younger_than_24_hours_without_answer_is_not_counted_yet(frozen, worker, make_user):
    a = make_user("a")
    say(thread(worker, a), a, NOW - 2 * H)
    assert figures_of(worker).response_rate is None


def test_response_rate_and_reply_times_by_hand(frozen, worker, make_user, operator):
    """The worker's threads (times relative to now):

    t1  system −10d−1h (ignored); A −10d, A −10d+1h; worker −10d+2h  → answered; reply 2h (from A's first)
        A −9d; worker −9d+30m                                       → reply 30m
    t2  B −5d; worker −5d+30h                                        → not within 24h; reply 30h
    t3  C −3d (C is blocked by the worker)                           → left out of both figures
    t4  D −100d; worker −100d+1h                                     → older than 90 days: left out
    t5  worker −20d (the worker wrote first); E −20d+1h; worker −20d+5h → not a first message; reply 4h
    t6  F −2h                                                        → under 24h, unanswered: not yet counted
    t7  事務局 −8d (not a member: ignored); G −7d                     → unanswered
    Response rate: t1, t2, t7 → 1 of 3 = 33%. Replies: 30m, 2h, 4h, 30h → median (2h + 4h) / 2 = 3h."""
    a, b, c, d, e, f_, g = (make_user(n) for n in "abcdefg")
    t1 = thread(worker, a)
    say(t1, None, NOW - 10 * D - H, kind=Message.Kind.SYSTEM, body="応募がありました")
    say(t1, a, NOW - 10 * D)
    say(t1, a, NOW - 10 * D + H)
    say(t1, worker, NOW - 10 * D + 2 * H)
    say(t1, a, NOW - 9 * D)
    say(t1, worker, NOW - 9 * D + 30 * timedelta(minutes=1))
    t2 = thread(worker, b)
    say(t2, b, NOW - 5 * D)
    say(t2, worker, NOW - 5 * D + 30 * H)
    t3 = thread(worker, c)
    say(t3, c, NOW - 3 * D)
    block(worker, c)
    t4 = thread(worker, d)
    say(t4, d, NOW - 100 * D)
    say(t4, worker, NOW - 100 * D + H)
    t5 = thread(worker, e)
    say(t5, worker, NOW - 20 * D)
    say(t5, e, NOW - 20 * D + H)
    say(t5, worker, NOW - 20 * D + 5 * H)
    t6 = thread(worker, f_)
    say(t6, f_, NOW - 2 * H)
    t7 = thread(worker, g)
    say(t7, operator, NOW - 8 * D, body="事務局です")
    say(t7, g, NOW - 7 * D)

    f = figures_of(worker)
    assert (f.response_answered, f.response_total, f.response_rate) == (1, 3, 33)
    assert f.reply_count == 4  # 30 minutes, 2 hours, 4 hours, 30 hours
    assert f.reply_median == 3 * H and duration_label(f.reply_median) == "3時間"
    assert f.reply_histogram == [("1時間未満", 1), ("1〜3時間", 1), ("3〜12時間", 1), ("12〜24時間", 0),
                                 ("1〜3日", 1), ("3日以上", 0)]
    # the blocked user's thread would have been an unanswered first message: without the block, 1 of 4
    from anshin.trust.blocks import block_remove

    block_remove(user=worker, target_id=c.pk)
    assert figures_of(worker, fresh=True).response_total == 4


def test_an_answer_exactly_24_hours_later_counts_and_one_second_later_does_not(frozen, worker, make_user):
    a, b = make_user("a"), make_user("b")
    t1, t2 = thread(worker, a), thread(worker, b)
    say(t1, a, NOW - 5 * D)
    say(t1, worker, NOW - 5 * D + 24 * H)
    say(t2, b, NOW - 5 * D)
    say(t2, worker, NOW - 5 * D + 24 * H + timedelta(seconds=1))
    f = figures_of(worker)
    assert (f.response_answered, f.response_total) == (1, 2)
    assert [n for _, n in f.reply_histogram] == [0, 0, 0, 0, 2, 0]  # exactly 24h is already 「1〜3日」


def test_figures_for_many_people_at_once_match_one_by_one(frozen, worker, client_user, make_user,
                                                          django_assert_max_num_queries):
    people = [make_user(f"p{n}") for n in range(4)]
    for n, person in enumerate(people):
        t = thread(client_user, person)
        say(t, client_user, NOW - 3 * D)
        if n % 2 == 0:
            say(t, person, NOW - 3 * D + (n + 1) * H)
    with django_assert_max_num_queries(12):
        many = figures_for([p.pk for p in people])
    for n, person in enumerate(people):
        one = figures_of(person)
        assert (many[person.pk].response_rate, many[person.pk].replies) == (one.response_rate, one.replies)
        assert one.response_rate == (100 if n % 2 == 0 else 0)


# --- ratings ------------------------------------------------------------------------------------------------

def review(subject, author, axes, *, revealed=True, at=None, comment="ありがとうございました。", reply=""):
    from anshin.reviews.models import Review, ReviewWindow

    contract = factories.contract(author, subject, "accepted")
    now = at or NOW
    # accepting the contract may already have opened its window (reviews services): set it as wanted
    window, _ = ReviewWindow.objects.update_or_create(
        contract=contract,
        defaults=dict(client=author, worker=subject, opened_at=now, closes_at=now + 14 * D,
                      revealed_at=now if revealed else None, due_at=None if revealed else now + 14 * D,
                      remind_at=None),
    )
    return Review.objects.create(window=window, author=author, subject=subject, author_role="client",
                                 **dict(zip(("skill", "quality", "schedule", "communication", "partnership"), axes,
                                            strict=True)),
                                 comment=comment, submitted_at=now, reply=reply, replied_at=now if reply else None)


def test_rating_average_count_and_distribution(frozen, worker, client_user):
    """23/5 = ★4.6 → 5; 21/5 = ★4.2 → 4; 14/5 = ★2.8 → 3; a hidden ★1 does not count.
    Mean = (23 + 21 + 14) / 15 = 3.866… → 3.9."""
    review(worker, client_user, (5, 5, 5, 4, 4), at=NOW - 3 * D, comment="丁寧でした")
    review(worker, client_user, (4, 4, 4, 4, 5), at=NOW - 2 * D, comment="早かった", reply="ありがとうございます")
    review(worker, client_user, (3, 3, 2, 3, 3), at=NOW - 1 * D, comment="まずまず")
    review(worker, client_user, (1, 1, 1, 1, 1), revealed=False, comment="まだ見えない")
    f = figures_of(worker)
    assert (f.rating_count, f.rating_average) == (3, 3.9)
    assert f.rating_distribution == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert [r.comment for r in recent_reviews(worker)] == ["まずまず", "早かった", "丁寧でした"]
    assert recent_reviews(worker)[1].reply == "ありがとうございます"
    # the client's own figures are the client's: the worker's reviews are not theirs
    assert figures_of(client_user).rating_count == 0
    # completed deals: four accepted contracts, the worker as worker, the client as client
    assert (f.completed, f.completed_as_worker) == (4, 4)
    assert figures_of(client_user).completed_as_client == 4


def test_recent_reviews_are_the_five_newest(frozen, worker, client_user):
    for n in range(6):
        review(worker, client_user, (4, 4, 4, 4, 4), at=NOW - (10 - n) * D, comment=f"コメント{n}")
    assert [r.comment for r in recent_reviews(worker)] == [f"コメント{n}" for n in (5, 4, 3, 2, 1)]


# --- client figures -----------------------------------------------------------------------------------------

def test_client_funding_rate_inspection_deemed_terminations_disputes(frozen, client_user, worker, operator):
    """Contracts of the client:
    c1 funded; c2 accepted 1 day after delivery; c3 accepted 3 days after; c4 deemed accepted 7 days after;
    c5 awaiting funding (undecided: left out); c6 cancelled by the client before funding; c7 only offered;
    c8 disputed and refunded (terminated).
    仮払い率 = funded among decided (c1 c2 c3 c4 c6 c8) = 5 of 6 = 83%. Inspection: 1d, 3d, 7d → median 3d.
    Orders: o1 approved automatically after 72h (みなし検収), o2 disputed.
    → みなし検収 2, 途中終了 1, トラブル相談 2, completed as client 3 + 1 = 4."""
    from anshin.contracts import services as contracts
    from anshin.orders import services as orders

    factories.contract(client_user, worker, "funded")
    for days in (1, 3):
        c = factories.contract(client_user, worker, "delivered")
        frozen.shift(days * D)
        contracts.contract_simple_action(contract_id=c.pk, user=client_user, action="accept")
    c4 = factories.contract(client_user, worker, "delivered")
    frozen.shift(7 * D)
    assert contracts.contract_settle_due(c4.pk) == f"contract {c4.pk}: deem_accept"
    factories.contract(client_user, worker, "awaiting_funding")
    c6 = factories.contract(client_user, worker, "awaiting_funding")
    contracts.contract_simple_action(contract_id=c6.pk, user=client_user, action="cancel")
    factories.contract(client_user, worker, "offered")
    c8 = factories.contract(client_user, worker, "funded")
    contracts.contract_open_dispute(contract_id=c8.pk, user=worker, reason="連絡が取れません")
    contracts.contract_resolve_dispute(contract_id=c8.pk, operator=operator, outcome="refund", note="全額返金")
    o1 = factories.order(client_user, worker, "delivered")
    frozen.shift(72 * H)
    orders.order_settle_due(o1.pk)
    o2 = factories.order(client_user, worker, "in_progress")
    orders.order_open_dispute(order_id=o2.pk, user=client_user, reason="納品されません")

    f = figures_of(client_user)
    assert f.is_client
    assert (f.funding_funded, f.funding_decided, f.funding_rate) == (5, 6, 83)
    assert (f.inspection_count, f.inspection_median) == (3, 3 * D)  # 1, 3 and 7 days
    assert duration_label(f.inspection_median) == "3日"
    assert (f.deemed, f.terminations, f.disputes) == (2, 1, 2)
    assert (f.completed_as_client, f.completed_as_worker) == (4, 0)
    w = figures_of(worker)
    assert (w.completed_as_worker, w.is_client) == (4, False)


def test_a_client_with_a_job_only_shows_client_figures_without_numbers(frozen, client_user):
    factories.job(client_user)
    f = figures_of(client_user)
    assert f.is_client and f.funding_rate is None and f.inspection_median is None
    assert f.as_dict()["client"] == {"funding_rate": None, "funding_decided": 0, "funding_funded": 0,
                                     "inspection_median_seconds": None, "inspection_count": 0,
                                     "deemed_acceptances": 0, "terminations": 0, "disputes": 0}


@pytest.mark.parametrize(("delay", "label"), [
    (timedelta(minutes=45), "45分"), (3 * H + timedelta(minutes=20), "3時間20分"), (47 * H, "47時間"),
    (2 * D + 5 * H, "2日5時間"), (3 * D, "3日"),
])
def test_duration_labels(delay, label):
    assert duration_label(delay) == label


def test_the_operators_risk_panel_reads_the_same_rating_and_funding_rate(frozen, client_user, worker):
    from anshin.ops.selectors import user_risk

    assert (user_risk(worker)["rating"], user_risk(worker)["rating_count"]) == (None, 0)  # 「評価なし」
    review(worker, client_user, (5, 5, 5, 4, 4))
    factories.contract(client_user, worker, "awaiting_funding")  # still undecided: not in the rate
    risk = user_risk(worker)
    assert (risk["rating"], risk["rating_count"]) == (4.6, 1)
    client_risk = user_risk(client_user)
    assert (client_risk["funding_rate"], client_risk["contracts_funding_decided"]) == (100, 1)
    assert client_risk["funding_rate"] == figures_of(client_user).funding_rate
