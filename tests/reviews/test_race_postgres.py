"""Races on PostgreSQL. Both sides submit at the same instant: both reviews are stored and the window is
revealed exactly once (one audit event, one "review.revealed" per side). Two sweepers — and a late
submission — at the instant the window closes: revealed once, the late review refused, never a crash."""

import random
from datetime import timedelta

import pytest
import time_machine

from anshin.core import timers
from anshin.core.models import AuditEvent
from anshin.notifications.models import Notification
from anshin.reviews import selectors, services
from anshin.reviews.models import Review, ReviewWindow
from tests import factories
from tests.race import run_named, run_together
from tests.reviews.conftest import RATINGS_A, RATINGS_B, SECRET, START

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def assert_revealed_once(window: ReviewWindow, client_user, worker) -> ReviewWindow:
    window = ReviewWindow.objects.get(pk=window.pk)
    assert window.revealed_at is not None
    assert (window.due_at, window.remind_at) == (None, None)
    assert AuditEvent.objects.filter(subject_type__model="reviewwindow", subject_id=window.pk,
                                     action="review_reveal").count() == 1
    revealed = Notification.objects.filter(kind="review.revealed", url=window.url)
    assert sorted(revealed.values_list("user_id", flat=True)) == sorted([client_user.pk, worker.pk])
    return window


def test_both_sides_submit_at_the_same_instant(client_user, worker):
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(20):
            contract = factories.contract(client_user, worker, state="accepted")
            window = ReviewWindow.objects.get(contract=contract)
            clock.shift(timedelta(days=1))
            outcome = run_named(
                client=lambda w=window: services.review_submit(window_id=w.pk, user=client_user,
                                                               ratings=RATINGS_A, comment=SECRET),
                worker=lambda w=window: services.review_submit(window_id=w.pk, user=worker,
                                                               ratings=RATINGS_B, comment="良い発注者"),
            )
            assert outcome["client"][0] == "ok" and outcome["worker"][0] == "ok", outcome
            assert Review.objects.filter(window=window).count() == 2
            window = assert_revealed_once(window, client_user, worker)
            # the first writer's counterpart may have been told "相手が評価を投稿しました"; the second never
            assert Notification.objects.filter(kind="review.submitted", url=window.url).count() <= 1
            assert len(selectors.reviews_for_window(window, worker)) == 2


def test_two_sweepers_and_a_late_submission_at_the_close(client_user, worker):
    rng = random.Random(20260415)
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(20):
            contract = factories.contract(client_user, worker, state="accepted")
            window = ReviewWindow.objects.get(contract=contract)
            services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
            clock.move_to(window.closes_at)  # the deadline: the clock has decided, the click comes too late
            calls = [
                timers.sweep,
                timers.sweep,
                lambda w=window: services.review_window_settle_due(w.pk),
                lambda w=window: services.review_submit(window_id=w.pk, user=worker, ratings=RATINGS_B,
                                                        comment="遅れて投稿"),
                lambda w=window: selectors.review_window_get(window_id=w.pk, user=worker),
            ]
            rng.shuffle(calls)
            results = run_together(*calls)
            assert not [r for r in results if r[0] == "crash"], results
            refused = [r[1] for r in results if r[0] == "refused"]
            assert [e.code for e in refused] == ["review_closed"], results
            assert not Review.objects.filter(window=window, author=worker).exists()
            # the late click settles the due window before it locks the row: revealed whoever wins
            window = assert_revealed_once(window, client_user, worker)
            assert window.revealed_at == window.closes_at
