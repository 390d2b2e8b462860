"""Bad input changes nothing and gets a 4xx JSON `{"code", "message"}` with a Japanese message — never a 500."""

import json
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from anshin import rules
from anshin.contracts.models import Contract, Delivery
from anshin.core import clock
from anshin.core.models import AuditEvent
from anshin.jobs.models import Application, Job
from anshin.ledger.models import JournalEntry
from anshin.messaging.models import Attachment, Message
from tests import factories

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def day(offset: int) -> str:
    return str(clock.today() + timedelta(days=offset))


def counts():
    return {model.__name__: model.objects.count()
            for model in (Job, Application, Contract, Delivery, JournalEntry, AuditEvent, Message, Attachment)}


def assert_refused(result, status, code):
    got_status, body = result
    assert got_status == status, body
    assert set(body) >= {"code", "message"}, body
    assert body["code"] == code, body
    assert JAPANESE.search(body["message"]), body


@pytest.fixture
def unchanged(db):
    """Asserts at the end of the test that no row was written or state changed."""
    before = counts()
    states = list(Contract.objects.order_by("pk").values_list("state", flat=True))
    yield
    assert counts() == before
    assert list(Contract.objects.order_by("pk").values_list("state", flat=True)) == states


def valid_job(**over):
    data = {"title": "ロゴ制作", "description": "会社のロゴを作ってください。", "category": "design",
            "budget_max": 50_000, "application_deadline": day(7)}
    data.update(over)
    return data


JOB_CASES = [
    ("missing title", {k: v for k, v in valid_job().items() if k != "title"}, 422, "invalid"),
    ("missing everything", {}, 422, "invalid"),
    ("negative budget", valid_job(budget_max=-5), 400, "invalid_amount"),
    ("zero budget", valid_job(budget_max=0), 400, "invalid_amount"),
    ("huge budget", valid_job(budget_max=10**15), 400, "invalid_amount"),
    ("absurd budget", valid_job(budget_max=10**40), 400, "invalid_amount"),
    ("string budget", valid_job(budget_max="abc"), 422, "invalid"),
    ("numeric string budget", valid_job(budget_max="50000"), 422, "invalid"),
    ("fractional budget", valid_job(budget_max=50000.5), 422, "invalid"),
    ("boolean budget", valid_job(budget_max=True), 422, "invalid"),
    ("min above max", valid_job(budget_min=60_000), 400, "invalid_amount"),
    ("past deadline", valid_job(application_deadline=day(-1)), 400, "invalid_date"),
    ("not a date", valid_job(application_deadline="来週"), 422, "invalid"),
    ("delivery before deadline", valid_job(delivery_date=day(3)), 400, "invalid_date"),
    ("title too long", valid_job(title="長" * 101), 422, "invalid"),
    ("unknown category", valid_job(category="gambling"), 422, "invalid"),
    ("blank title", valid_job(title="   "), 400, "invalid"),
    ("zero hires", valid_job(hires=0), 400, "invalid"),
]


@pytest.mark.parametrize(("case", "payload", "status", "code"), JOB_CASES, ids=[c[0] for c in JOB_CASES])
def test_bad_job_is_refused(case, payload, status, code, client_user, api_as, unchanged):
    assert_refused(api_as(client_user).post("/api/jobs", payload), status, code)


def test_validation_message_names_the_fields_in_japanese(client_user, api_as, unchanged):
    status, body = api_as(client_user).post("/api/jobs", {"title": "ロゴ", "budget_max": "abc"})
    assert status == 422
    assert "仕事の詳細（description）を入力してください" in body["message"]
    assert "予算（上限）（budget_max）は整数で入力してください" in body["message"]
    assert {e["field"] for e in body["errors"]} >= {"description", "budget_max", "category", "application_deadline"}


def test_patch_with_bad_values_changes_nothing(client_user, api_as):
    job = factories.job(client_user)
    api = api_as(client_user)
    before = counts()
    assert_refused(api.patch(f"/api/jobs/{job.pk}", {"budget_max": -1}), 400, "invalid_amount")
    assert_refused(api.patch(f"/api/jobs/{job.pk}", {"title": None}), 400, "invalid")
    assert_refused(api.patch(f"/api/jobs/{job.pk}", {"application_deadline": day(-3)}), 400, "invalid_date")
    job.refresh_from_db()
    assert job.title == "記事に写真を挿入する業務" and job.budget_max == 30_000
    assert counts() == before


APPLICATION_CASES = [
    ("missing amount", {"message": "はい", "estimated_date": day(5)}, 422, "invalid"),
    ("negative amount", {"message": "はい", "amount": -1000, "estimated_date": day(5)}, 400, "invalid_amount"),
    ("huge amount", {"message": "はい", "amount": 10**12, "estimated_date": day(5)}, 400, "invalid_amount"),
    ("string amount", {"message": "はい", "amount": "三万円", "estimated_date": day(5)}, 422, "invalid"),
    ("past date", {"message": "はい", "amount": 30_000, "estimated_date": day(-1)}, 400, "invalid_date"),
    ("empty message", {"message": "  ", "amount": 30_000, "estimated_date": day(5)}, 400, "invalid"),
    ("message too long", {"message": "あ" * 5001, "amount": 30_000, "estimated_date": day(5)}, 422, "invalid"),
]


@pytest.mark.parametrize(("case", "payload", "status", "code"), APPLICATION_CASES,
                         ids=[c[0] for c in APPLICATION_CASES])
def test_bad_application_is_refused(case, payload, status, code, client_user, worker, api_as):
    job = factories.job(client_user)
    before = counts()
    assert_refused(api_as(worker).post(f"/api/jobs/{job.pk}/applications", payload), status, code)
    assert counts() == before


def test_applying_twice_or_to_own_job_is_refused(client_user, worker, api_as):
    application = factories.application(client_user, worker)
    payload = {"message": "もう一度", "amount": 30_000, "estimated_date": day(5)}
    before = counts()
    assert_refused(api_as(worker).post(f"/api/jobs/{application.job_id}/applications", payload), 409, "duplicate")
    assert_refused(api_as(client_user).post(f"/api/jobs/{application.job_id}/applications", payload), 400, "own_job")
    assert counts() == before


OFFER_CASES = [
    ("negative", {"amount": -30_000, "delivery_date": day(10)}, 400, "invalid_amount"),
    ("below minimum", {"amount": 999, "delivery_date": day(10)}, 400, "invalid_amount"),
    ("huge", {"amount": rules.MAX_AMOUNT + 1, "delivery_date": day(10)}, 400, "invalid_amount"),
    ("string", {"amount": "30000", "delivery_date": day(10)}, 422, "invalid"),
    ("past date", {"amount": 30_000, "delivery_date": day(-1)}, 400, "invalid_date"),
    ("missing date", {"amount": 30_000}, 422, "invalid"),
]


@pytest.mark.parametrize(("case", "payload", "status", "code"), OFFER_CASES, ids=[c[0] for c in OFFER_CASES])
def test_bad_offer_is_refused(case, payload, status, code, client_user, worker, api_as):
    application = factories.application(client_user, worker)
    before = counts()
    assert_refused(api_as(client_user).post(f"/api/applications/{application.pk}/offer", payload), status, code)
    assert counts() == before
    application.refresh_from_db()
    assert application.state == "applied"


def test_wrong_state_unknown_action_and_missing_input(client_user, worker, api_as):
    contract = factories.contract(client_user, worker, state="awaiting_funding")
    client, hired = api_as(client_user), api_as(worker)
    url = f"/api/contracts/{contract.pk}/actions"
    before = counts()
    assert_refused(client.post(f"{url}/accept"), 400, "not_allowed")  # nothing delivered yet
    assert_refused(hired.post(f"{url}/fund", {"card_token": "tok_visa"}), 400, "not_allowed")  # only the client funds
    assert_refused(hired.post(f"{url}/deliver", {"body": "先に納品"}), 400, "not_allowed")  # not funded yet
    assert_refused(client.post(f"{url}/explode"), 400, "unknown_action")
    assert_refused(client.post(f"{url}/deem_accept"), 400, "unknown_action")  # the clock's move, not a person's
    assert_refused(client.post(f"{url}/fund"), 400, "invalid")  # no card token
    assert_refused(client.post(f"{url}/fund", {"card_token": "tok_decline"}), 402, "payment_declined")
    assert counts() == before
    contract.refresh_from_db()
    assert contract.state == "awaiting_funding"


def test_bad_delivery_changes_nothing(client_user, worker, api_as, monkeypatch):
    contract = factories.contract(client_user, worker, state="funded")
    hired = api_as(worker)
    url = f"/api/contracts/{contract.pk}"
    before = counts()
    assert_refused(hired.post(f"{url}/actions/deliver", {"body": ""}), 400, "empty")
    assert_refused(hired.post(f"{url}/actions/deliver", {"body": "納品", "links": ["ftp://x"]}), 400, "invalid_link")
    assert_refused(hired.post(f"{url}/actions/deliver", {"body": "あ" * (rules.MESSAGE_MAX_LENGTH + 1)}), 422,
                   "invalid")
    monkeypatch.setattr(rules, "ATTACHMENT_MAX_BYTES", 1024)
    big = SimpleUploadedFile("大きい.pdf", b"%" * 2048, content_type="application/pdf")
    assert_refused(hired.multipart(f"{url}/deliveries", {"body": "納品", "files": [big]}), 400, "file_too_large")
    exe = SimpleUploadedFile("virus.exe", b"MZ", content_type="application/octet-stream")
    assert_refused(hired.multipart(f"{url}/deliveries", {"body": "納品", "files": [exe]}), 400, "file_type")
    many = [SimpleUploadedFile(f"{i}.txt", b"x", content_type="text/plain")
            for i in range(rules.ATTACHMENT_MAX_FILES + 1)]
    assert_refused(hired.multipart(f"{url}/deliveries", {"body": "納品", "files": many}), 400, "too_many_files")
    assert counts() == before
    contract.refresh_from_db()
    assert contract.state == "funded"


def test_bad_messages_change_nothing(client_user, worker, api_as, monkeypatch):
    application = factories.application(client_user, worker)
    url = f"/api/threads/{application.thread.pk}/messages"
    api = api_as(worker)
    before = counts()
    assert_refused(api.multipart(url, {"body": "  "}), 400, "empty")
    assert_refused(api.multipart(url, {"body": "あ" * (rules.MESSAGE_MAX_LENGTH + 1)}), 400, "too_long")
    monkeypatch.setattr(rules, "ATTACHMENT_MAX_BYTES", 1024)
    big = SimpleUploadedFile("資料.zip", b"0" * 4096, content_type="application/zip")
    assert_refused(api.multipart(url, {"body": "資料です", "files": [big]}), 400, "file_too_large")
    empty = SimpleUploadedFile("空.txt", b"", content_type="text/plain")
    assert_refused(api.multipart(url, {"body": "資料です", "files": [empty]}), 400, "file_empty")
    assert counts() == before


def test_application_actions_bad_input(client_user, worker, api_as):
    application = factories.application(client_user, worker)
    url = f"/api/applications/{application.pk}/actions"
    client = api_as(client_user)
    before = counts()
    assert_refused(client.post(f"{url}/decline"), 400, "invalid")  # a reason is required
    assert_refused(client.post(f"{url}/decline", {"reason": "気分"}), 422, "invalid")
    assert_refused(client.post(f"{url}/explode"), 400, "unknown_action")
    assert_refused(client.post(f"{url}/withdraw"), 400, "not_allowed")  # only the worker withdraws
    assert_refused(client.post(f"{url}/offer"), 400, "not_allowed")  # offers go through …/offer with terms
    assert_refused(api_as(client_user).post(f"/api/jobs/{application.job_id}/actions/explode"), 400, "unknown_action")
    assert_refused(api_as(client_user).post(f"/api/jobs/{application.job_id}/actions/reopen"), 400, "not_allowed")
    assert counts() == before


@pytest.mark.parametrize("url", [
    "/api/jobs/abc", "/api/jobs/0", "/api/jobs/99999999999999999999999", "/api/contracts/-1",
    "/api/threads/1.5/messages", "/api/applications/%E5%BF%9C",
])
def test_malformed_ids_are_422_json(url, client_user, api_as):
    assert_refused(api_as(client_user).get(url), 422, "invalid")


@pytest.mark.parametrize("params", [
    {"budget_min": "-1"}, {"budget_max": "10000000000000000000000"}, {"budget_min": "たくさん"},
    {"limit": "1000"}, {"offset": "-5"}, {"sort": "random"}, {"category": "gambling"}, {"q": "あ" * 201},
])
def test_bad_search_parameters_are_422_json(params, client_user, api_as):
    assert_refused(api_as(client_user).get("/api/jobs", **params), 422, "invalid")


def test_unparsable_json_and_unknown_paths(client_user, api_as):
    api = api_as(client_user)
    raw = api.client.post("/api/jobs", "{not json", content_type="application/json")
    assert raw.status_code == 400
    assert json.loads(raw.content)["code"] == "bad_request"
    assert_refused(api.get("/api/no-such-thing"), 404, "not_found")
    assert_refused(api.post("/api/jobs/1/unknown"), 404, "not_found")
    assert Job.objects.count() == 0


def test_anonymous_gets_401_json_everywhere(db):
    for method, url in [("get", "/api/jobs"), ("post", "/api/jobs"), ("get", "/api/me"), ("get", "/api/threads"),
                        ("post", "/api/contracts/1/actions/accept"), ("get", "/api/contracts/1")]:
        response = getattr(Client(), method)(url)
        assert response.status_code == 401, url
        body = json.loads(response.content)
        assert body["code"] == "unauthenticated" and JAPANESE.search(body["message"])


def test_nul_characters_are_refused_not_a_server_error(client_user, worker, api_as):
    """PostgreSQL cannot store NUL in text; the API refuses it up front on every input channel."""
    application = factories.application(client_user, worker)
    api = api_as(client_user)
    before = counts()
    assert_refused(api.post("/api/jobs", valid_job(title="ロゴ\x00制作")), 400, "invalid")
    assert_refused(api.get("/api/jobs", q="ロゴ\x00"), 400, "invalid")
    assert_refused(api.multipart(f"/api/threads/{application.thread.pk}/messages", {"body": "こんにちは\x00"}), 400,
                   "invalid")
    assert counts() == before


@pytest.mark.parametrize(("method", "url"), [("delete", "/api/jobs/1"), ("get", "/api/tokens"),
                                             ("patch", "/api/contracts/1")])
def test_wrong_method_is_json(method, url, client_user, api_as):
    response = getattr(api_as(client_user).client, method)(url)
    assert 400 <= response.status_code < 500
    body = json.loads(response.content)
    assert body["code"] and JAPANESE.search(body["message"])
