"""Races on PostgreSQL at the end of a job's deadline day: two sweepers and the client (closing by hand, or
setting a new deadline) at the same instant. Whatever the interleaving the job expires at most once, the
client hears of it once if it did, the timer columns agree with the state, and the loser gets a clear
refusal, never a crash or a deadlock."""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anshin.core import timers
from anshin.core.models import AuditEvent
from anshin.jobs import services
from anshin.jobs.models import Job
from anshin.notifications.models import Notification
from tests import factories
from tests.race import run_named

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 4, 1, 10, 0, tzinfo=TOKYO)
DEADLINE = date(2026, 4, 10)
END = datetime(2026, 4, 11, tzinfo=TOKYO)
ROUNDS = 24


def test_client_and_sweepers_at_the_deadline_have_one_outcome(make_user):
    rng = random.Random(20260411)
    client_user = make_user("race-client")
    seen = set()
    for n in range(ROUNDS):
        with time_machine.travel(START, tick=False) as clock:
            job = factories.job(client_user, title=f"募集{n}", application_deadline=DEADLINE,
                                delivery_date=DEADLINE + timedelta(days=30))
            clock.move_to(END)
            client_act = rng.choice(["close", "new_deadline"])
            calls = {"tick1": timers.sweep, "tick2": timers.sweep}
            if client_act == "close":
                calls["client"] = lambda job=job: services.job_transition(job_id=job.pk, user=client_user,
                                                                          action="close")
            else:
                calls["client"] = lambda job=job: services.job_update(job_id=job.pk, user=client_user,
                                                                      application_deadline=date(2026, 4, 20))
            outcome = run_named(**calls)
            assert not [r for r in outcome.values() if r[0] == "crash"], outcome
            assert outcome["tick1"][0] == outcome["tick2"][0] == "ok", outcome

            job = Job.objects.get(pk=job.pk)
            expired = AuditEvent.objects.filter(subject_type__model="job", subject_id=job.pk, action="expire").count()
            told = Notification.objects.filter(kind="job.expired", url=f"/jobs/{job.pk}/").count()
            assert expired <= 1 and told == expired, outcome
            assert (job.state == "open") == (job.due_at is not None), (job.state, job.due_at)
            if client_act == "close" and outcome["client"][0] == "ok":
                assert (job.state, expired) == ("closed", 0)
            elif client_act == "close":  # the clock was first: the job had already closed
                assert outcome["client"][1].code == "not_allowed" and expired == 1
            elif job.state == "open":  # the new deadline was first: the clock now runs to its end
                assert job.due_at == datetime(2026, 4, 21, tzinfo=TOKYO) and expired == 0
            else:  # the clock was first; the new deadline is saved for a 再開
                assert outcome["client"][0] == "ok" and expired == 1
            seen.add((client_act, job.state))
            assert timers.sweep() == []
    assert len(seen) >= 2


def test_two_sweepers_close_a_days_jobs_once_each(make_user, monkeypatch):
    """The batch path (SKIP LOCKED: disjoint batches) with the client closing one of the jobs at the same
    instant: every job closed once — one event, one notice to the client, one to its waiting applicant."""
    monkeypatch.setattr(timers, "SETTLE_BATCH_SIZE", 3)  # many small batches, so the sweepers interleave
    client_user, worker = make_user("race-client"), make_user("race-worker")
    with time_machine.travel(START, tick=False) as clock:
        jobs = [factories.job(client_user, title=f"募集{n}", application_deadline=DEADLINE,
                              delivery_date=DEADLINE + timedelta(days=30)) for n in range(12)]
        for job in jobs:
            factories.application(client_user, worker, job=job)
        clicked = jobs[5]
        clock.move_to(END)
        outcome = run_named(
            tick1=timers.sweep, tick2=timers.sweep,
            client=lambda: services.job_transition(job_id=clicked.pk, user=client_user, action="close"))
        assert outcome["tick1"][0] == outcome["tick2"][0] == "ok", outcome
        expired = sorted(outcome["tick1"][1] + outcome["tick2"][1])
        by_clock = [job for job in jobs if job is not clicked or outcome["client"][0] != "ok"]
        assert expired == sorted(f"job {job.pk}: expire" for job in by_clock)
        for job in jobs:
            assert Job.objects.get(pk=job.pk).state == "closed"
            closing = AuditEvent.objects.filter(subject_type__model="job", subject_id=job.pk, to_state="closed")
            assert closing.count() == 1
            assert Notification.objects.filter(kind="job.expired", url=f"/jobs/{job.pk}/").count() == (
                job in by_clock)
            assert Notification.objects.filter(kind="job.closed", user=worker,
                                               dedupe_key__startswith=f"job:{job.pk}:").count() == 1
        assert timers.sweep() == []
