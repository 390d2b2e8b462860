"""`allowed_actions` in the contract JSON is the flow table read for the caller's role and the current state."""

import pytest

from tests import factories

# state -> (client's buttons, worker's buttons), in table order (PRODUCT.md §2, anshin/contracts/flow.py)
EXPECTED = {
    "offered": (["withdraw_offer"], ["accept_offer", "decline_offer"]),
    "awaiting_funding": (["fund", "cancel"], ["cancel"]),
    # terminate_overdue is in the table for the client too, but its guard (3 days overdue) does not hold here
    "funded": (["open_dispute"], ["deliver", "open_dispute"]),
    "delivered": (["accept", "request_revision", "open_dispute"], ["open_dispute"]),
    "revision_requested": (["open_dispute"], ["deliver", "open_dispute"]),
    "accepted": ([], []),
}
NEEDS_INPUT = {"fund", "deliver", "request_revision", "open_dispute"}


@pytest.mark.parametrize("state", list(EXPECTED))
def test_allowed_actions_per_role_and_state(state, client_user, worker, operator, api_as):
    contract = factories.contract(client_user, worker, state=state)
    client_actions, worker_actions = EXPECTED[state]
    for user, expected, role in ((client_user, client_actions, "client"), (worker, worker_actions, "worker")):
        status, body = api_as(user).get(f"/api/contracts/{contract.pk}")
        assert status == 200, body
        assert body["state"] == state and body["role"] == role
        assert [a["action"] for a in body["allowed_actions"]] == expected
        for action in body["allowed_actions"]:
            assert action["label"]  # the Japanese button text
            assert action["needs_input"] == (action["action"] in NEEDS_INPUT)
    # The operator has a twin of every party move.
    status, body = api_as(operator).get(f"/api/contracts/{contract.pk}")
    assert status == 200 and body["role"] == "operator"
    assert {a["action"] for a in body["allowed_actions"]} == set(client_actions) | set(worker_actions)


@pytest.mark.parametrize("state", ["offered", "funded", "delivered"])
def test_an_action_not_in_allowed_actions_is_refused(state, client_user, worker, api_as):
    contract = factories.contract(client_user, worker, state=state)
    worker_api = api_as(worker)
    status, body = worker_api.get(f"/api/contracts/{contract.pk}")
    allowed = {a["action"] for a in body["allowed_actions"]}
    for action in {"accept", "withdraw_offer", "cancel"} - allowed:
        status, refused = worker_api.post(f"/api/contracts/{contract.pk}/actions/{action}")
        assert status == 400 and refused["code"] == "not_allowed", (action, refused)
    contract.refresh_from_db()
    assert contract.state == state


def test_application_allowed_actions_per_role(client_user, worker, api_as):
    application = factories.application(client_user, worker)
    status, as_client = api_as(client_user).get(f"/api/applications/{application.pk}")
    status2, as_worker = api_as(worker).get(f"/api/applications/{application.pk}")
    assert status == status2 == 200
    assert [a["action"] for a in as_client["allowed_actions"]] == ["shortlist", "decline", "offer"]
    assert [a["action"] for a in as_worker["allowed_actions"]] == ["withdraw"]

    status, shortlisted = api_as(client_user).post(f"/api/applications/{application.pk}/actions/shortlist")
    assert status == 200 and shortlisted["state"] == "shortlisted"
    assert [a["action"] for a in shortlisted["allowed_actions"]] == ["unshortlist", "decline", "offer"]


def test_job_allowed_actions_only_for_its_client(client_user, worker, api_as):
    job = factories.job(client_user)
    status, mine = api_as(client_user).get(f"/api/jobs/{job.pk}")
    status2, theirs = api_as(worker).get(f"/api/jobs/{job.pk}")
    assert [a["action"] for a in mine["allowed_actions"]] == ["close"]
    assert theirs["allowed_actions"] == []
    status, closed = api_as(client_user).post(f"/api/jobs/{job.pk}/actions/close")
    assert status == 200 and closed["state"] == "closed"
    assert [a["action"] for a in closed["allowed_actions"]] == ["reopen"]
