"""The API describes itself: /api/openapi.json lists every endpoint; the docs page never loads from a CDN."""

import json
import re

from django.conf import settings
from django.test import Client

EXPECTED = {
    "/api/tokens": {"post"},
    "/api/tokens/current": {"delete"},
    "/api/me": {"get", "patch"},
    "/api/users/{user_id}": {"get"},
    "/api/notifications": {"get"},
    "/api/notifications/read": {"post"},
    "/api/notifications/{notification_id}/read": {"post"},
    "/api/me/balance": {"get"},
    "/api/jobs": {"get", "post"},
    "/api/jobs/{job_id}": {"get", "patch"},
    "/api/jobs/{job_id}/actions/{action}": {"post"},
    "/api/jobs/{job_id}/applications": {"get", "post"},
    "/api/applications": {"get"},
    "/api/applications/{application_id}": {"get"},
    "/api/applications/{application_id}/actions/{action}": {"post"},
    "/api/applications/{application_id}/offer": {"post"},
    "/api/contracts": {"get"},
    "/api/contracts/{contract_id}": {"get"},
    "/api/contracts/{contract_id}/actions/{action}": {"post"},
    "/api/contracts/{contract_id}/deliveries": {"post"},
    "/api/contracts/{contract_id}/timeline": {"get"},
    "/api/threads": {"get"},
    "/api/threads/{thread_id}/messages": {"get", "post"},
    "/api/threads/{thread_id}/read": {"post"},
    # issue 3: thread tools
    "/api/threads/{thread_id}/progress": {"post"},
    "/api/threads/{thread_id}/delay": {"post"},
    "/api/threads/{thread_id}/ack": {"post"},
    "/api/threads/{thread_id}/nudge": {"post"},
    # test tasks and scouting
    "/api/applications/{application_id}/test-task": {"get", "post"},
    "/api/applications/{application_id}/test-task/blocker": {"post"},
    "/api/applications/{application_id}/test-task/answer": {"post"},
    "/api/applications/{application_id}/test-task/submission": {"post"},
    "/api/applications/{application_id}/test-task/evaluation": {"post"},
    "/api/scouts": {"get", "post"},
    "/api/scouts/{scout_id}": {"get"},
    "/api/scouts/{scout_id}/decline": {"post"},
    # delivery-date changes, termination requests
    "/api/deals/{deal_kind}/{deal_id}/date-changes": {"get", "post"},
    "/api/deals/date-changes/{request_id}": {"get"},
    "/api/deals/date-changes/{request_id}/actions/{action}": {"post"},
    "/api/contracts/{contract_id}/termination-requests": {"get", "post"},
    "/api/termination-requests/{request_id}": {"get"},
    "/api/termination-requests/{request_id}/actions/{action}": {"post"},
    # service listings and orders
    "/api/listings": {"get", "post"},
    "/api/listings/mine": {"get"},
    "/api/listings/{listing_id}": {"get", "patch"},
    "/api/listings/{listing_id}/actions/{action}": {"post"},
    "/api/listings/{listing_id}/purchase": {"post"},
    "/api/orders": {"get"},
    "/api/orders/{order_id}": {"get"},
    "/api/orders/{order_id}/actions/{action}": {"post"},
    "/api/orders/{order_id}/deliveries": {"post"},
    "/api/orders/{order_id}/cancel-requests": {"post"},
    "/api/cancel-requests/{request_id}/actions/{action}": {"post"},
    "/api/orders/{order_id}/timeline": {"get"},
    "/api/threads/{thread_id}/permits": {"get", "post"},
    "/api/permits/{permit_id}/withdraw": {"post"},
    "/api/blocks": {"get", "post"},
    "/api/blocks/{user_id}": {"delete"},
    "/api/reports": {"post"},
    "/api/ops/dashboard": {"get"},
    "/api/ops/queue": {"get"},
    "/api/ops/items/{item_id}": {"get"},
    "/api/ops/items/{item_id}/assign": {"post"},
    "/api/ops/items/{item_id}/close": {"post"},
    "/api/ops/permits/{permit_id}/decide": {"post"},
    "/api/ops/permits/{permit_id}/revoke": {"post"},
    "/api/ops/users/{user_id}/actions": {"post"},
    "/api/ops/disputes/{kind}/{deal_id}/resolve": {"post"},
    "/api/ops/users/{user_id}/risk": {"get"},
    "/api/ops/audit": {"get"},
    # reviews, e-mail preferences, withdrawals
    "/api/reviews/{window_id}": {"get", "post"},
    "/api/reviews/items/{review_id}/reply": {"post"},
    "/api/notifications/preferences": {"get", "put"},
    "/api/payouts": {"get", "post"},
    "/api/payouts/balance": {"get"},
    "/api/payouts/bank-account": {"get", "put"},
    "/api/payouts/{withdrawal_id}": {"get"},
    "/api/payouts/{withdrawal_id}/cancel": {"post"},
    "/api/ops/withdrawals": {"get"},
    "/api/ops/withdrawals/{withdrawal_id}": {"get"},
    "/api/ops/withdrawals/{withdrawal_id}/pay": {"post"},
    "/api/ops/withdrawals/{withdrawal_id}/reverse": {"post"},
}


def test_openapi_lists_every_endpoint_with_both_auth_schemes(db):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    spec = json.loads(response.content)
    assert {path: set(ops) for path, ops in spec["paths"].items()} == EXPECTED
    schemes = spec["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} >= {"http", "apiKey"}  # bearer token and session cookie
    assert "security" not in spec["paths"]["/api/tokens"]["post"]  # the way in needs no auth
    contract = spec["components"]["schemas"]["ContractOut"]["properties"]
    assert {"allowed_actions", "due_at", "timer_action", "amount", "fee", "net", "deliveries"} <= set(contract)


def test_docs_page_never_loads_assets_from_a_cdn(db):
    response = Client().get("/api/docs")
    if "ninja" in settings.INSTALLED_APPS:
        assert response.status_code == 200
        html = response.content.decode()
        assert "/static/ninja/swagger-ui-bundle.js" in html
        assert not re.search(r"(src|href)=\"https?://", html)
    else:  # Ninja would fall back to a CDN without its app installed: the page is off instead
        assert response.status_code == 404
        assert json.loads(response.content)["code"] == "not_found"
