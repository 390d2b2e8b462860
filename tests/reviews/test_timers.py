"""The 14-day window is a timer: at closes_at exactly (not a microsecond before) what was written is revealed;
a submission at closes_at − 1 s is accepted, one at closes_at is refused and reveals the window; reminders go
3 days and 1 day before to whoever has not written; nothing happens twice."""

from datetime import timedelta

import pytest

from anshin.core import timers
from anshin.core.errors import DomainError
from anshin.core.models import AuditEvent
from anshin.notifications.models import Notification
from anshin.reviews import selectors, services
from anshin.reviews.models import Review, ReviewWindow
from tests.reviews.conftest import RATINGS_A, RATINGS_B, SECRET, START

pytestmark = pytest.mark.django_db

µs = timedelta(microseconds=1)


def fresh(window) -> ReviewWindow:
    return ReviewWindow.objects.get(pk=window.pk)


def revealed(kind="review.revealed"):
    return Notification.objects.filter(kind=kind)


def test_the_timer_reveals_a_single_review_exactly_at_closes_at(window, client_user, worker, clock):
    services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
    closes = START + timedelta(days=14)

    clock.move_to(closes - µs)
    assert not [line for line in timers.sweep() if "revealed" in line]
    assert fresh(window).revealed_at is None
    assert selectors.reviews_for_window(fresh(window), worker) == []

    clock.move_to(closes)
    assert timers.sweep() == [f"review_window {window.pk}: revealed"]
    assert timers.sweep() == []  # a second sweep at the same instant finds nothing
    window = fresh(window)
    assert window.revealed_at == closes
    assert (window.due_at, window.remind_at) == (None, None)
    assert [r.comment for r in selectors.reviews_for_window(window, worker)] == [SECRET]
    assert sorted(revealed().values_list("user_id", flat=True)) == sorted([client_user.pk, worker.pk])
    assert AuditEvent.objects.filter(action="review_reveal", payload__reason="window_closed").count() == 1

    clock.shift(timedelta(days=30))
    assert timers.sweep() == []
    assert revealed().count() == 2


def test_submitting_one_second_before_closes_at_is_accepted(window, client_user, worker, clock):
    clock.move_to(window.closes_at - timedelta(seconds=1))
    review = services.review_submit(window_id=window.pk, user=worker, ratings=RATINGS_B, comment="良い発注者")
    assert review.submitted_at == window.closes_at - timedelta(seconds=1)
    assert fresh(window).revealed_at is None


def test_submitting_at_closes_at_is_refused_and_the_window_is_revealed(window, client_user, worker, clock):
    services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
    clock.move_to(window.closes_at)
    with pytest.raises(DomainError) as refused:
        services.review_submit(window_id=window.pk, user=worker, ratings=RATINGS_B, comment="遅れて投稿")
    assert refused.value.code == "review_closed"
    assert "2026/04/15 10:00" in refused.value.message
    assert Review.objects.filter(author=worker).count() == 0
    window = fresh(window)
    assert window.revealed_at == window.closes_at  # the refusal did not roll the reveal back
    assert revealed().count() == 2
    assert timers.sweep() == []


def test_a_window_nobody_wrote_in_closes_quietly(window, clock):
    clock.move_to(window.closes_at)
    assert timers.sweep() == []  # nothing to show or tell: not reported as done
    assert fresh(window).revealed_at == window.closes_at
    assert fresh(window).due_at is None
    assert not revealed().exists()
    assert AuditEvent.objects.filter(action="review_reveal", payload__reviews=0).count() == 1


def test_reading_the_window_after_closes_at_reveals_it_on_the_spot(window, client_user, worker, clock):
    services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
    clock.move_to(window.closes_at)
    seen = selectors.review_window_get(window_id=window.pk, user=worker)  # no sweeper ran
    assert seen.revealed_at == window.closes_at
    assert [r.comment for r in selectors.reviews_for_window(seen, worker)] == [SECRET]
    assert timers.sweep() == []


def test_reminders_three_days_and_one_day_before_to_whoever_has_not_written(window, client_user, worker, clock):
    services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
    closes = window.closes_at
    clock.move_to(closes - timedelta(days=3) - µs)
    assert timers.sweep() == []
    clock.move_to(closes - timedelta(days=3))
    assert timers.sweep() == [f"review_window {window.pk}: reminder 3d"]
    assert timers.sweep() == []
    reminders = Notification.objects.filter(kind="review.reminder")
    assert list(reminders.values_list("user_id", flat=True)) == [worker.pk]  # the client has written
    assert "あと3日" in reminders.get().title
    assert fresh(window).remind_at == closes - timedelta(days=1)

    clock.move_to(closes - timedelta(days=1))
    assert timers.sweep() == [f"review_window {window.pk}: reminder 1d"]
    assert reminders.count() == 2
    assert fresh(window).remind_at is None
    assert all(SECRET not in n.title + n.body for n in Notification.objects.filter(user=worker))


def test_a_late_sweeper_sends_only_the_most_urgent_reminder(window, client_user, worker, clock):
    clock.move_to(window.closes_at - timedelta(hours=12))  # both reminders are past: only "1 day" goes out
    assert timers.sweep() == [f"review_window {window.pk}: reminder 1d"]
    reminders = Notification.objects.filter(kind="review.reminder")
    assert sorted(reminders.values_list("user_id", flat=True)) == sorted([client_user.pk, worker.pk])
    assert all("あと1日" in n.title for n in reminders)


def test_two_sweeps_one_after_the_other_reveal_once(window, client_user, clock):
    services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
    clock.move_to(window.closes_at)
    assert services.review_window_settle_due(window.pk) == f"review_window {window.pk}: revealed"
    assert services.review_window_settle_due(window.pk) is None
    assert timers.sweep() == []
    assert AuditEvent.objects.filter(action="review_reveal").count() == 1
    assert revealed().count() == 2
