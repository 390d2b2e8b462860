"""Messages through the API: inbox with unread counts and who waits for whom, read receipts on my own
messages, attachments as party-checked /files/<token>/ links."""

from datetime import timedelta

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from anshin.core import clock
from tests import factories


def test_inbox_receipts_and_attachments(client_user, worker, api_as):
    application = factories.application(client_user, worker)  # the worker's application message opens the thread
    thread_id = application.thread.pk
    client, hired = api_as(client_user), api_as(worker)

    status, inbox = client.get("/api/threads")
    assert status == 200 and len(inbox) == 1
    row = inbox[0]
    assert row["id"] == thread_id and row["application_id"] == application.pk and row["kind"] == "application"
    assert row["unread"] == 1 and row["waiting_on_me"] is True and row["waiting_since"]
    assert row["counterpart"]["name"] == "山田花子"
    assert client.get("/api/me")[1]["unread_count"] == 1

    status, inbox = hired.get("/api/threads")
    assert inbox[0]["unread"] == 0 and inbox[0]["waiting_on_me"] is False

    # Not read yet: my message has no read_at; reading the thread (GET) does not mark it read by itself.
    status, thread = hired.get(f"/api/threads/{thread_id}/messages")
    assert status == 200
    first = thread["messages"][0]
    assert first["mine"] is True and first["read_at"] is None
    assert first["receipts"] == [{"user_id": client_user.pk, "read_at": None}]
    assert thread["counterpart"]["user"]["name"] == "株式会社サンプル"
    client.get(f"/api/threads/{thread_id}/messages")
    assert client.get("/api/me")[1]["unread_count"] == 1

    later = clock.now() + timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        status, marked = client.post(f"/api/threads/{thread_id}/read")
    assert status == 200 and marked == {"marked": 1, "unread_count": 0}
    status, thread = hired.get(f"/api/threads/{thread_id}/messages")
    read_at = thread["messages"][0]["read_at"]
    assert read_at is not None and read_at.endswith("+09:00")  # Japan time
    assert abs((timezone.datetime.fromisoformat(read_at) - later).total_seconds()) < 1

    # The client answers with a file; the worker now owes nothing, the client waits.
    status, sent = client.multipart(f"/api/threads/{thread_id}/messages", {
        "body": "資料をお送りします。", "files": [SimpleUploadedFile("資料.pdf", b"%PDF-1.4 test", "application/pdf")]})
    assert status == 201, sent
    assert sent["mine"] is True and sent["body"] == "資料をお送りします。"
    attachment = sent["attachments"][0]
    assert attachment["name"] == "資料.pdf" and attachment["size"] == 13
    assert attachment["url"].startswith("/files/") and attachment["url"].endswith("/")

    status, inbox = hired.get("/api/threads")
    assert inbox[0]["unread"] == 1 and inbox[0]["waiting_on_me"] is True
    status, thread = hired.get(f"/api/threads/{thread_id}/messages")
    theirs = thread["messages"][-1]
    assert theirs["mine"] is False and theirs["receipts"] == [] and theirs["read_at"] is None
    assert theirs["attachments"][0]["url"] == attachment["url"]


def test_url_encoded_message_and_after_id(client_user, worker, api_as):
    application = factories.application(client_user, worker)
    thread_id = application.thread.pk
    api = api_as(client_user)
    response = api.client.post(f"/api/threads/{thread_id}/messages", "body=%E3%81%AF%E3%81%84",
                               content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201
    status, thread = api.get(f"/api/threads/{thread_id}/messages")
    first_id = thread["messages"][0]["id"]
    status, newer = api.get(f"/api/threads/{thread_id}/messages", after_id=first_id)
    assert [m["body"] for m in newer["messages"]] == ["はい"]


def test_hidden_last_access_is_not_shown(client_user, worker, api_as):
    application = factories.application(client_user, worker)
    api_as(worker).get("/api/me")  # the worker was here
    worker.hide_last_access = True
    worker.save()
    status, thread = api_as(client_user).get(f"/api/threads/{application.thread.pk}/messages")
    assert thread["counterpart"]["hidden"] is True
    assert thread["counterpart"]["last_seen_at"] is None
    assert thread["counterpart"]["user"]["last_seen_at"] is None
