"""募集終了 at the application deadline (PRODUCT.md §1): an open job closes itself when its deadline day ends
in Japan (00:00 JST the next day) through the flow's timer, once, telling the client and the applicants still
waiting (closing by hand tells them too); it leaves the list and the search; a new deadline re-arms the clock;
reopening past the deadline waits for a new one; hiring from the applicants goes on after the deadline."""

import importlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.urls import reverse

from anshin.contracts import services as contracts
from anshin.core import timers
from anshin.core.errors import DomainError
from anshin.core.models import AuditEvent
from anshin.jobs import selectors, services
from anshin.jobs.models import Job
from anshin.notifications.models import Notification
from tests import factories
from tests.web.helpers import login

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 4, 1, 10, 0, tzinfo=TOKYO)
DEADLINE = date(2026, 4, 10)
END = datetime(2026, 4, 11, 0, 0, tzinfo=TOKYO)  # the end of the deadline day in Japan
µs = timedelta(microseconds=1)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def job(clock, client_user):
    return factories.job(client_user, title="記事に写真を挿入する業務", application_deadline=DEADLINE,
                         delivery_date=DEADLINE + timedelta(days=20))


def fresh(job) -> Job:
    return Job.objects.get(pk=job.pk)


def expirations(job):
    return AuditEvent.objects.filter(subject_type__model="job", subject_id=job.pk, action="expire")


def listed(**search) -> set[int]:
    return set(selectors.job_search(**search).values_list("pk", flat=True))


def test_posting_arms_the_clock_at_the_end_of_the_deadline_day(job):
    assert (job.state, job.due_at, job.timer_action, job.remind_at) == ("open", END, "expire", None)


def test_the_job_closes_at_midnight_jst_after_the_deadline_day_not_a_microsecond_earlier(clock, job, client_user):
    clock.move_to(END - µs)
    assert timers.sweep() == []
    assert fresh(job).state == "open" and job.pk in listed()

    clock.move_to(END)
    assert timers.sweep() == [f"job {job.pk}: expire"]
    assert timers.sweep() == []
    closed = fresh(job)
    assert (closed.state, closed.state_label, closed.due_at, closed.timer_action) == ("closed", "募集終了", None, "")
    assert closed.closed_by_deadline
    event = expirations(job).get()
    assert (event.actor_role, event.from_state, event.to_state) == ("system", "open", "closed")

    told = Notification.objects.get(kind="job.expired")
    assert told.user == client_user
    assert told.title == "「記事に写真を挿入する業務」の募集期間が終了しました"
    assert "応募期限（2026/04/10）を過ぎたため" in told.body and "新しい応募期限" in told.body
    assert told.url == f"/jobs/{job.pk}/"


def test_an_expired_job_leaves_the_list_and_the_search_and_refuses_applications(clock, job, worker):
    assert job.pk in listed(q="写真")
    clock.move_to(END)
    timers.sweep()
    assert job.pk not in listed() and job.pk not in listed(q="写真")
    assert fresh(job).state == "closed"
    assert job.pk in listed(q="写真", include_closed=True)
    with pytest.raises(DomainError):
        factories.application(None, worker, job=job)


def test_the_notification_counts_the_applicants_who_can_still_be_hired(clock, job, client_user, worker):
    factories.application(client_user, worker, job=job)
    clock.move_to(END)
    timers.sweep()
    assert "これまでの応募者（1人）" in Notification.objects.get(kind="job.expired").body


def _applicants(job, client_user, make_user) -> dict:
    """One applicant in each state: waiting (applied, shortlisted) or already answered (declined, withdrawn)."""
    apps = {state: factories.application(client_user, make_user(state), job=job)
            for state in ("applied", "shortlisted", "declined", "withdrawn")}
    for state, action, by in (("shortlisted", "shortlist", client_user), ("declined", "decline", client_user),
                              ("withdrawn", "withdraw", apps["withdrawn"].worker)):
        services.application_transition(application_id=apps[state].pk, user=by, action=action, reason="budget")
    return apps


def closed_notices():
    return Notification.objects.filter(kind="job.closed").order_by("pk")


def test_applicants_still_waiting_hear_the_job_closed_at_the_deadline_once(clock, job, client_user, make_user):
    apps = _applicants(job, client_user, make_user)
    clock.move_to(END)
    timers.sweep()
    timers.sweep()
    told = list(closed_notices())
    assert [n.user for n in told] == [apps["applied"].worker, apps["shortlisted"].worker]
    assert [n.url for n in told] == [f"/applications/{apps['applied'].pk}/", f"/applications/{apps['shortlisted'].pk}/"]
    assert told[0].title == "「記事に写真を挿入する業務」の募集が終了しました"
    assert "応募期限（2026/04/10）を過ぎ" in told[0].body and "応募は有効なまま" in told[0].body
    assert told[0].email_state == Notification.EmailState.PENDING


def test_closing_by_hand_tells_the_waiting_applicants_and_a_second_close_tells_them_again(
        clock, job, client_user, make_user):
    apps = _applicants(job, client_user, make_user)
    services.job_transition(job_id=job.pk, user=client_user, action="close")
    assert [n.user for n in closed_notices()] == [apps["applied"].worker, apps["shortlisted"].worker]
    assert "クライアントが募集を終了しました" in closed_notices()[0].body
    clock.move_to(START + timedelta(hours=1))
    services.job_transition(job_id=job.pk, user=client_user, action="reopen")
    services.job_transition(job_id=job.pk, user=client_user, action="close")
    assert closed_notices().count() == 4


def test_applicants_hear_when_the_operator_closed_the_job(clock, job, client_user, worker, operator):
    factories.application(client_user, worker, job=job)
    services.job_transition(job_id=job.pk, user=operator, action="close")
    assert "事務局が募集を終了しました" in closed_notices().get().body


def test_hiring_an_applicant_after_the_deadline_still_works(clock, job, client_user, worker):
    app = factories.application(client_user, worker, job=job)
    clock.move_to(END + timedelta(days=2))
    timers.sweep()
    assert fresh(job).state == "closed"
    contract = contracts.contract_offer(application_id=app.pk, user=client_user, amount=30_000,
                                        delivery_date=date(2026, 5, 1))
    assert contract.state == "offered" and contract.worker == worker
    app.refresh_from_db()
    assert app.state == "offered"


def test_a_new_deadline_moves_the_clock(clock, job, client_user):
    services.job_update(job_id=job.pk, user=client_user, application_deadline=DEADLINE + timedelta(days=5))
    new_end = END + timedelta(days=5)
    assert (fresh(job).due_at, fresh(job).timer_action) == (new_end, "expire")
    clock.move_to(END)
    assert timers.sweep() == []
    assert fresh(job).state == "open"
    clock.move_to(new_end)
    assert timers.sweep() == [f"job {job.pk}: expire"]


def test_editing_other_fields_keeps_the_clock(clock, job, client_user):
    services.job_update(job_id=job.pk, user=client_user, title="記事に画像を挿入する業務")
    assert fresh(job).due_at == END


def test_closing_by_hand_stops_the_clock_and_the_client_is_not_told(clock, job, client_user):
    services.job_transition(job_id=job.pk, user=client_user, action="close")
    assert fresh(job).due_at is None and not fresh(job).closed_by_deadline
    clock.move_to(END + timedelta(days=1))
    assert timers.sweep() == []
    assert not Notification.objects.filter(kind="job.expired").exists()


def test_reopening_before_the_deadline_rearms_the_clock(clock, job, client_user):
    services.job_transition(job_id=job.pk, user=client_user, action="close")
    clock.move_to(START + timedelta(days=2))
    services.job_transition(job_id=job.pk, user=client_user, action="reopen")
    assert (fresh(job).state, fresh(job).due_at) == ("open", END)


def test_reopening_past_the_deadline_asks_for_a_new_deadline_first(clock, job, client_user):
    clock.move_to(END)
    timers.sweep()
    with pytest.raises(DomainError) as refused:
        services.job_transition(job_id=job.pk, user=client_user, action="reopen")
    assert refused.value.code == "not_allowed"
    assert "応募期限（2026/04/10）を過ぎています" in refused.value.message
    assert "新しい応募期限" in refused.value.message
    assert fresh(job).state == "closed"

    # A new deadline (editing a closed job), then 再開: open, listed, armed for the new day's end.
    services.job_update(job_id=job.pk, user=client_user, application_deadline=date(2026, 4, 20))
    assert fresh(job).state == "closed" and fresh(job).due_at is None
    services.job_transition(job_id=job.pk, user=client_user, action="reopen")
    assert (fresh(job).state, fresh(job).due_at) == ("open", datetime(2026, 4, 21, tzinfo=TOKYO))
    assert job.pk in listed()


def test_only_the_clock_expires_a_job(job, client_user):
    with pytest.raises(DomainError):
        services.job_transition(job_id=job.pk, user=client_user, action="expire")
    assert fresh(job).state == "open"


def test_the_clients_page_says_why_and_offers_no_reopen_past_the_deadline(clock, job, client_user):
    clock.move_to(END + timedelta(hours=1))
    timers.sweep()
    page = login(client_user).get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "募集終了" in page
    assert "応募期限（2026/04/10）を過ぎたため募集を終了しました。" in page
    assert reverse("jobs:transition", args=[job.pk, "reopen"]) not in page
    assert reverse("jobs:edit", args=[job.pk]) in page


def test_the_migration_arms_open_jobs_and_leaves_closing_to_the_clock(clock, job, client_user):
    other = factories.job(client_user, application_deadline=date(2026, 4, 5))
    services.job_transition(job_id=other.pk, user=client_user, action="close")
    Job.objects.update(due_at=None, timer_action="")  # as before the flow had a timer
    clock.move_to(datetime(2026, 4, 12, 9, 0, tzinfo=TOKYO))  # past the deadline: still open until the tick
    migration = importlib.import_module("anshin.jobs.migrations.0005_arm_job_deadline_timers")
    migration.forwards(apps, None)
    assert (fresh(job).state, fresh(job).due_at, fresh(job).timer_action) == ("open", END, "expire")
    assert fresh(other).due_at is None  # closed jobs have no timer
    assert timers.sweep() == [f"job {job.pk}: expire"]
    assert Notification.objects.filter(kind="job.expired", user=client_user).count() == 1
