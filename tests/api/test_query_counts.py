"""List endpoints cost a fixed number of queries whatever the number of rows (5 vs 50)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from anshin.jobs import services as jobs
from anshin.messaging.services import message_send
from tests import factories

MAX_QUERIES = 8  # auth + the selector's few queries + pagination count


def queries(api, url, **params):
    with CaptureQueriesContext(connection) as ctx:
        status, body = api.get(url, **params)
    assert status == 200, body
    assert len(ctx.captured_queries) <= MAX_QUERIES, [q['sql'] for q in ctx.captured_queries]
    return len(ctx.captured_queries), body


@pytest.fixture
def inbox_world(client_user, make_user):
    """The client's job with `n` applicants: `n` threads, each with a counterpart and messages both ways."""
    job = factories.job(client_user)

    def grow(n):
        for _ in range(n):
            applicant = make_user(hide_last_access=False)
            application = factories.application(client_user, applicant, job=job)
            message_send(thread=application.thread, sender=client_user, body="ご応募ありがとうございます。")
        return job

    return grow


def test_inbox_query_count_does_not_grow(client_user, inbox_world, api_as):
    api = api_as(client_user)
    inbox_world(5)
    api.get("/api/me")  # first request of the token writes presence; measure steady state
    small, rows = queries(api, "/api/threads")
    assert len(rows) == 5
    inbox_world(45)
    large, rows = queries(api, "/api/threads")
    assert len(rows) == 50
    assert large == small


def test_job_applicants_query_count_does_not_grow(client_user, inbox_world, api_as):
    api = api_as(client_user)
    job = inbox_world(5)
    api.get("/api/me")
    small, rows = queries(api, f"/api/jobs/{job.pk}/applications")
    inbox_world(45)
    large, rows = queries(api, f"/api/jobs/{job.pk}/applications")
    assert len(rows) == 50 and large == small


def test_thread_messages_query_count_does_not_grow(client_user, worker, api_as):
    application = factories.application(client_user, worker)
    api = api_as(worker)
    api.get("/api/me")

    def add(n):
        for i in range(n):
            sender = client_user if i % 2 else worker
            message_send(thread=application.thread, sender=sender, body=f"メッセージ{i}")

    add(4)
    small, thread = queries(api, f"/api/threads/{application.thread.pk}/messages")
    assert len(thread["messages"]) == 5
    add(45)
    large, thread = queries(api, f"/api/threads/{application.thread.pk}/messages")
    assert len(thread["messages"]) == 50 and large == small


def test_job_list_query_count_does_not_grow(client_user, worker, make_user, api_as):
    api = api_as(worker)
    api.get("/api/me")

    def post(n):
        for i in range(n):
            job = factories.job(make_user(), title=f"データ入力 {i}")
            if i % 3 == 0:
                jobs.application_create(job_id=job.pk, user=worker, message="応募します", amount=30_000,
                                        estimated_date=job.application_deadline)

    post(5)
    small, page = queries(api, "/api/jobs", limit=100)
    assert page["count"] == 5 and len(page["items"]) == 5
    post(45)
    large, page = queries(api, "/api/jobs", limit=100)
    assert page["count"] == 50 and len(page["items"]) == 50
    assert large == small


def test_contract_and_application_lists_query_count_does_not_grow(client_user, worker, api_as):
    api = api_as(worker)
    api.get("/api/me")
    for _ in range(5):
        factories.contract(client_user, worker)
    small_contracts, page = queries(api, "/api/contracts", limit=100)
    small_applications, mine = queries(api, "/api/applications", limit=100)
    assert page["count"] == 5 and mine["count"] == 5
    for _ in range(15):
        factories.contract(client_user, worker)
    large_contracts, page = queries(api, "/api/contracts", limit=100)
    large_applications, mine = queries(api, "/api/applications", limit=100)
    assert page["count"] == 20 and mine["count"] == 20
    assert (large_contracts, large_applications) == (small_contracts, small_applications)
