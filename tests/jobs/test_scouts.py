"""Scouting (PRODUCT.md §1): a client invites a worker to one of their open jobs; the worker hears of it, sees
「スカウトが届いています」 on the job, and answers by applying or declining."""

from datetime import timedelta

import pytest

from anshin.core import clock
from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.jobs import selectors, services
from anshin.jobs.models import Scout
from anshin.messaging.models import Message, Thread
from anshin.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db


def scout(client_user, worker, job=None, message="ぜひご応募ください。"):
    job = job or factories.job(client_user)
    return services.scout_send(user=client_user, job_id=job.pk, worker_id=worker.pk, message=message)


def counts():
    return (Scout.objects.count(), Thread.objects.count(), Message.objects.count(), Notification.objects.count(),
            AuditEvent.objects.count())


def test_scout_opens_a_thread_and_tells_the_worker(client_user, worker):
    s = scout(client_user, worker)
    assert s.state == "sent"
    assert s.thread.kind == "scout" and s.thread.job == s.job
    assert set(s.thread.members.values_list("user__email", flat=True)) == {"client@example.com",
                                                                           "worker@example.com"}
    message = s.thread.messages.get()
    assert message.sender == client_user and "ぜひご応募ください。" in message.body and s.job.title in message.body
    note = Notification.objects.get(kind="scout.received")
    assert note.user == worker and note.url == f"/jobs/{s.job_id}/" and "スカウトが届きました" in note.title
    assert selectors.scout_pending(job=s.job, user=worker) == s
    assert list(selectors.scouts_for(user=worker)) == [s]
    assert list(selectors.scouts_sent(user=client_user)) == [s]


def test_applying_answers_the_scout(client_user, worker):
    s = scout(client_user, worker)
    app = factories.application(client_user, worker, job=s.job)
    s.refresh_from_db()
    assert s.state == "applied" and s.application == app
    assert selectors.scout_pending(job=s.job, user=worker) is None
    assert s.thread.messages.filter(kind="system", body__contains="スカウトを受けて応募しました").exists()
    note = Notification.objects.get(kind="scout.applied")
    assert note.user == client_user and note.url == f"/applications/{app.pk}/"
    event = AuditEvent.objects.get(subject_type__model="scout", subject_id=s.pk, action="apply")
    assert (event.from_state, event.to_state, event.actor) == ("sent", "applied", worker)


def test_worker_declines(client_user, worker):
    s = scout(client_user, worker)
    services.scout_decline(scout_id=s.pk, user=worker)
    s.refresh_from_db()
    assert s.state == "declined"
    assert Notification.objects.get(kind="scout.declined").user == client_user
    with pytest.raises(DomainError) as refused:  # once answered, it stays answered
        services.scout_decline(scout_id=s.pk, user=worker)
    assert refused.value.code == "not_allowed"
    # declining the scout does not stop the worker from applying later
    app = factories.application(client_user, worker, job=s.job)
    s.refresh_from_db()
    assert s.state == "declined" and s.application is None and app.state == "applied"


def test_client_or_stranger_cannot_decline_for_the_worker(client_user, worker, stranger):
    s = scout(client_user, worker)
    with pytest.raises(DomainError) as refused:
        services.scout_decline(scout_id=s.pk, user=client_user)
    assert refused.value.code == "not_allowed"
    with pytest.raises(NotFound):
        services.scout_decline(scout_id=s.pk, user=stranger)
    with pytest.raises(NotFound):
        services.scout_decline(scout_id=424242, user=worker)
    with pytest.raises(NotFound):
        selectors.scout_get(scout_id=s.pk, user=stranger)
    s.refresh_from_db()
    assert s.state == "sent"


def test_cannot_scout_yourself(client_user):
    job = factories.job(client_user)
    before = counts()
    with pytest.raises(DomainError) as refused:
        services.scout_send(user=client_user, job_id=job.pk, worker_id=client_user.pk, message="自分へ")
    assert refused.value.message == "自分自身をスカウトすることはできません。"
    assert counts() == before


def test_cannot_scout_for_a_closed_job_or_someone_elses(client_user, worker, stranger):
    job = factories.job(client_user)
    services.job_transition(job_id=job.pk, user=client_user, action="close")
    other = factories.job(stranger)
    before = counts()
    with pytest.raises(DomainError) as refused:
        services.scout_send(user=client_user, job_id=job.pk, worker_id=worker.pk, message="どうぞ")
    assert refused.value.code == "closed" and "募集中の仕事" in refused.value.message
    with pytest.raises(NotFound):
        services.scout_send(user=client_user, job_id=other.pk, worker_id=worker.pk, message="どうぞ")
    with pytest.raises(NotFound):
        services.scout_send(user=client_user, job_id=424242, worker_id=worker.pk, message="どうぞ")
    assert counts() == before


def test_cannot_scout_for_a_job_past_its_deadline(client_user, worker, time_machine):
    job = factories.job(client_user, application_deadline=clock.today() + timedelta(days=14))
    time_machine.move_to(clock.now() + timedelta(days=20))
    with pytest.raises(DomainError) as refused:
        services.scout_send(user=client_user, job_id=job.pk, worker_id=worker.pk, message="どうぞ")
    assert refused.value.code == "closed"


def test_one_scout_per_job_and_worker(client_user, worker):
    s = scout(client_user, worker)
    before = counts()
    with pytest.raises(DomainError) as refused:
        scout(client_user, worker, job=s.job)
    assert refused.value.status == 409 and "すでにこの仕事のスカウトを送っています" in refused.value.message
    assert counts() == before
    scout(client_user, worker)  # another job is fine


def test_no_scout_to_someone_who_already_applied(client_user, worker):
    app = factories.application(client_user, worker)
    with pytest.raises(DomainError) as refused:
        scout(client_user, worker, job=app.job)
    assert refused.value.code == "already_applied" and refused.value.status == 409


def test_no_scout_to_an_unknown_or_inactive_user(client_user, make_user):
    job = factories.job(client_user)
    gone = make_user("gone", is_active=False)
    for worker_id in (gone.pk, 424242):
        with pytest.raises(NotFound):
            services.scout_send(user=client_user, job_id=job.pk, worker_id=worker_id, message="どうぞ")
    assert not Scout.objects.exists()


@pytest.mark.parametrize(("message", "code"), [("", "empty"), ("   ", "empty"), ("あ" * 2_001, "too_long")])
def test_bad_scout_message(client_user, worker, message, code):
    job = factories.job(client_user)
    with pytest.raises(DomainError) as refused:
        services.scout_send(user=client_user, job_id=job.pk, worker_id=worker.pk, message=message)
    assert refused.value.code == code
    assert not Scout.objects.exists()


def test_scoutable_jobs_leave_out_closed_scouted_and_applied(client_user, worker):
    open_job = factories.job(client_user, title="募集中A")
    scouted = factories.job(client_user, title="スカウト済み")
    applied = factories.job(client_user, title="応募済み")
    closed = factories.job(client_user, title="終了")
    services.job_transition(job_id=closed.pk, user=client_user, action="close")
    scout(client_user, worker, job=scouted)
    factories.application(client_user, worker, job=applied)
    assert [j.title for j in selectors.scoutable_jobs(client=client_user, worker=worker)] == [open_job.title]
