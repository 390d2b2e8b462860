"""The contact guard and サービス外連絡申請 through the API: a held message is 422 `contact_held` with the spans
and the masked text; `mask_contacts` sends it masked; permits of a thread are listed, requested and withdrawn
by the parties only, and never show the operators' internal note."""

import pytest

from anshin.messaging.models import Message
from anshin.trust import permits
from anshin.trust.models import ContactPermit, GuardHold
from tests import factories

pytestmark = pytest.mark.django_db

LINE_ID = "anshin_dev42"
WITH_LINE = f"よろしくお願いします。LINE ID: {LINE_ID} までご連絡ください。"
SCAM = "手数料がもったいないので、サイトを通さずに直接取引にしましょう。仮払いの前に作業を始めてください。"
SECRET_NOTE = "社内メモ: 過去に直接取引の誘導あり"


@pytest.fixture
def thread(client_user, worker):
    return factories.application(client_user, worker).thread


def messages_url(thread):
    return f"/api/threads/{thread.pk}/messages"


def test_a_held_message_answers_422_with_spans_and_the_masked_text(thread, client_user, api_as):
    api = api_as(client_user)
    before = Message.objects.count()
    status, body = api.multipart(messages_url(thread), {"body": WITH_LINE})
    assert status == 422, body
    assert body["code"] == "contact_held" and "LINE" in body["message"] and body["field"] == "body"
    assert any(LINE_ID in span["text"] for span in body["spans"])
    for span in body["spans"]:
        assert WITH_LINE[span["start"]:span["end"]] == span["text"] and span["kind"]
    assert LINE_ID not in body["masked"] and "●●●" in body["masked"]
    assert Message.objects.count() == before and GuardHold.objects.count() == 1

    status, sent = api.multipart(messages_url(thread), {"body": WITH_LINE, "mask_contacts": "true"})
    assert status == 201, sent
    assert sent["masked"] is True and sent["body"] == body["masked"] and LINE_ID not in sent["body"]


def test_progress_with_contact_details_is_held_too(client_user, worker, api_as):
    from anshin.core import clock

    contract = factories.contract(client_user, worker, state="funded")
    status, body = api_as(worker).post(f"/api/threads/{contract.thread.pk}/progress", {
        "percent": 50, "next_date": clock.today().isoformat(), "comment": f"LINE ID: {LINE_ID} で送ります"})
    assert status == 422 and body["code"] == "contact_held" and body["field"] == "comment"


def test_caution_is_shown_to_the_recipient_only(thread, client_user, worker, api_as):
    status, sent = api_as(client_user).multipart(messages_url(thread), {"body": SCAM})
    assert status == 201 and sent["caution"] == []  # the sender's own view
    status, seen = api_as(worker).get(messages_url(thread))
    theirs = next(m for m in seen["messages"] if m["id"] == sent["id"])
    assert theirs["caution"] and "work_before_escrow" in theirs["caution"]


def test_request_list_and_withdraw_a_permit(thread, client_user, worker, api_as):
    api, other = api_as(client_user), api_as(worker)
    path = f"/api/threads/{thread.pk}/permits"
    assert api.get(path) == (200, [])

    status, permit = api.post(path, {"tool": "zoom", "purpose": "週1回の定例ミーティング"})
    assert status == 201, permit
    assert permit["state"] == "pending" and permit["state_label"] == "審査中" and permit["tool_label"] == "Zoom"
    assert permit["mine"] is True and permit["requested_by"]["id"] == client_user.pk
    assert permit["decide_by"].endswith("+09:00") and permit["decided_at"] is None

    status, dup = other.post(path, {"tool": "chatwork", "purpose": "別の申請"})
    assert status == 409 and dup["code"] == "permit_exists"
    status, listed = other.get(path)
    assert status == 200 and [p["id"] for p in listed] == [permit["id"]] and listed[0]["mine"] is False

    status, refused = other.post(f"/api/permits/{permit['id']}/withdraw")
    assert status == 403 and refused["code"] == "not_requester"
    status, withdrawn = api.post(f"/api/permits/{permit['id']}/withdraw")
    assert status == 200 and withdrawn["state"] == "withdrawn"
    status, again = api.post(f"/api/permits/{permit['id']}/withdraw")
    assert status == 400 and again["code"] == "not_allowed"


@pytest.mark.parametrize("payload, field", [
    ({"tool": "fax", "purpose": "x"}, "tool"), ({"tool": "zoom"}, "purpose"),
    ({"tool": "zoom", "purpose": "あ" * 1001}, "purpose"),
])
def test_bad_permit_input_is_422(thread, client_user, api_as, payload, field):
    status, body = api_as(client_user).post(f"/api/threads/{thread.pk}/permits", payload)
    assert status == 422 and body["code"] == "invalid" and body["errors"][0]["field"] == field
    assert not ContactPermit.objects.exists()


def test_blank_purpose_is_refused(thread, client_user, api_as):
    status, body = api_as(client_user).post(f"/api/threads/{thread.pk}/permits", {"tool": "zoom", "purpose": "  "})
    assert status == 400 and body["code"] == "required"


def test_the_internal_note_is_never_in_the_json(thread, client_user, worker, operator, api_as):
    permit = permits.permit_request(thread_id=thread.pk, user=worker, tool="line", purpose="急ぎの連絡用")
    permits.permit_decide(permit_id=permit.pk, operator=operator, approve=False, note=SECRET_NOTE)
    for user in (client_user, worker):
        api = api_as(user)
        response = api.client.get(f"/api/threads/{thread.pk}/permits")
        assert response.status_code == 200
        raw = response.content.decode()
        assert SECRET_NOTE not in raw and "internal_note" not in raw and "decided_by" not in raw
        listed = response.json()
        assert listed[0]["state"] == "denied" and listed[0]["decided_at"]
        assert SECRET_NOTE not in api.client.get(f"/api/threads/{thread.pk}/messages").content.decode()


def test_strangers_get_404(thread, client_user, stranger, api_as):
    permit = permits.permit_request(thread_id=thread.pk, user=client_user, tool="zoom", purpose="定例")
    api = api_as(stranger)
    assert api.get(f"/api/threads/{thread.pk}/permits")[0] == 404
    assert api.post(f"/api/threads/{thread.pk}/permits", {"tool": "zoom", "purpose": "x"})[0] == 404
    assert api.post(f"/api/permits/{permit.pk}/withdraw")[0] == 404
    assert api.multipart(messages_url(thread), {"body": WITH_LINE})[0] == 404
    permit.refresh_from_db()
    assert permit.state == "pending" and ContactPermit.objects.count() == 1 and not GuardHold.objects.exists()
