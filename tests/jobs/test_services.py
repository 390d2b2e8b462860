"""Jobs and applications (PRODUCT.md §1) at the service level: bad input and wrong parties change nothing;
apply once per job, never to one's own; every application transition is audited."""

import re
from datetime import timedelta

import pytest
import time_machine

from anshin import rules
from anshin.core import clock
from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.jobs import services as jobs
from anshin.jobs.models import Application, Job
from anshin.messaging.models import Message, Receipt, Thread
from anshin.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def snapshot() -> dict:
    return {
        "jobs": sorted(Job.objects.values_list("pk", "state", "title", "budget_max", "updated_at")),
        "applications": sorted(Application.objects.values_list("pk", "state", "decline_reason")),
        "audit": AuditEvent.objects.count(),
        "threads": Thread.objects.count(),
        "messages": Message.objects.count(),
        "receipts": Receipt.objects.count(),
        "notifications": Notification.objects.count(),
    }


def assert_refused(call, code: str | None = None, error=DomainError) -> DomainError:
    before = snapshot()
    with pytest.raises(error) as refused:
        call()
    assert JAPANESE.search(refused.value.message), refused.value.message
    if code:
        assert refused.value.code == code
    assert snapshot() == before
    return refused.value


def job_data(**over):
    today = clock.today()
    data = dict(title="ロゴデザインの依頼", description="新店舗のロゴを作成してください。", category="design",
                budget_max=50_000, application_deadline=today + timedelta(days=7))
    data.update(over)
    return data


def audits(obj, **filters):
    return AuditEvent.objects.filter(subject_id=obj.pk, subject_type__model=type(obj).__name__.lower(), **filters)


# --- jobs ----------------------------------------------------------------------------------------------------

def test_posting_a_job_opens_it_and_audits(client_user):
    job = jobs.job_create(user=client_user, **job_data(budget_min=30_000))
    assert job.state == "open"
    assert job.budget_label == "¥30,000 〜 ¥50,000"
    assert audits(job, action="post", to_state="open", actor=client_user).count() == 1


TODAY = object()  # placeholders resolved inside the test, where the clock is known
YESTERDAY = object()


@pytest.mark.parametrize(("over", "code"), [
    ({"title": ""}, "invalid"),
    ({"title": "   "}, "invalid"),
    ({"description": ""}, "invalid"),
    ({"category": "weapons"}, "invalid"),
    ({"category": None}, "invalid"),
    ({"budget_max": None}, "invalid_amount"),
    ({"budget_max": -50_000}, "invalid_amount"),
    ({"budget_max": 0}, "invalid_amount"),
    ({"budget_max": rules.MAX_AMOUNT + 1}, "invalid_amount"),
    ({"budget_max": 10**15}, "invalid_amount"),
    ({"budget_max": 50_000.5}, "invalid_amount"),
    ({"budget_max": "50000"}, "invalid_amount"),
    ({"budget_max": True}, "invalid_amount"),
    ({"budget_min": -1}, "invalid_amount"),
    ({"budget_min": 60_000}, "invalid_amount"),  # above the maximum
    ({"application_deadline": YESTERDAY}, "invalid_date"),
    ({"application_deadline": None}, "invalid_date"),
    ({"application_deadline": "2026-12-01"}, "invalid_date"),
    ({"delivery_date": TODAY}, "invalid_date"),  # before the application deadline
    ({"hires": 0}, "invalid"),
    ({"hires": 101}, "invalid"),
    ({"hires": "3"}, "invalid"),
])
def test_posting_a_job_with_bad_input_is_refused_and_changes_nothing(client_user, over, code):
    today = clock.today()
    over = {k: today if v is TODAY else today - timedelta(days=1) if v is YESTERDAY else v for k, v in over.items()}
    assert_refused(lambda: jobs.job_create(user=client_user, **job_data(**over)), code=code)
    assert not Job.objects.exists()


def test_only_the_owner_can_edit_a_job(client_user, stranger, worker):
    job = jobs.job_create(user=client_user, **job_data())
    for user in (stranger, worker):
        assert_refused(lambda user=user: jobs.job_update(job_id=job.pk, user=user, title="乗っ取り"), error=NotFound)
    assert_refused(lambda: jobs.job_update(job_id=job.pk, user=client_user, budget_max=-1), code="invalid_amount")
    updated = jobs.job_update(job_id=job.pk, user=client_user, title="ロゴと名刺のデザイン")
    assert updated.title == "ロゴと名刺のデザイン"
    assert audits(job, action="edit").get().payload == {"fields": ["title"]}


def test_close_and_reopen_follow_the_flow(client_user, stranger):
    job = jobs.job_create(user=client_user, **job_data())
    assert_refused(lambda: jobs.job_transition(job_id=job.pk, user=client_user, action="reopen"), code="not_allowed")
    assert_refused(lambda: jobs.job_transition(job_id=job.pk, user=stranger, action="close"), error=NotFound)
    assert_refused(lambda: jobs.job_transition(job_id=job.pk, user=client_user, action="explode"),
                   code="unknown_action")
    assert jobs.job_transition(job_id=job.pk, user=client_user, action="close").state == "closed"
    assert audits(job, action="close", from_state="open", to_state="closed").count() == 1
    assert jobs.job_transition(job_id=job.pk, user=client_user, action="reopen").state == "open"


# --- applying ------------------------------------------------------------------------------------------------

def apply(job, user, **over):
    data = dict(message="ぜひお手伝いさせてください。", amount=45_000,
                estimated_date=clock.today() + timedelta(days=10))
    data.update(over)
    return jobs.application_create(job_id=job.pk, user=user, **data)


def test_applying_opens_a_thread_with_the_application_as_first_message(client_user, worker):
    job = factories.job(client_user)
    app = apply(job, worker)
    assert app.state == "applied"
    assert audits(app, action="apply", to_state="applied", actor=worker).count() == 1
    message = app.thread.messages.get()
    assert message.sender == worker
    assert "ぜひお手伝いさせてください。" in message.body
    assert "¥45,000" in message.body
    assert list(message.receipts.values_list("user_id", flat=True)) == [client_user.pk]
    assert set(app.thread.members.values_list("user_id", flat=True)) == {client_user.pk, worker.pk}


def test_applying_twice_to_the_same_job_is_refused(client_user, worker):
    job = factories.job(client_user)
    apply(job, worker)
    error = assert_refused(lambda: apply(job, worker, message="もう一度応募します"), code="duplicate")
    assert error.status == 409
    assert Application.objects.filter(job=job, worker=worker).count() == 1


def test_applying_again_after_withdrawing_is_still_a_duplicate(client_user, worker):
    job = factories.job(client_user)
    app = apply(job, worker)
    jobs.application_transition(application_id=app.pk, user=worker, action="withdraw")
    assert_refused(lambda: apply(job, worker), code="duplicate")


def test_nobody_can_apply_to_their_own_job(client_user):
    job = factories.job(client_user)
    assert_refused(lambda: apply(job, client_user), code="own_job")


def test_a_closed_job_takes_no_applications(client_user, worker):
    job = factories.job(client_user)
    jobs.job_transition(job_id=job.pk, user=client_user, action="close")
    assert_refused(lambda: apply(job, worker), code="closed")


def test_a_job_past_its_application_deadline_takes_no_applications(client_user, worker):
    job = factories.job(client_user, application_deadline=clock.today() + timedelta(days=1))
    with time_machine.travel(clock.now() + timedelta(days=3)):
        assert_refused(lambda: apply(job, worker, estimated_date=clock.today() + timedelta(days=5)),
                       code="closed")


def test_applying_to_a_missing_job_is_404(worker):
    with pytest.raises(NotFound):
        jobs.application_create(job_id=999_999, user=worker, message="応募します", amount=10_000,
                                estimated_date=clock.today())


@pytest.mark.parametrize(("over", "code"), [
    ({"message": ""}, "invalid"),
    ({"message": " \n "}, "invalid"),
    ({"message": "あ" * 5_001}, "too_long"),
    ({"amount": -45_000}, "invalid_amount"),
    ({"amount": 0}, "invalid_amount"),
    ({"amount": rules.MIN_AMOUNT - 1}, "invalid_amount"),
    ({"amount": rules.MAX_AMOUNT + 1}, "invalid_amount"),
    ({"amount": 10**20}, "invalid_amount"),
    ({"amount": 45_000.0}, "invalid_amount"),
    ({"amount": "45000"}, "invalid_amount"),
    ({"amount": None}, "invalid_amount"),
    ({"estimated_date": None}, "invalid_date"),
    ({"estimated_date": "2030-01-01"}, "invalid_date"),
])
def test_applying_with_bad_input_is_refused_and_changes_nothing(client_user, worker, over, code):
    job = factories.job(client_user)
    assert_refused(lambda: apply(job, worker, **over), code=code)


def test_applying_with_a_past_estimated_date_is_refused(client_user, worker):
    job = factories.job(client_user)
    assert_refused(lambda: apply(job, worker, estimated_date=clock.today() - timedelta(days=1)),
                   code="invalid_date")


# --- application transitions -----------------------------------------------------------------------------

def test_client_shortlists_and_declines_with_a_templated_reason(client_user, worker):
    app = factories.application(client_user, worker)
    jobs.application_transition(application_id=app.pk, user=client_user, action="shortlist")
    assert audits(app, action="shortlist", from_state="applied", to_state="shortlisted").count() == 1
    assert_refused(lambda: jobs.application_transition(application_id=app.pk, user=client_user, action="decline"),
                   code="invalid")
    assert_refused(lambda: jobs.application_transition(application_id=app.pk, user=client_user, action="decline",
                                                       reason="ugly"), code="invalid")
    app = jobs.application_transition(application_id=app.pk, user=client_user, action="decline", reason="budget")
    assert app.state == "declined"
    assert app.decline_reason == "budget"
    assert audits(app, action="decline").get().payload == {"reason": "budget"}
    last = app.thread.messages.order_by("-id").first()
    assert last.kind == Message.Kind.SYSTEM
    assert "ご提案の金額が予算と合いませんでした" in last.body
    assert Notification.objects.filter(user=worker, kind="application.declined").count() == 1
    # declined is final for these moves
    for action in ("shortlist", "decline", "withdraw"):
        actor = worker if action == "withdraw" else client_user
        assert_refused(lambda action=action, actor=actor: jobs.application_transition(
            application_id=app.pk, user=actor, action=action, reason="filled"), code="not_allowed")


def test_worker_withdraws_and_it_is_told_in_the_thread(client_user, worker):
    app = factories.application(client_user, worker)
    app = jobs.application_transition(application_id=app.pk, user=worker, action="withdraw")
    assert app.state == "withdrawn"
    assert audits(app, action="withdraw", actor=worker, to_state="withdrawn").count() == 1
    assert "辞退" in app.thread.messages.order_by("-id").first().body


@pytest.mark.parametrize(("role", "action"), [
    ("worker", "shortlist"), ("worker", "decline"), ("worker", "unshortlist"), ("client", "withdraw"),
    ("client", "unshortlist"),
])
def test_the_wrong_party_cannot_move_an_application(client_user, worker, role, action):
    app = factories.application(client_user, worker)
    user = worker if role == "worker" else client_user
    assert_refused(lambda: jobs.application_transition(application_id=app.pk, user=user, action=action,
                                                       reason="filled"), code="not_allowed")


@pytest.mark.parametrize("action", ["shortlist", "unshortlist", "decline", "withdraw", "offer"])
def test_a_non_party_gets_404_on_application_transitions(client_user, worker, stranger, action):
    app = factories.application(client_user, worker)
    if action == "offer":  # refused before the lookup: offers go through the contract service
        assert_refused(lambda: jobs.application_transition(application_id=app.pk, user=stranger, action=action),
                       code="not_allowed")
        return
    assert_refused(lambda: jobs.application_transition(application_id=app.pk, user=stranger, action=action,
                                                       reason="filled"), error=NotFound)


def test_offer_is_not_an_application_transition(client_user, worker):
    app = factories.application(client_user, worker)
    assert_refused(lambda: jobs.application_transition(application_id=app.pk, user=client_user, action="offer"),
                   code="not_allowed")


def test_missing_application_is_404(client_user):
    with pytest.raises(NotFound):
        jobs.application_transition(application_id=999_999, user=client_user, action="shortlist")


def test_an_operator_can_decline_for_the_client(client_user, worker, operator):
    app = factories.application(client_user, worker)
    jobs.application_transition(application_id=app.pk, user=operator, action="decline", reason="filled")
    assert audits(app, action="decline").get().actor_role == "operator"
