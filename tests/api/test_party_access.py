"""Access is by party: every party-only endpoint answers 404 JSON to a logged-in non-party (token auth), the
same answer as for an id that does not exist, and nothing changes."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from anshin.contracts.models import Contract, Delivery
from anshin.core import clock
from anshin.core.models import AuditEvent
from anshin.jobs.models import Application, Job
from anshin.ledger.models import JournalEntry
from anshin.messaging.models import Attachment, Message, Receipt
from anshin.notifications.models import Notification
from tests import factories


def _future(days=20):
    return str(clock.today() + timedelta(days=days))


# (method, url template, body). Placeholders: {job} {application} {contract} {thread}.
PARTY_ONLY = [
    ("get", "/api/jobs/{job}/applications", None),
    ("patch", "/api/jobs/{job}", {"title": "乗っ取り"}),
    ("post", "/api/jobs/{job}/actions/close", None),
    ("get", "/api/applications/{application}", None),
    ("post", "/api/applications/{application}/actions/shortlist", None),
    ("post", "/api/applications/{application}/actions/decline", {"reason": "budget"}),
    ("post", "/api/applications/{application}/actions/withdraw", None),
    ("post", "/api/applications/{application}/offer", {"amount": 30_000, "delivery_date": _future()}),
    ("get", "/api/contracts/{contract}", None),
    ("get", "/api/contracts/{contract}/timeline", None),
    ("post", "/api/contracts/{contract}/actions/accept_offer", None),
    ("post", "/api/contracts/{contract}/actions/decline_offer", None),
    ("post", "/api/contracts/{contract}/actions/withdraw_offer", None),
    ("post", "/api/contracts/{contract}/actions/cancel", None),
    ("post", "/api/contracts/{contract}/actions/fund", {"card_token": "tok_visa"}),
    ("post", "/api/contracts/{contract}/actions/deliver", {"body": "横取り納品", "links": []}),
    ("post", "/api/contracts/{contract}/actions/request_revision", {"reason": "やり直し"}),
    ("post", "/api/contracts/{contract}/actions/accept", None),
    ("multipart", "/api/contracts/{contract}/deliveries", "file"),
    ("get", "/api/threads/{thread}/messages", None),
    ("post", "/api/threads/{thread}/messages", "file"),
    ("post", "/api/threads/{thread}/read", None),
    ("post", "/api/notifications/{notification}/read", None),
]


@pytest.fixture
def world(client_user, worker):
    """An open application with its thread; for contract URLs, a contract in each state a party could act on."""

    def build(template: str):
        application = factories.application(client_user, worker)
        contracts = {}
        if "{contract}" in template:
            contracts = {state: factories.contract(client_user, worker, state=state)
                         for state in ("offered", "awaiting_funding", "funded", "delivered")}
        return application, contracts

    return build


def snapshot():
    return {
        "contracts": list(Contract.objects.order_by("pk").values_list("pk", "state", "due_at")),
        "applications": list(Application.objects.order_by("pk").values_list("pk", "state")),
        "jobs": list(Job.objects.order_by("pk").values_list("pk", "state", "title", "updated_at")),
        "entries": JournalEntry.objects.count(),
        "audit": AuditEvent.objects.count(),
        "messages": Message.objects.count(),
        "unread": Receipt.objects.filter(read_at__isnull=True).count(),
        "deliveries": Delivery.objects.count(),
        "attachments": Attachment.objects.count(),
        "notifications": Notification.objects.count(),
    }


def _call(api, method, url, body):
    if body == "file":
        data = {"body": "部外者からのメッセージ", "files": [SimpleUploadedFile("a.txt", b"hello", "text/plain")]}
        return api.multipart(url, data)
    if method == "get":
        return api.get(url)
    return getattr(api, method)(url, body)


def _urls(template, application, contracts):
    """The URL for every contract state where the template is about a contract (so each action meets a
    state where a party could take it), else once."""
    notification = Notification.objects.filter(user=application.job.client).first()
    ids = {"job": application.job_id, "application": application.pk, "thread": application.thread.pk,
           "notification": notification.pk}
    if "{contract}" in template:
        return [template.format(contract=c.pk, **ids) for c in contracts.values()]
    return [template.format(contract=0, **ids)]


@pytest.mark.parametrize(("method", "template", "body"), PARTY_ONLY, ids=[f"{m} {t}" for m, t, _ in PARTY_ONLY])
def test_stranger_gets_404_and_nothing_changes(method, template, body, world, stranger, api_as):
    application, contracts = world(template)
    api = api_as(stranger)
    before = snapshot()
    for url in _urls(template, application, contracts):
        status, response = _call(api, method, url, body)
        assert status == 404, (url, response)
        assert response["code"] == "not_found" and response["message"] == "見つかりません。"
    assert snapshot() == before


@pytest.mark.parametrize(("method", "template", "body"), PARTY_ONLY, ids=[f"{m} {t}" for m, t, _ in PARTY_ONLY])
def test_unknown_ids_get_the_same_404(method, template, body, stranger, api_as):
    url = template.format(job=987654, application=987654, contract=987654, thread=987654, notification=987654)
    status, response = _call(api_as(stranger), method, url, body)
    assert status == 404 and response == {"code": "not_found", "message": "見つかりません。"}


@pytest.mark.parametrize(("method", "template", "body"), [
    ("get", "/api/jobs/{job}/applications", None),
    ("patch", "/api/jobs/{job}", {"title": "乗っ取り"}),
    ("post", "/api/jobs/{job}/actions/close", None),
    ("post", "/api/applications/{application}/offer", {"amount": 30_000, "delivery_date": _future()}),
])
def test_client_only_endpoints_are_404_for_the_applicant(method, template, body, world, worker, api_as):
    application, contracts = world(template)
    before = snapshot()
    status, response = _call(api_as(worker), method, _urls(template, application, contracts)[0], body)
    assert status == 404 and response["code"] == "not_found"
    assert snapshot() == before


def test_lists_show_a_stranger_nothing_of_others(world, stranger, api_as):
    world("{contract}")
    api = api_as(stranger)
    assert api.get("/api/contracts")[1]["items"] == []
    assert api.get("/api/applications")[1]["items"] == []
    assert api.get("/api/threads")[1] == []
    assert api.get("/api/me/balance")[1] == {"balance": 0, "postings": []}
