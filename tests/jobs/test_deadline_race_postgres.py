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
