"""API twins of the deal tools in a thread: POST /api/threads/{id}/progress, /delay, /ack, /nudge; the
messages JSON carries each message's kind and structured fields; party-only (404 table); bad input is a
4xx JSON with a Japanese message and changes nothing; bounded query counts with mixed kinds."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from anshin import rules
from anshin.core import clock
from anshin.messaging.models import Message, Nudge, Receipt
from anshin.messaging.services import (
    message_acknowledge,
    message_send,
    message_send_delay,
    message_send_progress,
)
from anshin.notifications.models import Notification
from anshin.ops.models import QueueItem
from tests import factories

TOKYO = ZoneInfo("Asia/Tokyo")
T0 = datetime(2026, 9, 17, 10, 0, tzinfo=TOKYO)


@pytest.fixture
def travel():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def contract(travel, client_user, worker):
    return factories.contract(client_user, worker, state="funded")


def day(days=0) -> str:
    return str(clock.today() + timedelta(days=days))


def snapshot():
    return {
        "messages": sorted(Message.objects.values_list("pk", "kind")),
        "receipts": Receipt.objects.filter(read_at__isnull=True).count(),
        "nudges": sorted(Nudge.objects.values_list("pk", "replied_at", "due_at")),
        "notifications": Notification.objects.count(),
        "queue": QueueItem.objects.count(),
    }


def test_progress_delay_ack_and_nudge_through_the_api(contract, client_user, worker, api_as, travel):
    thread = contract.thread.pk
    hired, client = api_as(worker), api_as(client_user)

    status, progress = hired.post(f"/api/threads/{thread}/progress",
                                  {"percent": 40, "next_date": day(3), "comment": "構成案を共有します。"})
    assert status == 201, progress
    assert progress["kind"] == "progress" and progress["progress_percent"] == 40
    assert progress["next_date"] == day(3) and progress["body"] == "構成案を共有します。" and progress["mine"]

    status, delay = hired.post(f"/api/threads/{thread}/delay",
                               {"late_item": "初稿", "new_date": day(5), "reason": "資料待ちです。"})
    assert status == 201 and delay["kind"] == "delay" and delay["late_item"] == "初稿"

    status, ack = client.post(f"/api/threads/{thread}/ack", {"reply_by": "2026-09-24"})
    assert status == 201 and ack["kind"] == "ack" and ack["next_date"] == "2026-09-24"
    assert ack["body"] == "メッセージを確認しました。9月24日までにお返事します。"
    row = next(r for r in client.get("/api/threads")[1] if r["id"] == thread)
    assert row["waiting_on_me"] is False and row["contract_id"] == contract.pk and row["order_id"] is None

    status, body = client.get(f"/api/threads/{thread}/messages")
    kinds = [(m["kind"], m["progress_percent"], m["next_date"], m["late_item"]) for m in body["messages"]
             if m["kind"] != "system"]
    assert kinds == [("progress", 40, day(3), ""), ("delay", None, day(5), "初稿"), ("ack", None, "2026-09-24", "")]
    assert body["nudge"] == {"waiting": True, "allowed": False,
                             "reason": "最後のメッセージから24時間経つと催促できます（9/18 10:00から）。"}

    status, refused = client.post(f"/api/threads/{thread}/nudge")
    assert status == 400 and refused["code"] == "nudge_not_allowed" and "24時間" in refused["message"]
    travel.move_to(T0 + rules.NUDGE_AFTER)
    status, nudge = client.post(f"/api/threads/{thread}/nudge")
    assert status == 201, nudge
    assert nudge["recipient_id"] == worker.pk and nudge["replied_at"] is None
    assert nudge["escalate_at"] == "2026-09-28T10:00:00+09:00"  # Silver Week: 21, 22, 23 are holidays
    assert client.get(f"/api/threads/{thread}/messages")[1]["nudge"]["reason"].startswith("催促は1日1回まで")


@pytest.mark.parametrize(("who", "path", "body", "status", "code"), [
    ("worker", "progress", {"percent": 101, "next_date": "2099-01-01"}, 400, "invalid_percent"),
    ("worker", "progress", {"percent": -5, "next_date": "2099-01-01"}, 400, "invalid_percent"),
    ("worker", "progress", {"percent": 50, "next_date": "2026-09-16"}, 400, "date_in_past"),
    ("worker", "progress", {"percent": "たくさん", "next_date": "2099-01-01"}, 422, "invalid"),
    ("worker", "progress", {"next_date": "2099-01-01"}, 422, "invalid"),
    ("worker", "progress", {"percent": 50, "next_date": "来週"}, 422, "invalid"),
    ("client", "progress", {"percent": 50, "next_date": "2099-01-01"}, 403, "not_allowed"),
    ("client", "delay", {"late_item": "初稿", "new_date": "2099-01-01", "reason": "x"}, 403, "not_allowed"),
    ("worker", "delay", {"late_item": "", "new_date": "2099-01-01", "reason": "x"}, 400, "required"),
    ("worker", "delay", {"late_item": "初稿", "new_date": "2099-01-01", "reason": " "}, 400, "required"),
    ("worker", "delay", {"late_item": "初稿", "new_date": "2026-09-16", "reason": "x"}, 400, "date_in_past"),
    ("worker", "delay", {"late_item": "あ" * 101, "new_date": "2099-01-01", "reason": "x"}, 422, "invalid"),
    ("client", "ack", {"reply_by": "2026-09-16"}, 400, "date_in_past"),
    ("client", "ack", {}, 422, "invalid"),
    ("worker", "ack", {"reply_by": "2099-01-01"}, 400, "nothing_to_acknowledge"),
    ("worker", "nudge", None, 400, "nudge_not_allowed"),
    ("client", "nudge", None, 400, "nudge_not_allowed"),
])
def test_bad_input_is_refused_in_japanese_and_changes_nothing(who, path, body, status, code, contract, client_user,
                                                              worker, api_as):
    message_send(thread=contract.thread, sender=worker, body="ご確認ください。")  # the client owes a reply
    api = api_as(worker if who == "worker" else client_user)
    before = snapshot()
    got, response = api.post(f"/api/threads/{contract.thread.pk}/{path}", body)
    assert (got, response["code"]) == (status, code), response
    assert any("\u3040" <= ch <= "\u9fff" for ch in response["message"]), response
    assert snapshot() == before


PARTY_ONLY = [
    ("post", "/api/threads/{thread}/progress", {"percent": 50, "next_date": "2099-01-01"}),
    ("post", "/api/threads/{thread}/delay", {"late_item": "初稿", "new_date": "2099-01-01", "reason": "x"}),
    ("post", "/api/threads/{thread}/ack", {"reply_by": "2099-01-01"}),
    ("post", "/api/threads/{thread}/nudge", None),
    ("get", "/api/threads/{thread}/messages", None),
]


@pytest.mark.parametrize(("method", "template", "body"), PARTY_ONLY, ids=[t for _, t, _ in PARTY_ONLY])
def test_stranger_gets_404_and_nothing_changes(method, template, body, contract, client_user, worker, stranger,
                                               api_as, travel):
    message_send(thread=contract.thread, sender=worker, body="ご確認ください。")
    travel.move_to(T0 + timedelta(days=2))  # a nudge by the worker would be allowed now
    application = factories.application(client_user, worker)
    api = api_as(stranger)
    before = snapshot()
    for thread in (contract.thread, application.thread):
        url = template.format(thread=thread.pk)
        status, response = api.get(url) if method == "get" else api.post(url, body)
        assert status == 404 and response == {"code": "not_found", "message": "見つかりません。"}, url
    assert snapshot() == before


@pytest.mark.parametrize(("method", "template", "body"), PARTY_ONLY, ids=[t for _, t, _ in PARTY_ONLY])
def test_unknown_thread_is_the_same_404(method, template, body, stranger, api_as):
    url = template.format(thread=987654)
    api = api_as(stranger)
    status, response = api.get(url) if method == "get" else api.post(url, body)
    assert status == 404 and response == {"code": "not_found", "message": "見つかりません。"}


def test_anonymous_gets_401(contract, api_as):
    status, response = api_as(None).post(f"/api/threads/{contract.thread.pk}/nudge")
    assert status == 401 and response["code"] == "unauthenticated"


def _count(api, url):
    with CaptureQueriesContext(connection) as ctx:
        status, body = api.get(url)
    assert status == 200, body
    return len(ctx.captured_queries), body


def test_thread_messages_with_mixed_kinds_cost_the_same_for_5_and_50(contract, client_user, worker, api_as):
    thread = contract.thread
    api = api_as(worker)
    api.get("/api/me")
    start = Message.objects.filter(thread=thread).count()

    def talk(n):
        for i in range(n):
            kind = i % 4
            if kind == 0:
                message_send(thread=thread, sender=worker, body=f"メッセージ{i}")
            elif kind == 1:
                message_acknowledge(thread=thread, sender=client_user, reply_by=clock.today())
            elif kind == 2:
                message_send_progress(thread=thread, sender=worker, percent=i, next_date=clock.today())
            else:
                message_send_delay(thread=thread, sender=worker, late_item=f"作業{i}", reason="確認中",
                                   new_date=clock.today())

    talk(5 - start)
    small, body = _count(api, f"/api/threads/{thread.pk}/messages")
    assert len(body["messages"]) == 5
    talk(45)
    large, body = _count(api, f"/api/threads/{thread.pk}/messages")
    assert len(body["messages"]) == 50
    assert {m["kind"] for m in body["messages"]} >= {"normal", "ack", "progress", "delay"}
    assert large == small


def test_inbox_costs_the_same_whatever_the_kinds(client_user, make_user, api_as, travel):
    api = api_as(client_user)
    api.get("/api/me")

    def grow(n):
        for i in range(n):
            worker = make_user()
            contract = factories.contract(client_user, worker, state="funded")
            if i % 2:
                message_send_progress(thread=contract.thread, sender=worker, percent=50, next_date=clock.today())
            else:
                message_send_delay(thread=contract.thread, sender=worker, late_item="初稿", reason="遅れます",
                                   new_date=clock.today())

    grow(2)  # 2 contracts = 4 threads (application + contract)
    small, rows = _count(api, "/api/threads")
    assert len(rows) == 4
    grow(23)
    large, rows = _count(api, "/api/threads")
    assert len(rows) == 50 and large == small
    assert {r["last_kind"] for r in rows} >= {"progress", "delay"}
    assert any(r["last_excerpt"].startswith("進捗報告: 50%完了") for r in rows)
