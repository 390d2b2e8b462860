"""Listings and orders over the API: the same services as the UI. Orders are party-only (404 for anyone else,
nothing changes), bad input is a 4xx JSON with a Japanese message, and list endpoints cost a fixed number of
queries whatever the number of rows."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from anshin.core import clock
from anshin.core.models import AuditEvent
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import REVENUE, balance, worker_code
from anshin.messaging.models import Attachment, Message
from anshin.notifications.models import Notification
from anshin.orders import services as orders
from anshin.orders.models import CancelRequest, Listing, Order, OrderDelivery
from tests import factories

LISTING = {
    "title": "ロゴをデザインします", "description": "シンプルで覚えやすいロゴ", "category": "design", "price": 10_000,
    "delivery_days": 5, "included_revisions": 1,
    "options": [{"title": "特急対応", "price": 3_000, "extra_days": 0}],
    "questions": [
        {"kind": "text", "text": "ご依頼内容", "example": "ロゴ", "required": True},
        {"kind": "single", "text": "テイスト", "choices": ["シンプル", "ポップ"], "required": True},
    ],
}


def snapshot():
    return {
        "orders": list(Order.objects.order_by("pk").values_list("pk", "state", "due_at", "revisions_used")),
        "listings": list(Listing.objects.order_by("pk").values_list("pk", "state", "title", "price")),
        "requests": list(CancelRequest.objects.order_by("pk").values_list("pk", "state")),
        "entries": JournalEntry.objects.count(),
        "audit": AuditEvent.objects.count(),
        "messages": Message.objects.count(),
        "deliveries": OrderDelivery.objects.count(),
        "attachments": Attachment.objects.count(),
        "notifications": Notification.objects.count(),
    }


def test_the_whole_order_journey_over_the_api(client_user, worker, api_as):
    seller, buyer = api_as(worker), api_as(client_user)
    status, listing = seller.post("/api/listings", LISTING)
    assert status == 201, listing
    assert listing["buyer_fee"] == 550
    assert [a["action"] for a in listing["allowed_actions"]] == ["pause"]
    assert buyer.get(f"/api/listings/{listing['id']}")[1]["allowed_actions"] == []
    status, found = buyer.get("/api/listings", q="ロゴ")
    assert [item["id"] for item in found["items"]] == [listing["id"]]

    text_q, single_q = listing["questions"]
    status, order = buyer.post(f"/api/listings/{listing['id']}/purchase", {
        "option_ids": [listing["options"][0]["id"]],
        "answers": {str(text_q["id"]): "会社のロゴ", str(single_q["id"]): "ポップ"},
        "card_token": "tok_visa",
    })
    assert status == 201, order
    assert (order["subtotal"], order["buyer_fee"], order["total"], order["escrow"]) == (13_000, 715, 13_715, 13_715)
    assert order["state"] == "purchased" and order["role"] == "buyer"
    assert [a["answer"] for a in order["answers"]] == [["会社のロゴ"], ["ポップ"]]
    assert [r["code"] for r in order["cancel_reasons"]] == ["changed_mind", "other"]
    url = f"/api/orders/{order['id']}"
    assert [a["action"] for a in seller.get(url)[1]["allowed_actions"]] == ["accept", "open_dispute"]

    status, order = seller.post(f"{url}/actions/accept")
    assert status == 200 and order["state"] == "in_progress" and order["delivery_date"]
    status, order = seller.multipart(f"{url}/deliveries", {
        "body": "納品いたします", "files": [SimpleUploadedFile("logo.png", b"png", "image/png")]})
    assert status == 201, order
    assert order["deliveries"][0]["attachments"][0]["name"] == "logo.png"
    assert {a["action"]: a["needs_input"] for a in buyer.get(url)[1]["allowed_actions"]} == {
        "approve": False, "request_revision": True, "open_dispute": True}
    status, order = buyer.post(f"{url}/actions/request_revision", {"reason": "色を変えてください"})
    assert status == 200 and order["revisions_used"] == 1
    status, order = seller.post(f"{url}/actions/deliver", {"body": "修正版です"})
    assert status == 200 and order["state"] == "delivered"
    status, problem = buyer.post(f"{url}/actions/request_revision", {"reason": "もう一度"})
    assert status == 400 and "修正依頼は1回まで" in problem["message"]
    status, order = buyer.post(f"{url}/actions/approve")
    assert status == 200 and order["state"] == "completed" and order["escrow"] == 0
    assert order["net"] == 13_000 - 2_860
    assert balance(worker_code(worker.pk)) == 10_140
    assert balance(REVENUE) == 2_860 + 715
    status, events = buyer.get(f"{url}/timeline")
    assert [e["action"] for e in events] == ["purchase", "accept", "deliver", "request_revision", "deliver",
                                             "approve"]
    assert [o["id"] for o in seller.get("/api/orders", role="seller")[1]["items"]] == [order["id"]]
    assert seller.get("/api/orders", role="buyer")[1]["items"] == []


def test_cancel_requests_over_the_api(client_user, worker, api_as):
    order = factories.order(client_user, worker, state="in_progress")
    seller, buyer = api_as(worker), api_as(client_user)
    status, body = buyer.post(f"/api/orders/{order.pk}/cancel-requests", {"reason": "changed_mind"})
    assert status == 400 and body["code"] == "invalid_reason"
    status, body = buyer.post(f"/api/orders/{order.pk}/cancel-requests",
                              {"reason": "no_progress", "detail": "連絡がない"})
    assert status == 201, body
    (request,) = body["cancel_requests"]
    assert request["reason_label"] == "出品者と連絡が取れない・作業が進まない" and request["state"] == "pending"
    assert [a["action"] for a in request["allowed_actions"]] == ["withdraw"]
    seen = seller.get(f"/api/orders/{order.pk}")[1]["cancel_requests"][0]
    assert [a["action"] for a in seen["allowed_actions"]] == ["agree", "refuse"]
    status, body = seller.post(f"/api/cancel-requests/{request['id']}/actions/withdraw")
    assert status == 400
    status, body = seller.post(f"/api/cancel-requests/{request['id']}/actions/agree")
    assert status == 200 and body["state"] == "cancelled" and body["escrow"] == 0
    assert body["cancel_requests"][0]["state"] == "agreed"


def test_listing_edit_and_pause_over_the_api(client_user, worker, api_as):
    seller, buyer = api_as(worker), api_as(client_user)
    listing = seller.post("/api/listings", LISTING)[1]
    status, edited = seller.patch(f"/api/listings/{listing['id']}", {"price": 12_000})
    assert status == 200 and edited["price"] == 12_000 and len(edited["questions"]) == 2
    status, paused = seller.post(f"/api/listings/{listing['id']}/actions/pause")
    assert status == 200 and paused["state"] == "paused"
    assert buyer.get(f"/api/listings/{listing['id']}")[0] == 404
    assert buyer.get("/api/listings")[1]["items"] == []
    assert [item["id"] for item in seller.get("/api/listings/mine")[1]["items"]] == [listing["id"]]
    before = snapshot()
    assert buyer.patch(f"/api/listings/{listing['id']}", {"price": 1_000})[0] == 404
    assert buyer.post(f"/api/listings/{listing['id']}/actions/resume")[0] == 404
    assert snapshot() == before


# --- bad input ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "status", "fragment"), [
    ({"price": 999}, 400, "価格は¥1,000以上"),
    ({"price": "10000"}, 422, "price"),
    ({"delivery_days": 0}, 400, "お届け日数は1〜90日"),
    ({"category": "cooking"}, 422, "category"),
    ({"questions": [{"kind": "single", "text": "色", "choices": ["赤"]}]}, 400, "異なる選択肢を2つ以上"),
    ({"questions": [{"kind": "essay", "text": "色"}]}, 422, "kind"),
    ({"title": "あ" * 101}, 422, "100文字以内"),
])
def test_bad_listing_input_is_a_japanese_4xx_and_nothing_is_saved(worker, api_as, change, status, fragment):
    before = snapshot()
    got, body = api_as(worker).post("/api/listings", {**LISTING, **change})
    assert got == status, body
    assert fragment in body["message"]
    assert snapshot() == before


@pytest.mark.parametrize(("payload", "status", "code"), [
    ({"answers": {}, "card_token": "tok_visa"}, 400, "answer_required"),
    ({"answers": "ロゴ", "card_token": "tok_visa"}, 422, "invalid"),
    ({"answers": {"TEXT": "ロゴ", "SINGLE": "派手"}, "card_token": "tok_visa"}, 400, "invalid_answer"),
    ({"answers": {"TEXT": "ロゴ", "SINGLE": "ポップ"}, "card_token": "tok_decline"}, 402, "payment_declined"),
    ({"answers": {"TEXT": "ロゴ", "SINGLE": "ポップ"}}, 422, "invalid"),
    ({"answers": {"TEXT": "ロゴ", "SINGLE": "ポップ"}, "option_ids": [987654], "card_token": "tok_visa"}, 400,
     "invalid_option"),
])
def test_bad_purchases_are_refused_and_nothing_is_charged(client_user, worker, api_as, payload, status, code):
    listing = factories.listing(worker, questions=LISTING["questions"])
    text_q, single_q = listing.questions.all()
    if isinstance(payload.get("answers"), dict):
        payload = {**payload, "answers": {str({"TEXT": text_q.pk, "SINGLE": single_q.pk}[k]): v
                                          for k, v in payload["answers"].items()}}
    before = snapshot()
    got, body = api_as(client_user).post(f"/api/listings/{listing.pk}/purchase", payload)
    assert got == status, body
    assert body["code"] == code
    assert snapshot() == before


def test_buying_your_own_listing_is_refused(worker, api_as):
    listing = factories.listing(worker, questions=[])
    status, body = api_as(worker).post(f"/api/listings/{listing.pk}/purchase", {"card_token": "tok_visa"})
    assert status == 400 and body["message"] == "自分のサービスは購入できません。"


def test_unknown_order_actions_and_missing_input_are_refused(client_user, worker, api_as):
    order = factories.order(client_user, worker, state="in_progress")
    seller = api_as(worker)
    before = snapshot()
    assert seller.post(f"/api/orders/{order.pk}/actions/expire")[1]["code"] == "unknown_action"
    assert seller.post(f"/api/orders/{order.pk}/actions/cancel")[1]["code"] == "unknown_action"
    assert seller.post(f"/api/orders/{order.pk}/actions/deliver", {"body": ""})[1]["code"] == "empty"
    assert seller.post(f"/api/orders/{order.pk}/actions/accept")[1]["code"] == "not_allowed"
    assert seller.post("/api/cancel-requests/987654/actions/agree")[0] == 404
    assert snapshot() == before


# --- party-only: the 404 table --------------------------------------------------------------------------

# (method, url template, body). Placeholders: {order} {request}.
ORDER_PARTY_ONLY = [
    ("get", "/api/orders/{order}", None),
    ("get", "/api/orders/{order}/timeline", None),
    ("post", "/api/orders/{order}/actions/accept", None),
    ("post", "/api/orders/{order}/actions/deliver", {"body": "横取り納品"}),
    ("post", "/api/orders/{order}/actions/approve", None),
    ("post", "/api/orders/{order}/actions/request_revision", {"reason": "やり直し"}),
    ("post", "/api/orders/{order}/actions/terminate_overdue", None),
    ("multipart", "/api/orders/{order}/deliveries", "file"),
    ("post", "/api/orders/{order}/cancel-requests", {"reason": "other", "detail": "部外者"}),
    ("post", "/api/cancel-requests/{request}/actions/agree", None),
    ("post", "/api/cancel-requests/{request}/actions/refuse", None),
    ("post", "/api/cancel-requests/{request}/actions/withdraw", None),
]


@pytest.fixture
def order_world(client_user, worker):
    """Orders in every state a party could act on (one overdue), and a pending cancel request."""
    states = {s: factories.order(client_user, worker, state=s) for s in ("purchased", "in_progress", "delivered")}
    overdue = factories.order(client_user, worker, state="in_progress")
    Order.objects.filter(pk=overdue.pk).update(delivery_date=clock.today() - timedelta(days=10))
    states["overdue"] = overdue
    request = orders.order_cancel_request(order_id=states["in_progress"].pk, user=client_user,
                                          reason="no_progress")
    return states, request


def _call(api, method, url, body):
    if body == "file":
        return api.multipart(url, {"body": "部外者", "files": [SimpleUploadedFile("a.txt", b"x", "text/plain")]})
    if method == "get":
        return api.get(url)
    return getattr(api, method)(url, body)


@pytest.mark.parametrize(("method", "template", "body"), ORDER_PARTY_ONLY,
                         ids=[f"{m} {t}" for m, t, _ in ORDER_PARTY_ONLY])
def test_stranger_gets_404_on_every_order_endpoint_and_nothing_changes(method, template, body, order_world,
                                                                      stranger, api_as):
    states, request = order_world
    api = api_as(stranger)
    before = snapshot()
    for order in states.values():
        status, response = _call(api, method, template.format(order=order.pk, request=request.pk), body)
        assert status == 404, (template, response)
        assert response == {"code": "not_found", "message": "見つかりません。"}
    assert snapshot() == before


@pytest.mark.parametrize(("method", "template", "body"), ORDER_PARTY_ONLY,
                         ids=[f"{m} {t}" for m, t, _ in ORDER_PARTY_ONLY])
def test_unknown_order_ids_get_the_same_404(method, template, body, stranger, api_as):
    status, response = _call(api_as(stranger), method, template.format(order=987654, request=987654), body)
    assert status == 404 and response == {"code": "not_found", "message": "見つかりません。"}


def test_order_lists_show_a_stranger_nothing(order_world, stranger, api_as):
    assert api_as(stranger).get("/api/orders")[1]["items"] == []


# --- query counts ---------------------------------------------------------------------------------------

MAX_QUERIES = 10


def queries(api, url, **params):
    with CaptureQueriesContext(connection) as ctx:
        status, body = api.get(url, **params)
    assert status == 200, body
    assert len(ctx.captured_queries) <= MAX_QUERIES, [q["sql"] for q in ctx.captured_queries]
    return len(ctx.captured_queries), body


def test_listing_search_query_count_does_not_grow(client_user, make_user, api_as):
    api = api_as(client_user)
    api.get("/api/me")

    def grow(n):
        for _ in range(n):
            factories.listing(make_user(), questions=[], options=[])

    grow(5)
    small, body = queries(api, "/api/listings", limit=100)
    assert len(body["items"]) == 5
    grow(45)
    large, body = queries(api, "/api/listings", limit=100)
    assert len(body["items"]) == 50 and large == small


def test_order_list_query_count_does_not_grow(client_user, make_user, api_as):
    api = api_as(client_user)
    api.get("/api/me")

    def grow(n):
        for _ in range(n):
            factories.order(client_user, make_user(), questions=[], options=[])

    grow(5)
    small, body = queries(api, "/api/orders", limit=100)
    assert len(body["items"]) == 5
    grow(45)
    large, body = queries(api, "/api/orders", limit=100)
    assert len(body["items"]) == 50 and large == small
