"""Races on PostgreSQL at the test task's due time: the worker's submit, the sweeper and a reader run at once.
Whatever the interleaving there is exactly one outcome — submitted or expired, never both, never twice — and
the loser gets a clear refusal, never a crash or a deadlock. Half the rounds run on a clock that was paused by a
blocker question and resumed (seed 000), so the race is at the *resumed* due time."""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anshin.core import timers
from anshin.core.models import AuditEvent
from anshin.jobs import selectors, services
from anshin.jobs.models import TestTask
from anshin.messaging.models import Message
from tests import factories
from tests.race import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
ROUNDS = 100


def events(task, action):
    return AuditEvent.objects.filter(subject_type__model="testtask", subject_id=task.pk, action=action).count()


def assert_one_outcome(task) -> str:
    task = TestTask.objects.get(pk=task.pk)
    assert task.state in ("submitted", "expired")
    submissions = Message.objects.filter(thread__application=task.application_id,
                                         body__startswith="【テスト課題の提出】").count()
    if task.state == "submitted":
        assert (events(task, "submit"), events(task, "expire"), submissions) == (1, 0, 1)
        assert task.submission_message_id is not None
    else:
        assert (events(task, "submit"), events(task, "expire"), submissions) == (0, 1, 0)
        assert task.submission_body == "" and task.remaining == timedelta(0)
    assert task.due_at is None
    return task.state


def a_sent_test(client_user, worker, clock, paused: bool) -> TestTask:
    app = factories.application(client_user, worker)
    services.test_task_send(application_id=app.pk, user=client_user, instructions="課題です",
                            duration=timedelta(days=3))
    if paused:
        clock.shift(timedelta(hours=10))
        services.test_task_report_blocker(application_id=app.pk, user=worker, question="資料が見つかりません")
        clock.shift(timedelta(hours=20))
        services.test_task_answer_blocker(application_id=app.pk, user=client_user, answer="共有しました")
    return TestTask.objects.get(application=app)


def test_worker_submit_and_sweeper_at_the_due_time_have_exactly_one_outcome(make_user):
    rng = random.Random(20260401)
    client_user = make_user("race-client")
    outcomes = {"submitted": 0, "expired": 0}
    with time_machine.travel(START, tick=False) as clock:
        for n in range(ROUNDS):
            worker = make_user(f"race-worker{n}")
            paused = n % 2 == 0
            task = a_sent_test(client_user, worker, clock, paused)
            if paused:
                assert task.due_at == clock_now() + timedelta(hours=62)
            # at the due time the clock has decided; a microsecond before, the worker is in time
            early = rng.random() < 0.5
            clock.move_to(task.due_at - timedelta(microseconds=1) if early else task.due_at)
            calls = {
                "worker": lambda task=task, worker=worker: services.test_task_submit(
                    application_id=task.application_id, user=worker, body="提出します"),
                "tick": timers.sweep,
            }
            if rng.random() < 0.3:
                calls["reader"] = lambda task=task, worker=worker: selectors.test_task_get(
                    application_id=task.application_id, user=worker)
            order = rng.sample(sorted(calls), k=len(calls))
            outcome = dict(zip(order, run_together(*(calls[name] for name in order)), strict=True))
            assert not [r for r in outcome.values() if r[0] == "crash"], outcome
            assert outcome["tick"][0] == "ok", outcome
            state = assert_one_outcome(task)
            outcomes[state] += 1
            if early:
                assert state == "submitted", outcome
                assert outcome["worker"][0] == "ok"
                assert not [line for line in outcome["tick"][1] if "expire" in line]
            else:
                assert state == "expired", outcome
                assert outcome["worker"][0] == "refused"
                assert outcome["worker"][1].code in ("not_allowed", "deadline_passed")
            assert timers.sweep() == []
    assert outcomes["submitted"] and outcomes["expired"]


def clock_now():
    from anshin.core import clock

    return clock.now()


def test_blocker_report_and_sweeper_at_the_due_time(make_user):
    """The worker's blocker question at the very due time races the sweeper: either the clock stops (blocked,
    nothing expires) or the test has expired and the question is refused — never a blocked test that expired."""
    rng = random.Random(7)
    client_user = make_user("race-client")
    with time_machine.travel(START, tick=False) as clock:
        for n in range(30):
            worker = make_user(f"race-worker{n}")
            task = a_sent_test(client_user, worker, clock, paused=False)
            early = n % 2 == 0
            clock.move_to(task.due_at - timedelta(microseconds=1) if early else task.due_at)
            calls = [
                lambda task=task, worker=worker: services.test_task_report_blocker(
                    application_id=task.application_id, user=worker, question="資料が見つかりません"),
                timers.sweep,
            ]
            rng.shuffle(calls)
            results = run_together(*calls)
            assert not [r for r in results if r[0] == "crash"], results
            task = TestTask.objects.get(pk=task.pk)
            if early:
                assert task.state == "blocked" and task.remaining == timedelta(microseconds=1)
                assert events(task, "expire") == 0
            else:
                assert task.state == "expired" and events(task, "expire") == 1
                assert events(task, "report_blocker") == 0
