"""The clock's batch path for 募集終了 (anshin/jobs/expire_batch.py) leaves exactly what the per-row path leaves:
the same jobs, audit events, and notices to the clients and the applicants still waiting, with their e-mail
outbox state; and it closes a day's jobs in a fixed number of queries, however many there are."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from anshin.core import clock, timers
from anshin.core.models import AuditEvent
from anshin.jobs import services
from anshin.jobs.models import Job
from anshin.notifications.models import EmailPreference, Notification
from tests import factories
from tests.twins import sweep_and_capture

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 4, 1, 10, 0, tzinfo=TOKYO)
DEADLINE = date(2026, 4, 10)
END = datetime(2026, 4, 11, tzinfo=TOKYO)  # every job with that deadline falls due at this instant


@pytest.fixture
def travel():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(timers, "SETTLE_BATCH_SIZE", 2)  # several batches out of a handful of jobs


def post(client, n: int, deadline=DEADLINE) -> Job:
    return factories.job(client, title=f"募集{n}", application_deadline=deadline,
                         delivery_date=deadline + timedelta(days=20))


@pytest.fixture
def due(travel, make_user, client_user):
    """Five jobs due at the same instant, for two clients (one with e-mail off), with applicants in every
    state or none; one job closed by hand and one with a later deadline, which the clock must leave alone."""
    quiet_client = make_user("client2", display_name="合同会社テスト")
    EmailPreference.objects.create(user=quiet_client, group="jobs", email=False, updated_at=clock.now())
    workers = [make_user(f"w{i}") for i in range(4)]
    jobs = [post(client_user, 1), post(quiet_client, 2), post(client_user, 3), post(quiet_client, 4),
            post(client_user, 5)]
    for job, applicants in zip(jobs, ([0, 1, 2, 3], [1], [], [0, 2], [3]), strict=True):
        for i in applicants:
            factories.application(job.client, workers[i], job=job)
    first = {a.worker_id: a for a in jobs[0].applications.all()}
    for worker, action, by in ((workers[1], "shortlist", client_user), (workers[2], "decline", client_user),
                               (workers[3], "withdraw", workers[3])):
        services.application_transition(application_id=first[worker.pk].pk, user=by, action=action, reason="budget")
    closed = post(client_user, 6)
    services.job_transition(job_id=closed.pk, user=client_user, action="close")
    later = post(client_user, 7, deadline=DEADLINE + timedelta(days=1))
    travel.move_to(END)
    return jobs, closed, later


def marks() -> dict:
    return {"audit": AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
            "notifications": Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0}


def capture(since: dict, ids: list[int]) -> dict:
    def rows(values):
        return sorted(values, key=repr)

    return {
        "jobs": rows(Job.objects.filter(pk__in=ids).values()),
        "audit": rows(AuditEvent.objects.filter(pk__gt=since["audit"]).values_list(
            "subject_type__model", "subject_id", "action", "actor_id", "actor_role", "from_state", "to_state",
            "payload", "created_at")),
        "notifications": rows(Notification.objects.filter(pk__gt=since["notifications"]).values_list(
            "user_id", "kind", "title", "body", "url", "dedupe_key", "created_at", "read_at", "email_state",
            "email_due_at")),
    }


def test_batch_and_per_row_closing_leave_the_same_rows(due, small_batches):
    jobs, closed, later = due
    ids = [j.pk for j in [*jobs, closed, later]]

    since = marks()
    batch_done, batched = sweep_and_capture(lambda: capture(since, ids))
    row_done, per_row = sweep_and_capture(lambda: capture(since, ids), per_row=True)

    assert sorted(batch_done) == sorted(row_done) == sorted(f"job {j.pk}: expire" for j in jobs)
    for key in batched:
        assert batched[key] == per_row[key], key
    states = {row["id"]: (row["state"], row["due_at"]) for row in batched["jobs"]}
    assert states == {**{j.pk: ("closed", None) for j in [*jobs, closed]},
                      later.pk: ("open", datetime(2026, 4, 12, tzinfo=TOKYO))}
    told = [(n[0], n[1]) for n in batched["notifications"]]
    assert sorted(kind for _, kind in told) == ["job.closed"] * 6 + ["job.expired"] * 5  # not the declined or withdrawn
    bodies = {n[4]: n[3] for n in batched["notifications"] if n[1] == "job.expired"}
    assert "これまでの応募者（4人）" in bodies[f"/jobs/{jobs[0].pk}/"]
    assert "応募がありませんでした" in bodies[f"/jobs/{jobs[2].pk}/"]
    email = {n[4]: n[8] for n in batched["notifications"] if n[1] == "job.expired"}
    assert email[f"/jobs/{jobs[1].pk}/"] == Notification.EmailState.OFF  # the quiet client chose no e-mail
    assert email[f"/jobs/{jobs[0].pk}/"] == Notification.EmailState.PENDING


def test_a_days_jobs_close_in_a_fixed_number_of_queries(travel, client_user, make_user):
    workers = [make_user(f"w{i}") for i in range(3)]

    def queries_to_close(n: int, deadline: date) -> int:
        made = [post(client_user, i, deadline=deadline) for i in range(n)]
        for i, job in enumerate(made):
            factories.application(client_user, workers[i % len(workers)], job=job)
        travel.move_to(datetime.combine(deadline + timedelta(days=1), datetime.min.time(), TOKYO))
        with CaptureQueriesContext(connection) as queries:
            done = timers.sweep()
        assert sorted(done) == sorted(f"job {j.pk}: expire" for j in made)
        assert Notification.objects.filter(kind="job.closed", url__in=[
            f"/applications/{a.pk}/" for j in made for a in j.applications.all()]).count() == n
        return len(queries)

    few = queries_to_close(3, DEADLINE)  # the first also reads what the later ones find cached
    assert queries_to_close(9, DEADLINE + timedelta(days=1)) <= few
