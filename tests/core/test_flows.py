"""The flow engine and the contract table: unknown actions and wrong actors are refused, every timer has a
SYSTEM row, every party move has an operator twin, and `allowed` gives each role the right buttons."""

from datetime import timedelta

import pytest

from anshin.contracts.flow import CONTRACT_FLOW, TERMINATION_FLOW
from anshin.contracts.models import Contract
from anshin.contracts.selectors import contract_actions
from anshin.core import flows
from anshin.core.errors import DomainError
from anshin.core.flows import Actor, Flow, T, Timer
from anshin.core.models import AuditEvent
from anshin.deals.flow import DATE_CHANGE_FLOW
from anshin.jobs.flow import APPLICATION_FLOW, JOB_FLOW
from tests import factories

C, W, O, S = Actor.CLIENT, Actor.WORKER, Actor.OPERATOR, Actor.SYSTEM  # noqa: E741 - the flow table's letters
ALL_FLOWS = [CONTRACT_FLOW, APPLICATION_FLOW, JOB_FLOW, TERMINATION_FLOW, DATE_CHANGE_FLOW]


def names(transitions) -> list[str]:
    return sorted(t.action for t in transitions)


# --- the engine refuses ---------------------------------------------------------------------------------------

def test_unknown_action_is_refused_in_japanese():
    with pytest.raises(DomainError) as refused:
        CONTRACT_FLOW.find("teleport", "delivered", C)
    assert refused.value.code == "unknown_action"
    assert "「teleport」という操作はありません" in refused.value.message


@pytest.mark.parametrize(("action", "state", "actor"), [
    ("accept", "delivered", W),          # the worker cannot accept their own delivery
    ("deliver", "funded", C),
    ("fund", "awaiting_funding", W),
    ("accept_offer", "offered", C),
    ("deem_accept", "delivered", C),     # SYSTEM rows are for the clock only
    ("deem_accept", "delivered", O),
    ("lapse", "offered", W),
    ("accept", "funded", C),             # right actor, wrong state
    ("deliver", "accepted", W),
    ("deem_accept", "revision_requested", S),
])
def test_wrong_actor_or_state_is_not_allowed(action, state, actor):
    with pytest.raises(DomainError) as refused:
        CONTRACT_FLOW.find(action, state, actor)
    assert refused.value.code == "not_allowed"
    assert CONTRACT_FLOW.states[state] in refused.value.message


@pytest.mark.django_db
def test_a_refused_apply_changes_nothing(client_user, worker):
    c = factories.contract(client_user, worker, state="delivered")
    before = (c.state, c.state_entered_at, c.due_at, c.timer_action, c.remind_at)
    audits = AuditEvent.objects.count()
    for action, actor in (("accept", W), ("fly", C), ("deem_accept", C)):
        with pytest.raises(DomainError):
            flows.apply(c, action, actor=actor)
    c = Contract.objects.get(pk=c.pk)
    assert (c.state, c.state_entered_at, c.due_at, c.timer_action, c.remind_at) == before
    assert AuditEvent.objects.count() == audits


@pytest.mark.django_db
def test_apply_arms_the_timer_of_the_new_state_from_this_entry(client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    assert (c.due_at, c.timer_action, c.remind_at) == (None, "", None)
    c = Contract.objects.select_for_update().get(pk=c.pk)
    flows.apply(c, "deliver", actor=W, user=worker)
    assert c.timer_action == "deem_accept"
    assert c.due_at == c.state_entered_at + timedelta(days=7)
    assert c.remind_at == c.due_at - timedelta(days=3)
    event = AuditEvent.objects.filter(subject_id=c.pk, subject_type__model="contract").last()
    assert (event.action, event.from_state, event.to_state, event.actor_role) == ("deliver", "funded", "delivered",
                                                                                  "worker")


# --- the tables are well formed ---------------------------------------------------------------------------------

@pytest.mark.parametrize("timer", CONTRACT_FLOW.timers, ids=lambda t: t.action)
def test_every_contract_timer_points_to_a_system_row(timer):
    rows = [t for t in CONTRACT_FLOW.transitions if t.action == timer.action]
    assert len(rows) == 1
    assert rows[0].actors == (S,)
    assert timer.state in rows[0].sources
    assert timer.after == timedelta(days=7)


def test_every_system_row_has_a_timer_and_timers_are_seven_days():
    # `terminate` is the one SYSTEM row without a timer of its own: it follows an agreed termination request,
    # whose own table has the 7-day silence timer.
    system_rows = {t.action for t in CONTRACT_FLOW.transitions if S in t.actors}
    assert system_rows - {"terminate"} == {timer.action for timer in CONTRACT_FLOW.timers} == {
        "lapse", "expire_funding", "deem_accept"}
    assert TERMINATION_FLOW.timer_for("pending").after == timedelta(days=7)
    assert TERMINATION_FLOW.timer_for("pending").action == "lapse"
    assert CONTRACT_FLOW.timer_for("delivered").reminders == (timedelta(days=3), timedelta(days=1))


@pytest.mark.parametrize("flow", ALL_FLOWS, ids=lambda f: f.name)
def test_every_party_move_has_an_operator_twin(flow):
    for t in flow.transitions:
        if {C, W} & set(t.actors):
            assert O in t.actors, t.action
        assert t.actors == (S,) or S not in t.actors, f"{t.action}: SYSTEM shares a row with people"


@pytest.mark.parametrize("flow", ALL_FLOWS, ids=lambda f: f.name)
def test_buttons_have_japanese_labels(flow):
    for t in flow.transitions:
        if S not in t.actors:
            assert t.label, t.action
            assert t.style in ("primary", "secondary", "danger")


def test_terminal_states_have_no_way_out():
    assert CONTRACT_FLOW.terminal == {"accepted", "lapsed", "cancelled", "terminated"}
    assert "disputed" not in CONTRACT_FLOW.terminal  # an operator resolves it (issue 4)
    assert CONTRACT_FLOW.timer_for("disputed") is None  # disputes freeze the clock
    for t in CONTRACT_FLOW.transitions:
        assert not CONTRACT_FLOW.terminal & set(t.sources), t.action
    for state in CONTRACT_FLOW.terminal:
        assert CONTRACT_FLOW.timer_for(state) is None


def test_a_timer_without_a_system_row_is_rejected_when_the_table_is_built():
    with pytest.raises(AssertionError, match="no SYSTEM row"):
        Flow(name="broken", states={"a": "A", "b": "B"}, transitions=[T("go", ("a",), "b", (C,))],
             timers=[Timer("a", timedelta(days=1), "go")])
    with pytest.raises(AssertionError, match="unknown states"):
        Flow(name="broken", states={"a": "A"}, transitions=[T("go", ("a",), "nowhere", (C,))])


# --- buttons per role -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("state", "role", "buttons"), [
    ("offered", C, ["withdraw_offer"]),
    ("offered", W, ["accept_offer", "decline_offer"]),
    ("offered", O, ["accept_offer", "decline_offer", "withdraw_offer"]),
    ("awaiting_funding", C, ["cancel", "fund"]),
    ("awaiting_funding", W, ["cancel"]),
    ("funded", C, ["open_dispute", "terminate_overdue"]),  # terminate_overdue: guarded (see test_overdue)
    ("funded", W, ["deliver", "open_dispute"]),
    ("delivered", C, ["accept", "open_dispute", "request_revision"]),
    ("delivered", W, ["open_dispute"]),
    ("delivered", O, ["accept", "open_dispute", "request_revision"]),
    ("revision_requested", C, ["open_dispute", "terminate_overdue"]),
    ("revision_requested", W, ["deliver", "open_dispute"]),
    ("terminated", O, []),
    ("disputed", C, []),
    ("disputed", W, []),
    ("accepted", C, []),
    ("accepted", W, []),
    ("accepted", O, []),
    ("lapsed", O, []),
    ("cancelled", W, []),
])
def test_allowed_lists_the_right_buttons_per_role(state, role, buttons):
    assert names(CONTRACT_FLOW.allowed(state, [role])) == buttons


def test_system_rows_are_never_buttons():
    for state in CONTRACT_FLOW.states:
        for t in CONTRACT_FLOW.allowed(state, [C, W, O]):
            assert S not in t.actors


def test_application_buttons():
    assert names(APPLICATION_FLOW.allowed("applied", [C])) == ["decline", "offer", "shortlist"]
    assert names(APPLICATION_FLOW.allowed("applied", [W])) == ["withdraw"]
    assert names(APPLICATION_FLOW.allowed("shortlisted", [C])) == ["decline", "offer", "unshortlist"]
    assert names(APPLICATION_FLOW.allowed("declined", [C, W, O])) == []
    assert names(JOB_FLOW.allowed("open", [C])) == ["close"]
    assert names(JOB_FLOW.allowed("open", [W])) == []


@pytest.mark.django_db
def test_contract_actions_follow_the_users_role(client_user, worker, stranger, operator):
    c = factories.contract(client_user, worker, state="delivered")
    assert names(contract_actions(contract=c, user=client_user)) == ["accept", "open_dispute", "request_revision"]
    assert names(contract_actions(contract=c, user=worker)) == ["open_dispute"]
    assert names(contract_actions(contract=c, user=operator)) == ["accept", "open_dispute", "request_revision"]
    assert contract_actions(contract=c, user=stranger) == []
