"""Reports (通報): a user, a message, a job or a listing; the operators' REPORT queue gets an item concerning
the reported user, due in 2 business days; the reporter is told it was received, the reported user never."""

import pytest

from anshin import rules
from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.messaging.models import Message
from anshin.notifications.models import Notification
from anshin.ops.models import QueueItem
from anshin.ops.services import ops_due
from anshin.trust import reports
from anshin.trust.models import Report
from tests import factories

pytestmark = pytest.mark.django_db


def _report(user, kind, subject_id, **over):
    data = {"category": "off_platform", "text": "LINEで直接やりとりしようと言われました。"}
    data.update(over)
    return reports.report_create(user=user, subject_kind=kind, subject_id=subject_id, **data)


def _subjects(client_user, worker):
    """(kind, id, reporter, reported user) for every kind of subject."""
    job = factories.job(client_user)
    application = factories.application(client_user, worker, job=job)
    message = Message.objects.filter(thread=application.thread, sender=worker).first()
    listing = factories.listing(worker)
    return [
        ("user", worker.pk, client_user, worker),
        ("message", message.pk, client_user, worker),
        ("job", job.pk, worker, client_user),
        ("listing", listing.pk, client_user, worker),
    ]


def test_each_kind_opens_a_queue_item_concerning_the_reported_user(client_user, worker):
    for kind, subject_id, reporter, reported in _subjects(client_user, worker):
        report = _report(reporter, kind, subject_id, category="scam")
        assert report.reported_user == reported and report.reporter == reporter and report.state == "open"
        item = QueueItem.objects.get(kind=QueueItem.Kind.REPORT, subject_id=report.pk)
        assert item.subject_type.model_class() is Report and item.concerns == reported and item.state == "open"
        assert item.due_at == ops_due(report.created_at)
        assert "詐欺・不審な勧誘" in item.summary
        assert item.payload["subject_kind"] == kind and item.payload["subject_id"] == subject_id
        assert AuditEvent.objects.filter(action="report", actor=reporter, subject_id=report.pk).exists()
    assert Report.objects.count() == QueueItem.objects.filter(kind="report").count() == 4


def test_reporter_is_told_and_reported_user_is_not(client_user, worker):
    _report(client_user, "user", worker.pk)
    received = Notification.objects.get(user=client_user, kind="report.received")
    assert received.title == "通報を受け付けました。事務局が確認します。"
    assert not Notification.objects.filter(user=worker, kind__startswith="report").exists()
    assert not Notification.objects.filter(user=worker, body__contains="通報").exists()


def test_a_stranger_cannot_report_a_message_of_a_thread_they_are_not_in(client_user, worker, stranger):
    application = factories.application(client_user, worker)
    message = Message.objects.filter(thread=application.thread, sender=worker).first()
    with pytest.raises(NotFound):
        _report(stranger, "message", message.pk)
    with pytest.raises(NotFound):
        _report(client_user, "message", 987654)
    assert not Report.objects.exists() and not QueueItem.objects.exists()


def test_system_messages_and_oneself_cannot_be_reported(client_user, worker):
    application = factories.application(client_user, worker)
    from anshin.messaging.services import message_post_system

    system = message_post_system(thread=application.thread, body="お知らせ")
    with pytest.raises(DomainError) as caught:
        _report(client_user, "message", system.pk)
    assert caught.value.code == "not_reportable"
    own = Message.objects.filter(thread=application.thread, sender=worker).first()
    for kind, subject_id in (("user", worker.pk), ("message", own.pk)):
        with pytest.raises(DomainError) as caught:
            _report(worker, kind, subject_id)
        assert caught.value.code == "own"
    with pytest.raises(DomainError) as caught:
        _report(client_user, "job", application.job_id)
    assert caught.value.code == "own"
    assert not Report.objects.exists()


def test_text_and_category_are_required(client_user, worker):
    too_long = "あ" * (rules.REPORT_TEXT_MAX_LENGTH + 1)
    for over, code in (({"text": "   "}, "text_required"), ({"text": too_long}, "too_long"),
                       ({"category": "nonsense"}, "invalid_category")):
        with pytest.raises(DomainError) as caught:
            _report(client_user, "user", worker.pk, **over)
        assert caught.value.code == code
    assert not Report.objects.exists()
    with pytest.raises(DomainError):
        reports.report_create(user=client_user, subject_kind="contract", subject_id=1, category="scam", text="x")


def test_unknown_subjects_and_paused_listings_of_others_are_not_found(client_user, worker):
    from anshin.orders import services as orders

    listing = factories.listing(worker)
    orders.listing_transition(listing_id=listing.pk, user=worker, action="pause")
    for kind, subject_id in (("user", 987654), ("job", 987654), ("listing", 987654), ("listing", listing.pk)):
        with pytest.raises(NotFound):
            _report(client_user, kind, subject_id)


def test_the_same_open_report_twice_is_refused(client_user, worker):
    _report(client_user, "user", worker.pk)
    with pytest.raises(DomainError) as caught:
        _report(client_user, "user", worker.pk, text="もう一度")
    assert caught.value.code == "duplicate" and caught.value.status == 409
    assert Report.objects.count() == 1


def test_an_operator_closes_a_report_with_a_note(client_user, worker, operator):
    report = _report(client_user, "user", worker.pk)
    with pytest.raises(NotFound):
        reports.report_close(report_id=report.pk, operator=client_user, note="確認")
    with pytest.raises(DomainError) as caught:
        reports.report_close(report_id=report.pk, operator=operator, note=" ")
    assert caught.value.code == "note_required"
    reports.report_close(report_id=report.pk, operator=operator, note="警告で対応")
    report.refresh_from_db()
    assert report.state == "closed"
    item = QueueItem.objects.get(kind="report", subject_id=report.pk)
    assert item.state == "closed" and item.closed_by == operator and item.note == "警告で対応"
    event = AuditEvent.objects.get(action="report_close", subject_id=report.pk)
    assert event.actor == operator and event.payload["note"] == "警告で対応"
