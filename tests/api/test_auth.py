"""Token and session authentication; CSRF on the session path; the token endpoint respects the login throttle."""

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from anshin.accounts.models import ApiToken, Presence
from anshin.core import clock
from anshin.jobs.models import Job
from tests.api.conftest import PASSWORD, ApiClient, obtain_token


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def job_payload():
    return json.dumps({"title": "翻訳", "description": "英日翻訳をお願いします。", "category": "translation",
                       "budget_max": 20_000, "application_deadline": str(clock.today() + timedelta(days=5))})


def test_token_from_email_and_password_then_bearer_auth(worker):
    key = obtain_token(worker)
    assert ApiToken.objects.get(key=key).user == worker
    status, me = ApiClient(key).get("/api/me")
    assert status == 200
    assert me["email"] == worker.email and me["name"] == "山田花子" and me["unread_count"] == 0
    assert me["last_seen_at"]  # token use counts as access (最終アクセス)
    assert Presence.objects.filter(user=worker).exists()


def test_wrong_password_is_refused_and_throttled_like_the_login_form(worker):
    def attempt(password):
        response = Client().post("/api/tokens", json.dumps({"email": worker.email, "password": password}),
                                 content_type="application/json")
        return response.status_code, json.loads(response.content)

    for _ in range(5):
        status, body = attempt("wrong")
        assert status == 400 and body["code"] == "invalid_credentials"
    status, body = attempt("wrong")
    assert status == 429 and body["code"] == "too_many_attempts" and "時間をおいて" in body["message"]
    status, body = attempt(PASSWORD)  # even the right password waits out the throttle
    assert status == 429
    assert not ApiToken.objects.exists()


def test_unknown_or_revoked_token_is_401(worker):
    status, body = ApiClient("not-a-token").get("/api/me")
    assert status == 401 and body["code"] == "unauthenticated"
    key = obtain_token(worker)
    api = ApiClient(key)
    status, body = api.delete("/api/tokens/current")
    assert status == 200 and body == {"revoked": 1}
    status, body = api.get("/api/me")
    assert status == 401 and body["code"] == "unauthenticated"


def test_inactive_user_token_is_401(worker):
    key = obtain_token(worker)
    worker.is_active = False
    worker.save()
    assert ApiClient(key).get("/api/me")[0] == 401


def test_session_auth_reads_without_csrf_but_writes_need_it(client_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(client_user)
    assert browser.get("/api/me").status_code == 200

    refused = browser.post("/api/jobs", job_payload(), content_type="application/json")
    assert refused.status_code == 403
    assert json.loads(refused.content)["code"] == "csrf_failed"
    assert Job.objects.count() == 0

    token = _get_new_csrf_string()
    browser.cookies["csrftoken"] = token
    accepted = browser.post("/api/jobs", job_payload(), content_type="application/json", headers={"X-CSRFToken": token})
    assert accepted.status_code == 201, accepted.content
    assert Job.objects.get().client == client_user


def test_token_requests_need_no_csrf(client_user):
    api = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {obtain_token(client_user)}"})
    response = api.post("/api/jobs", job_payload(), content_type="application/json")
    assert response.status_code == 201, response.content


def test_anonymous_post_is_401_not_a_csrf_error(db):
    response = Client(enforce_csrf_checks=True).post("/api/jobs", job_payload(), content_type="application/json")
    assert response.status_code == 401
    assert json.loads(response.content)["code"] == "unauthenticated"
    assert Job.objects.count() == 0
