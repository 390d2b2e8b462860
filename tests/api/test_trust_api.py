"""Blocks and reports over the API: the twins of the profile buttons and the report form."""

from anshin.messaging.models import Message
from anshin.ops.models import QueueItem
from anshin.trust import blocks
from anshin.trust.models import Block, Report
from tests import factories


def test_block_list_and_unblock(client_user, worker, api_as):
    api = api_as(client_user)
    status, body = api.post("/api/blocks", {"user_id": worker.pk})
    assert status == 201 and body["user"] == {"id": worker.pk, "name": "山田花子"} and body["created_at"]
    status, again = api.post("/api/blocks", {"user_id": worker.pk})  # idempotent
    assert status == 201 and Block.objects.count() == 1
    status, listed = api.get("/api/blocks")
    assert status == 200 and [b["user"]["id"] for b in listed] == [worker.pk]
    assert api_as(worker).get("/api/blocks")[1] == []  # the blocked user sees nothing of it
    status, body = api.delete(f"/api/blocks/{worker.pk}")
    assert status == 200 and body == {"removed": True}
    assert not blocks.blocked_between(client_user.pk, worker.pk)
    status, body = api.delete(f"/api/blocks/{worker.pk}")
    assert status == 404 and body["code"] == "not_found"


def test_block_refusals(client_user, worker, operator, api_as):
    api = api_as(client_user)
    status, body = api.post("/api/blocks", {"user_id": client_user.pk})
    assert status == 400 and body["code"] == "self"
    status, body = api.post("/api/blocks", {"user_id": 987654})
    assert status == 404 and body["code"] == "not_found"
    status, body = api.post("/api/blocks", {"user_id": operator.pk})
    assert status == 400 and body["code"] == "operator"
    status, body = api.post("/api/blocks", {})
    assert status == 422 and body["code"] == "invalid" and "入力してください" in body["message"]
    status, body = api.post("/api/blocks", {"user_id": "山田"})
    assert status == 422 and "整数" in body["message"]
    status, body = api_as(None).post("/api/blocks", {"user_id": worker.pk})
    assert status == 401
    assert not Block.objects.exists()


def test_blocked_purchase_over_the_api_is_403(client_user, worker, api_as):
    listing = factories.listing(worker)
    api_as(worker).post("/api/blocks", {"user_id": client_user.pk})
    answers = {str(k): v for k, v in factories.hearing_answers(listing).items()}
    status, body = api_as(client_user).post(f"/api/listings/{listing.pk}/purchase",
                                            {"answers": answers, "card_token": "tok_visa"})
    assert status == 403 and body == {"code": "blocked", "message": "このユーザーとは取引できません。"}, body


def test_report_each_subject(client_user, worker, api_as):
    job = factories.job(client_user)
    application = factories.application(client_user, worker, job=job)
    message = Message.objects.filter(thread=application.thread, sender=worker).first()
    listing = factories.listing(worker)
    cases = [(client_user, "user", worker.pk, worker), (client_user, "message", message.pk, worker),
             (worker, "job", job.pk, client_user), (client_user, "listing", listing.pk, worker)]
    for reporter, kind, subject_id, reported in cases:
        status, body = api_as(reporter).post("/api/reports", {"subject": kind, "id": subject_id,
                                                              "category": "scam", "text": "前払いを求められた"})
        assert status == 201, body
        assert body["subject"] == kind and body["subject_id"] == subject_id and body["state"] == "open"
        assert body["category_label"] == "詐欺・不審な勧誘"
        assert body["message"] == "通報を受け付けました。事務局が確認します。"
        assert "reported_user" not in body
        report = Report.objects.get(pk=body["id"])
        assert report.reported_user == reported
        assert QueueItem.objects.get(kind="report", subject_id=report.pk).concerns == reported


def test_report_refusals(client_user, worker, stranger, api_as):
    application = factories.application(client_user, worker)
    message = Message.objects.filter(thread=application.thread, sender=worker).first()
    status, body = api_as(stranger).post("/api/reports", {"subject": "message", "id": message.pk,
                                                          "category": "spam", "text": "x"})
    assert status == 404 and body["code"] == "not_found"
    status, body = api_as(client_user).post("/api/reports", {"subject": "contract", "id": 1, "category": "spam",
                                                             "text": "x"})
    assert status == 422 and body["code"] == "invalid" and "'user'、'message'、'job'、'listing'" in body["message"]
    status, body = api_as(client_user).post("/api/reports", {"subject": "user", "id": worker.pk,
                                                             "category": "spam", "text": "あ" * 2001})
    assert status == 422 and "2000文字以内" in body["message"]
    status, body = api_as(client_user).post("/api/reports", {"subject": "user", "id": worker.pk,
                                                             "category": "spam", "text": "  "})
    assert status == 400 and body["code"] == "text_required"
    status, body = api_as(worker).post("/api/reports", {"subject": "user", "id": worker.pk, "category": "spam",
                                                        "text": "自分"})
    assert status == 400 and body["code"] == "own"
    assert not Report.objects.exists()
