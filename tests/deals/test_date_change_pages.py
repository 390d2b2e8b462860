"""Date-change pages and API: the panel on the deal page (the worker's form; the client's approve/decline;
the pending request shown to both), POST endpoints that go back to the deal page, refused input shown in
Japanese with 4xx and nothing changed, the API twins, and the non-party 404 table."""

from datetime import timedelta

import pytest
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse

from anshin.contracts.models import Contract
from anshin.core import clock
from anshin.core.models import AuditEvent
from anshin.deals import services as deals
from anshin.deals.models import DateChangeRequest
from anshin.messaging.models import Message
from anshin.notifications.models import Notification
from tests import factories
from tests.web.helpers import login, text

pytestmark = pytest.mark.django_db


def propose_url(kind, deal):
    return reverse("deals:date_change_propose", args=[kind, deal.pk])


def answer_url(req, action):
    return reverse("deals:date_change_answer", args=[req.pk, action])


def future(days=30):
    return (clock.today() + timedelta(days=days)).isoformat()


def snapshot():
    return {
        "requests": sorted(DateChangeRequest.objects.values_list("pk", "state")),
        "contracts": sorted(Contract.objects.values_list("pk", "delivery_date")),
        "audit": AuditEvent.objects.count(),
        "messages": Message.objects.count(),
        "notifications": Notification.objects.count(),
    }


def render_panel(deal, user):
    request = RequestFactory().get("/")
    request.user = user
    template = engines["django"].from_string('{% include "deals/_date_change.html" with subject=deal %}')
    return template.render({"deal": deal}, request)


def test_the_contract_page_walks_a_date_change(client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    page_url = reverse("contracts:detail", args=[c.pk])
    worker_page = text(login(worker).get(page_url))
    assert 'data-testid="date-change-form"' in worker_page and "納期の変更を申請する" in worker_page
    assert 'data-testid="date-change"' not in text(login(client_user).get(page_url))  # nothing to show yet

    browser = login(worker)
    response = browser.post(propose_url("contract", c), {"new_date": future(30), "reason": "取材日程が延びました"})
    assert response.status_code == 302 and response["Location"] == page_url
    assert "納期変更を申請しました" in text(browser.get(page_url))

    client_page = text(login(client_user).get(page_url))
    assert 'data-testid="date-change-pending"' in client_page and "取材日程が延びました" in client_page
    assert 'data-date-change-action="approve"' in client_page and 'data-date-change-action="decline"' in client_page
    worker_page = text(login(worker).get(page_url))
    assert 'data-date-change-action="withdraw"' in worker_page
    assert 'data-date-change-action="approve"' not in worker_page
    assert "納期変更を申請" in worker_page  # the timeline

    req = DateChangeRequest.objects.get()
    response = login(client_user).post(answer_url(req, "approve"))
    assert response.status_code == 302 and response["Location"] == page_url
    c.refresh_from_db()
    assert c.delivery_date.isoformat() == future(30)
    page = text(login(worker).get(page_url))
    assert "納期変更を承認" in page and c.delivery_date.strftime("%Y/") in page


def test_the_panel_works_for_an_order_too(client_user, worker):
    order = factories.order(client_user, worker, state="in_progress")
    assert 'data-testid="date-change-form"' in render_panel(order, worker)
    assert render_panel(order, client_user).strip() == ""
    assert f'action="/deals/date-changes/order/{order.pk}/propose/"' in render_panel(order, worker)
    deals.date_change_propose(
        deal_kind="order",
        deal_id=order.pk,
        user=worker,
        new_date=order.delivery_date + timedelta(days=3),
        reason="もう少し時間をください",
    )
    as_buyer = render_panel(order, client_user)
    assert 'data-date-change-action="approve"' in as_buyer and "もう少し時間をください" in as_buyer
    assert 'data-date-change-action="withdraw"' in render_panel(order, worker)

    req = DateChangeRequest.objects.get()
    response = login(client_user).post(answer_url(req, "decline"))
    assert response.status_code == 302 and response["Location"].endswith(f"/orders/{order.pk}/")
    req.refresh_from_db()
    assert req.state == "declined"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"new_date": "", "reason": "遅れます"}, "希望する納期: このフィールドは必須です"),
        ({"new_date": "2020-01-01", "reason": "遅れます"}, "明日以降の日付"),
        ({"new_date": "明日", "reason": "遅れます"}, "日付を正しく入力してください"),
        ({"new_date": future(), "reason": ""}, "理由: このフィールドは必須です"),
        ({"new_date": future(), "reason": "長" * 2_001}, "理由:"),
    ],
)
def test_bad_input_is_shown_in_japanese_and_changes_nothing(client_user, worker, data, message):
    c = factories.contract(client_user, worker, state="funded")
    before = snapshot()
    response = login(worker).post(propose_url("contract", c), data)
    assert response.status_code == 400
    assert message in text(response)
    assert snapshot() == before


def test_refusals_from_the_state_or_the_side(client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    assert login(client_user).post(propose_url("contract", c), {"new_date": future(), "reason": "x"}).status_code == 400
    req = deals.date_change_propose(
        deal_kind="contract", deal_id=c.pk, user=worker, new_date=clock.today() + timedelta(days=40), reason="遅れます"
    )
    response = login(worker).post(propose_url("contract", c), {"new_date": future(), "reason": "もう一度"})
    assert response.status_code == 409 and "回答待ちの納期変更の申請があります" in text(response)
    response = login(worker).post(answer_url(req, "approve"))
    assert response.status_code == 400 and "この操作はできません" in text(response)
    assert login(worker).get(answer_url(req, "approve")).status_code == 405
    assert login(worker).get(propose_url("contract", c)).status_code == 405
    assert login(client_user).post(answer_url(req, "explode")).status_code == 404
    assert login(worker).post(propose_url("listing", c), {"new_date": future(), "reason": "x"}).status_code == 404


# --- the API twins ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["contract", "order"])
def test_api_propose_list_and_answer(kind, client_user, worker, api_as):
    deal = (
        factories.contract(client_user, worker, state="funded")
        if kind == "contract"
        else factories.order(client_user, worker, state="in_progress")
    )
    new_date = (deal.delivery_date + timedelta(days=5)).isoformat()
    status, body = api_as(worker).post(
        f"/api/deals/{kind}/{deal.pk}/date-changes", {"new_date": new_date, "reason": "素材待ちです"}
    )
    assert status == 201, body
    assert body["state"] == "pending" and body["deal_kind"] == kind and body["deal_id"] == deal.pk
    assert [a["action"] for a in body["allowed_actions"]] == ["withdraw"]
    status, listing = api_as(client_user).get(f"/api/deals/{kind}/{deal.pk}/date-changes")
    assert status == 200 and [r["id"] for r in listing] == [body["id"]]
    assert [a["action"] for a in listing[0]["allowed_actions"]] == ["approve", "decline"]
    status, again = api_as(worker).post(
        f"/api/deals/{kind}/{deal.pk}/date-changes", {"new_date": new_date, "reason": "二重"}
    )
    assert status == 409 and again["code"] == "already_pending"
    status, done = api_as(client_user).post(f"/api/deals/date-changes/{body['id']}/actions/approve")
    assert status == 200 and done["state"] == "approved" and done["allowed_actions"] == []
    deal.refresh_from_db()
    assert deal.delivery_date.isoformat() == new_date


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ({"new_date": "2020-01-01", "reason": "遅れます"}, 400, "invalid_date"),
        ({"new_date": "not a date", "reason": "遅れます"}, 422, "invalid"),
        ({"reason": "遅れます"}, 422, "invalid"),
        ({"new_date": "2099-01-01"}, 422, "invalid"),
        ({"new_date": future(), "reason": ""}, 400, "empty"),
        ({"new_date": future(), "reason": "長" * 2_001}, 422, "invalid"),
    ],
)
def test_api_bad_input(payload, status, code, client_user, worker, api_as):
    c = factories.contract(client_user, worker, state="funded")
    before = snapshot()
    got, body = api_as(worker).post(f"/api/deals/contract/{c.pk}/date-changes", payload)
    assert (got, body["code"]) == (status, code), body
    assert body["message"]
    assert snapshot() == before


# --- the non-party table ---------------------------------------------------------------------------------


@pytest.fixture
def pending(client_user, worker):
    """A pending request on a contract and one on an order, both between client_user and worker."""
    c = factories.contract(client_user, worker, state="funded")
    order = factories.order(client_user, worker, state="in_progress")
    reqs = [
        deals.date_change_propose(
            deal_kind=k, deal_id=d.pk, user=worker, new_date=d.delivery_date + timedelta(days=4), reason="遅れます"
        )
        for k, d in (("contract", c), ("order", order))
    ]
    return {"contract": c, "order": order, "requests": reqs}


def web_urls(p):
    urls = [propose_url("contract", p["contract"]), propose_url("order", p["order"])]
    for req in p["requests"]:
        urls += [answer_url(req, a) for a in ("approve", "decline", "withdraw")]
    return urls


def api_calls(p):
    calls = []
    for kind in ("contract", "order"):
        deal = p[kind]
        calls += [
            ("get", f"/api/deals/{kind}/{deal.pk}/date-changes", None),
            ("post", f"/api/deals/{kind}/{deal.pk}/date-changes", {"new_date": future(), "reason": "乗っ取り"}),
        ]
    for req in p["requests"]:
        calls.append(("get", f"/api/deals/date-changes/{req.pk}", None))
        calls += [
            ("post", f"/api/deals/date-changes/{req.pk}/actions/{a}", None) for a in ("approve", "decline", "withdraw")
        ]
    return calls


def test_a_stranger_gets_404_everywhere_and_nothing_changes(pending, stranger, api_as):
    before = snapshot()
    browser = login(stranger)
    for url in web_urls(pending):
        assert browser.get(url).status_code == 404, url
        assert browser.post(url, {"new_date": future(), "reason": "部外者"}).status_code == 404, url
    api = api_as(stranger)
    for method, url, body in api_calls(pending):
        status, answer = api.get(url) if method == "get" else api.post(url, body)
        assert status == 404 and answer == {"code": "not_found", "message": "見つかりません。"}, (url, answer)
    assert snapshot() == before


def test_unknown_ids_and_kinds_get_the_same_404(worker, api_as):
    api = api_as(worker)
    for url in (
        "/api/deals/contract/987654/date-changes",
        "/api/deals/listing/1/date-changes",
        "/api/deals/date-changes/987654",
    ):
        assert api.get(url) == (404, {"code": "not_found", "message": "見つかりません。"})
    assert api.post("/api/deals/date-changes/987654/actions/approve")[0] == 404
    assert login(worker).post("/deals/date-changes/987654/approve/").status_code == 404


def test_parties_see_the_requests(pending, client_user, api_as):
    api = api_as(client_user)
    for method, url, _ in api_calls(pending):
        if method == "get":
            assert api.get(url)[0] == 200, url
    status, rows = api.get(f"/api/deals/order/{pending['order'].pk}/date-changes")
    assert status == 200 and [r["reason"] for r in rows] == ["遅れます"] and rows[0]["deal_kind"] == "order"
