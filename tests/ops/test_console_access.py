"""The console is invisible to everyone but operators: every /ops/ URL and every /api/ops/ endpoint answers
404 — whatever the method, with or without a valid body — to anonymous visitors, ordinary users (a party to
the deal included) and staff accounts outside the operators' group, and nothing changes."""

import json

import pytest
from django.test import Client

from anshin.accounts.models import User
from anshin.contracts.models import Contract
from anshin.core.models import AuditEvent
from anshin.messaging.models import Message
from anshin.ops.models import QueueItem
from anshin.trust.models import ContactPermit
from tests import ops as build
from tests.web.helpers import login


@pytest.fixture
def api_as(db):
    return build.api_client


@pytest.fixture
def world(client_user, worker, operator, make_user):
    contract, dispute_item = build.dispute(client_user, worker)
    permit, permit_item = build.permit(client_user, worker)
    return {
        "contract": contract, "dispute_item": dispute_item, "permit": permit, "permit_item": permit_item,
        "client": client_user, "worker": worker, "operator": operator,
        "staff": make_user("staffer", is_staff=True),  # staff, but not in the group 事務局
    }


def web_urls(w):
    item, d_item, p_item, user = w["permit_item"].pk, w["dispute_item"].pk, w["permit_item"].pk, w["client"].pk
    op = w["operator"].pk
    return [
        ("/ops/", {}),
        ("/ops/queue/", {}),
        ("/ops/queue/permit/", {}),
        ("/ops/queue/dispute/?state=closed&mine=1", {}),
        (f"/ops/items/{item}/", {}),
        (f"/ops/items/{item}/assign/", {"assignee_id": op}),
        (f"/ops/items/{d_item}/close/", {"resolution": "done", "note": "確認済み"}),
        (f"/ops/items/{p_item}/permit/", {"decision": "approve", "note": "業務上必要"}),
        (f"/ops/items/{d_item}/resolve/", {"outcome": "refund", "note": "返金で解決"}),
        (f"/ops/items/{d_item}/message/", {"body": "事務局です。", "note": "状況確認"}),
        (f"/ops/users/{user}/", {}),
        (f"/ops/users/{user}/actions/", {"action": "suspend", "note": "規約違反"}),
        ("/ops/audit/", {}),
        ("/ops/audit/?action=queue&subject_type=user", {}),
        ("/ops/items/999999/", {}),
    ]


def api_calls(w):
    item, user, permit, contract = w["dispute_item"].pk, w["client"].pk, w["permit"].pk, w["contract"].pk
    return [
        ("get", "/api/ops/dashboard", None),
        ("get", "/api/ops/queue?kind=permit&state=open&mine=true", None),
        ("get", f"/api/ops/items/{item}", None),
        ("post", f"/api/ops/items/{item}/assign", {"assignee_id": w["operator"].pk}),
        ("post", f"/api/ops/items/{item}/close", {"note": "確認済み", "resolution": "done"}),
        ("post", f"/api/ops/permits/{permit}/decide", {"approve": True, "note": "業務上必要"}),
        ("post", f"/api/ops/permits/{permit}/revoke", {"note": "取り消し"}),
        ("post", f"/api/ops/users/{user}/actions", {"action": "suspend", "note": "規約違反"}),
        ("post", f"/api/ops/disputes/contract/{contract}/resolve", {"outcome": "refund", "note": "返金"}),
        ("get", f"/api/ops/users/{user}/risk", None),
        ("get", "/api/ops/audit?action=queue", None),
        # malformed bodies and unknown ids reveal nothing either
        ("post", f"/api/ops/items/{item}/close", {}),
        ("post", f"/api/ops/users/{user}/actions", {"action": "nonsense"}),
        ("get", "/api/ops/items/999999", None),
    ]


def snapshot(w) -> dict:
    client = User.objects.get(pk=w["client"].pk)
    return {
        "audit": AuditEvent.objects.count(),
        "messages": Message.objects.count(),
        "items": list(QueueItem.objects.order_by("id").values_list("id", "state", "assignee_id", "note")),
        "permit": ContactPermit.objects.get(pk=w["permit"].pk).state,
        "contract": Contract.objects.get(pk=w["contract"].pk).state,
        "client": (client.is_active, client.suspended_at, client.messaging_restricted_at),
    }


def web_client(who, w) -> Client:
    return Client() if who == "anonymous" else login(w[who])


WHO = ["anonymous", "worker", "client", "staff"]


@pytest.mark.parametrize("who", WHO)
def test_every_console_url_is_404_for_non_operators_whatever_the_method(world, who):
    before = snapshot(world)
    client = web_client(who, world)
    for url, data in web_urls(world):
        assert client.get(url).status_code == 404, (who, "GET", url)
        assert client.post(url, data).status_code == 404, (who, "POST", url)
    assert snapshot(world) == before


@pytest.mark.parametrize("who", WHO)
def test_every_ops_api_endpoint_is_404_for_non_operators(world, who, api_as):
    before = snapshot(world)
    api = api_as(None if who == "anonymous" else world[who])
    for method, url, data in api_calls(world):
        status, body = api.get(url) if method == "get" else api.post(url, data if data is not None else {})
        assert status == 404, (who, method, url, body)
        assert body["code"] == "not_found"
    assert snapshot(world) == before


@pytest.mark.parametrize("who", ["worker", "staff"])
def test_a_logged_in_non_operator_without_csrf_token_still_gets_404(world, who):
    """The operator check comes first: no CSRF 403 hints that the endpoint exists."""
    before = snapshot(world)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world[who])
    for url, data in web_urls(world):
        assert client.post(url, data).status_code == 404, url
    for method, url, data in api_calls(world):
        if method == "post":
            response = client.post(url, json.dumps(data or {}), content_type="application/json")
            assert response.status_code == 404, url
    assert snapshot(world) == before


def test_operator_posts_are_csrf_protected(world):
    before = snapshot(world)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["operator"])
    for url, data in web_urls(world):
        if client.get(url).status_code == 405:  # a POST-only URL
            assert client.post(url, data).status_code == 403, url
    response = client.post(f"/api/ops/items/{world['dispute_item'].pk}/close",
                           json.dumps({"note": "確認済み"}), content_type="application/json")
    assert response.status_code == 403 and json.loads(response.content)["code"] == "csrf_failed"
    assert snapshot(world) == before


def test_operators_reach_every_page(world):
    client = login(world["operator"])
    for url, _data in web_urls(world):
        response = client.get(url)
        if url.startswith("/ops/items/999999"):
            assert response.status_code == 404
        else:
            assert response.status_code in (200, 405), url


def test_operators_reach_every_api_read(world, api_as):
    api = api_as(world["operator"])
    for method, url, _data in api_calls(world):
        if method == "get" and "999999" not in url:
            status, body = api.get(url)
            assert status == 200, (url, body)


def test_inactive_operator_and_leaving_the_group_close_the_console(world):
    from anshin.ops.permissions import operator_group

    operator = world["operator"]
    client = login(operator)
    assert client.get("/ops/").status_code == 200
    operator.groups.remove(operator_group())
    assert login(User.objects.get(pk=operator.pk)).get("/ops/").status_code == 404


def test_the_nav_shows_the_console_to_operators_only(world):
    assert 'data-testid="ops-link"' in login(world["operator"]).get("/").content.decode()
    assert 'data-testid="ops-link"' not in login(world["staff"]).get("/").content.decode()
    assert 'data-testid="ops-link"' not in login(world["client"]).get("/").content.decode()
