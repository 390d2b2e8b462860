"""API twins of the test task (seed 000's paused clock) and scouting: the same services as the pages, JSON in
and out, party-only (404 for anyone else), bad input refused with a Japanese message, bounded query counts."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from anshin.core.models import AuditEvent
from anshin.jobs import services
from anshin.jobs.models import Scout, TestTask
from anshin.messaging.models import Message
from anshin.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db

START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
SEND = {"instructions": "添付の画像を記事に挿入してください。", "duration_minutes": 3 * 24 * 60,
        "links": ["https://example.com/materials"]}


def actions(body) -> list[str]:
    return [a["action"] for a in body["allowed_actions"]]


def test_seed_000_through_the_api(client_user, worker, api_as):
    with time_machine.travel(START, tick=False) as traveller:
        app = factories.application(client_user, worker)
        as_client, as_worker = api_as(client_user), api_as(worker)
        base = f"/api/applications/{app.pk}/test-task"
        assert as_client.get(base) == (404, {"code": "not_found", "message": "この応募にはテスト課題がありません。"})

        status, body = as_client.post(base, SEND)
        assert status == 201, body
        assert body["state"] == "sent" and body["state_label"] == "作業中"
        assert body["due_at"] == "2026-04-04T10:00:00+09:00" and body["remaining_seconds"] == 3 * 86400
        assert body["clock_label"] == "残り 3日" and body["duration_minutes"] == 4320
        assert body["material_links"] == ["https://example.com/materials"]
        assert actions(body) == []  # the client waits

        status, body = as_worker.get(base)
        assert status == 200 and sorted(actions(body)) == ["report_blocker", "submit"]
        assert all(a["needs_input"] for a in body["allowed_actions"])

        traveller.shift(timedelta(hours=10))
        status, body = as_worker.post(f"{base}/blocker", {"question": "資料が見つかりません"})
        assert status == 200, body
        assert body["state"] == "blocked" and body["paused"] is True and body["due_at"] is None
        assert body["remaining_seconds"] == 62 * 3600 and body["clock_label"] == "時計停止中（残り 2日14時間）"

        traveller.shift(timedelta(hours=20))
        status, body = as_client.get(base)
        assert body["remaining_seconds"] == 62 * 3600 and actions(body) == ["answer_blocker"]
        status, body = as_client.post(f"{base}/answer", {"answer": "共有フォルダにあります"})
        assert status == 200, body
        assert body["state"] == "sent" and body["due_at"] == "2026-04-05T06:00:00+09:00"  # +30 h, +62 h
        assert body["blocker_answer"] == "共有フォルダにあります" and body["paused"] is False

        traveller.shift(timedelta(hours=1))
        status, body = as_worker.post(f"{base}/submission", {"body": "完成しました", "links": ["https://example.com/r"]})
        assert status == 200 and body["state"] == "submitted" and body["submission_links"] == ["https://example.com/r"]
        status, body = as_client.post(f"{base}/evaluation", {"result": "pass", "comment": "丁寧でした"})
        assert status == 200 and body["state"] == "passed" and body["evaluation_comment"] == "丁寧でした"
        assert body["remaining_seconds"] is None and body["clock_label"] == ""


def test_wrong_party_and_wrong_state_are_refused_and_change_nothing(client_user, worker, api_as):
    app = factories.application(client_user, worker)
    base = f"/api/applications/{app.pk}/test-task"
    status, body = api_as(worker).post(base, SEND)
    assert status == 403 and body["code"] == "not_allowed" and "発注者だけ" in body["message"]
    api_as(client_user).post(base, SEND)
    before = list(TestTask.objects.values_list("state", "due_at", "remaining")), Message.objects.count()
    for who, path, payload in (
        (client_user, "blocker", {"question": "?"}),
        (worker, "answer", {"answer": "!"}),
        (client_user, "submission", {"body": "代理"}),
        (worker, "evaluation", {"result": "pass"}),
        (client_user, "evaluation", {"result": "fail"}),
    ):
        status, body = api_as(who).post(f"{base}/{path}", payload)
        assert status == 400 and body["code"] == "not_allowed", (path, body)
        assert "現在の状態（作業中）ではこの操作はできません。" == body["message"]
    status, body = api_as(client_user).post(base, SEND)
    assert status == 409 and body["code"] == "duplicate"
    assert (list(TestTask.objects.values_list("state", "due_at", "remaining")), Message.objects.count()) == before


@pytest.mark.parametrize(("path", "payload", "needle"), [
    ("", {**SEND, "duration_minutes": 59}, "制限時間は1時間以上14日以内で指定してください。"),
    ("", {**SEND, "duration_minutes": 14 * 24 * 60 + 1}, "制限時間は1時間以上14日以内で指定してください。"),
    ("", {**SEND, "duration_minutes": "60"}, "整数で入力してください"),
    ("", {**SEND, "duration_minutes": 60.5}, "整数で入力してください"),
    ("", {**SEND, "links": ["javascript:alert(1)"]}, "資料のURLは http:// または https://"),
    ("", {**SEND, "links": "https://example.com"}, "形式が正しくありません"),
    ("", {"duration_minutes": 60}, "を入力してください"),
    ("", {**SEND, "instructions": "  "}, "課題の内容を入力してください。"),
    ("", {**SEND, "instructions": "あ" * 5_001}, "5000文字以内"),
    ("", {**SEND, "instructions": "NUL\x00"}, "制御文字"),
])
def test_bad_send_input(client_user, worker, api_as, path, payload, needle):
    app = factories.application(client_user, worker)
    status, body = api_as(client_user).post(f"/api/applications/{app.pk}/test-task{path}", payload)
    assert 400 <= status < 500 and needle in body["message"], body
    assert not TestTask.objects.exists()


@pytest.mark.parametrize(("who", "path", "payload", "status_code"), [
    ("worker", "blocker", {}, 422),
    ("worker", "blocker", {"question": ""}, 400),
    ("worker", "blocker", {"question": "あ" * 2_001}, 422),
    ("worker", "submission", {"body": "ok", "links": ["ftp://x"]}, 400),
    ("worker", "submission", {"links": []}, 422),
    ("client", "evaluation", {"result": "maybe"}, 422),
])
def test_bad_action_input(client_user, worker, api_as, who, path, payload, status_code):
    app = factories.application(client_user, worker)
    services.test_task_send(application_id=app.pk, user=client_user, instructions="課題", duration=timedelta(days=1))
    before = list(TestTask.objects.values_list("state", "due_at", "remaining", "submission_body"))
    status, body = api_as(worker if who == "worker" else client_user).post(
        f"/api/applications/{app.pk}/test-task/{path}", payload)
    assert status == status_code, body
    assert body["message"] and body["code"]
    assert list(TestTask.objects.values_list("state", "due_at", "remaining", "submission_body")) == before


# --- party-only: 404 table -----------------------------------------------------------------------------------

PARTY_ONLY = [
    ("get", "/api/applications/{application}/test-task", None),
    ("post", "/api/applications/{application}/test-task", SEND),
    ("post", "/api/applications/{application}/test-task/blocker", {"question": "?"}),
    ("post", "/api/applications/{application}/test-task/answer", {"answer": "!"}),
    ("post", "/api/applications/{application}/test-task/submission", {"body": "横取り"}),
    ("post", "/api/applications/{application}/test-task/evaluation", {"result": "fail"}),
    ("get", "/api/scouts/{scout}", None),
    ("post", "/api/scouts/{scout}/decline", None),
    ("post", "/api/scouts", "scout-for-someone-elses-job"),
]


def snapshot():
    return (list(TestTask.objects.order_by("pk").values_list("pk", "state", "due_at", "remaining")),
            list(Scout.objects.order_by("pk").values_list("pk", "state")), Message.objects.count(),
            AuditEvent.objects.count(), Notification.objects.count())


@pytest.mark.parametrize(("method", "template", "body"), PARTY_ONLY, ids=[f"{m} {t}" for m, t, _ in PARTY_ONLY])
def test_stranger_gets_404_and_nothing_changes(method, template, body, client_user, worker, stranger, api_as):
    sent = factories.application(client_user, worker)
    services.test_task_send(application_id=sent.pk, user=client_user, instructions="課題", duration=timedelta(days=1))
    fresh = factories.application(client_user, worker)  # no test yet: sending is the client's alone
    job = factories.job(client_user)
    scout = services.scout_send(user=client_user, job_id=job.pk, worker_id=worker.pk, message="どうぞ")
    if body == "scout-for-someone-elses-job":
        body = {"job_id": factories.job(client_user).pk, "worker_id": worker.pk, "message": "乗っ取り"}
    api = api_as(stranger)
    before = snapshot()
    for application in (sent, fresh):
        url = template.format(application=application.pk, scout=scout.pk)
        status, response = api.get(url) if method == "get" else api.post(url, body)
        assert status == 404, (url, response)
        assert response["code"] == "not_found"
    assert snapshot() == before


@pytest.mark.parametrize(("method", "template", "body"), PARTY_ONLY, ids=[f"{m} {t}" for m, t, _ in PARTY_ONLY])
def test_unknown_ids_get_404(method, template, body, stranger, api_as):
    if body == "scout-for-someone-elses-job":
        body = {"job_id": 987654, "worker_id": 987654, "message": "どうぞ"}
    url = template.format(application=987654, scout=987654)
    api = api_as(stranger)
    status, response = api.get(url) if method == "get" else api.post(url, body)
    assert status == 404 and response["code"] == "not_found"


def test_anonymous_is_401(client_user, worker, api_as):
    app = factories.application(client_user, worker)
    assert api_as(None).get(f"/api/applications/{app.pk}/test-task")[0] == 401
    assert api_as(None).get("/api/scouts")[0] == 401


# --- scouts ------------------------------------------------------------------------------------------------------

def test_scout_through_the_api(client_user, worker, api_as):
    job = factories.job(client_user)
    as_client, as_worker = api_as(client_user), api_as(worker)
    status, body = as_client.post("/api/scouts", {"job_id": job.pk, "worker_id": worker.pk, "message": "ぜひ"})
    assert status == 201, body
    assert body["state"] == "sent" and body["job"]["id"] == job.pk and body["worker"]["id"] == worker.pk
    assert body["client"]["name"] == "株式会社サンプル" and body["thread_id"] and body["allowed_actions"] == []
    scout_id = body["id"]
    status, body = as_worker.get("/api/scouts")
    assert status == 200 and [s["id"] for s in body["items"]] == [scout_id]
    assert actions(body["items"][0]) == ["decline"]
    assert as_client.get("/api/scouts")[1]["items"] == []  # nothing received
    assert [s["id"] for s in as_client.get("/api/scouts", box="sent")[1]["items"]] == [scout_id]

    status, body = as_client.post("/api/scouts", {"job_id": job.pk, "worker_id": worker.pk, "message": "再送"})
    assert status == 409 and body["code"] == "duplicate"
    status, body = as_client.post(f"/api/scouts/{scout_id}/decline")
    assert status == 400 and body["code"] == "not_allowed"

    status, body = as_worker.post(f"/api/jobs/{job.pk}/applications",
                                  {"message": "応募します", "amount": 30_000,
                                   "estimated_date": str(job.application_deadline)})
    assert status == 201, body
    status, body = as_worker.get(f"/api/scouts/{scout_id}")
    assert body["state"] == "applied" and body["application_id"] is not None and actions(body) == []


def test_scout_decline_through_the_api(client_user, worker, api_as):
    job = factories.job(client_user)
    scout = services.scout_send(user=client_user, job_id=job.pk, worker_id=worker.pk, message="どうぞ")
    status, body = api_as(worker).post(f"/api/scouts/{scout.pk}/decline")
    assert status == 200 and body["state"] == "declined" and body["state_label"] == "辞退"


@pytest.mark.parametrize(("payload", "status_code", "needle"), [
    ({"worker_id": "self", "message": "x"}, 400, "自分自身をスカウトすることはできません。"),
    ({"message": ""}, 400, "スカウトメッセージを入力してください。"),
    ({"message": "あ" * 2_001}, 422, "2000文字以内"),
    ({"job_id": "abc"}, 422, "整数で入力してください"),
    ({"job_id": 0}, 422, "1以上"),
    ({"worker_id": 2**60}, 422, "以下"),
    ({"box": "x"}, 201, ""),  # unknown fields are ignored
])
def test_bad_scout_input(client_user, worker, api_as, payload, status_code, needle):
    job = factories.job(client_user)
    data = {"job_id": job.pk, "worker_id": worker.pk, "message": "どうぞ", **payload}
    if data["worker_id"] == "self":
        data["worker_id"] = client_user.pk
    status, body = api_as(client_user).post("/api/scouts", data)
    assert status == status_code, body
    if needle:
        assert needle in body["message"]
        assert not Scout.objects.exists()


def test_scout_for_a_closed_job_is_refused(client_user, worker, api_as):
    job = factories.job(client_user)
    services.job_transition(job_id=job.pk, user=client_user, action="close")
    status, body = api_as(client_user).post("/api/scouts", {"job_id": job.pk, "worker_id": worker.pk,
                                                            "message": "どうぞ"})
    assert status == 400 and body["code"] == "closed"
    assert api_as(client_user).get("/api/scouts", box="elsewhere")[0] == 422


# --- bounded query counts --------------------------------------------------------------------------------------

def _queries(api, url, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        status, body = api.get(url, **params)
    assert status == 200, body
    return len(ctx.captured_queries)


def test_scout_list_query_count_does_not_grow(client_user, worker, make_user, api_as):
    def grow(n):
        for _ in range(n):
            owner = make_user()
            services.scout_send(user=owner, job_id=factories.job(owner).pk, worker_id=worker.pk, message="どうぞ")
            services.scout_send(user=client_user, job_id=factories.job(client_user).pk, worker_id=make_user().pk,
                                message="どうぞ")

    as_worker, as_client = api_as(worker), api_as(client_user)
    grow(5)
    as_worker.get("/api/me"), as_client.get("/api/me")  # presence writes once a minute: measure steady state
    few = (_queries(as_worker, "/api/scouts", limit=100), _queries(as_client, "/api/scouts", box="sent", limit=100))
    grow(45)
    many = (_queries(as_worker, "/api/scouts", limit=100), _queries(as_client, "/api/scouts", box="sent", limit=100))
    assert few == many and max(many) <= 6


def test_applicant_list_with_test_tasks_query_count_does_not_grow(client_user, make_user, api_as):
    job = factories.job(client_user)

    def grow(n):
        for _ in range(n):
            app = factories.application(client_user, make_user(), job=job)
            services.test_task_send(application_id=app.pk, user=client_user, instructions="課題",
                                    duration=timedelta(days=1))

    api = api_as(client_user)
    grow(5)
    api.get("/api/me")
    few = _queries(api, f"/api/jobs/{job.pk}/applications")
    grow(45)
    assert _queries(api, f"/api/jobs/{job.pk}/applications") == few


def test_test_task_get_query_count_is_fixed(client_user, worker, api_as):
    app = factories.application(client_user, worker)
    services.test_task_send(application_id=app.pk, user=client_user, instructions="課題", duration=timedelta(days=1))
    api = api_as(worker)
    api.get("/api/me")
    assert _queries(api, f"/api/applications/{app.pk}/test-task") <= 6
