"""Overdue (PRODUCT.md §2): 3 days past the delivery date without a delivery, the client may end the contract
alone with a full refund. The line is drawn on Japan's calendar: all of day 3 after the date is still refused,
the first instant of day 4 is allowed. The refund is exact; the worker gets nothing; escrow is 0."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from anshin.contracts import services as contracts
from anshin.contracts.models import Contract
from anshin.core.errors import DomainError
from anshin.core.models import AuditEvent
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import GATEWAY, REVENUE, balance, escrow_code, worker_code
from anshin.notifications.models import Notification
from tests import factories
from tests.web.helpers import login, text

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 4, 1, 10, 0, tzinfo=TOKYO)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def day_after(contract, days: int, at: time) -> datetime:
    return datetime.combine(contract.delivery_date + timedelta(days=days), at, tzinfo=TOKYO)


def terminate(contract, user):
    return contracts.contract_simple_action(contract_id=contract.pk, user=user, action="terminate_overdue")


@pytest.mark.parametrize("state", ["funded", "revision_requested"])
def test_day_three_after_the_date_is_refused_day_four_is_allowed(state, clock, client_user, worker):
    c = factories.contract(client_user, worker, state=state, amount=50_000)
    gateway_before = balance(GATEWAY)

    clock.move_to(day_after(c, 3, time(23, 59, 59, 999_999)))  # the last instant of day 3 (JST)
    with pytest.raises(DomainError) as refused:
        terminate(c, client_user)
    assert refused.value.code == "not_allowed"
    assert "3日過ぎても納品がない場合にのみ" in refused.value.message
    assert Contract.objects.get(pk=c.pk).state == state
    assert not JournalEntry.objects.filter(kind="refund").exists()

    clock.move_to(day_after(c, 4, time(0, 0)))  # the first instant of day 4
    terminate(c, client_user)

    c = Contract.objects.get(pk=c.pk)
    assert c.state == "terminated" and c.state_label == "途中終了"
    refund = JournalEntry.objects.get(kind="refund", ref=c.ledger_ref)
    assert refund.idempotency_key == f"contract:{c.pk}:refund"
    assert dict(refund.postings.values_list("account__code", "amount")) == {
        escrow_code(c.ledger_ref): -50_000,
        GATEWAY: 50_000,
    }
    assert balance(escrow_code(c.ledger_ref)) == 0
    assert balance(GATEWAY) == gateway_before + 50_000
    assert balance(worker_code(worker.pk)) == 0 and balance(REVENUE) == 0
    event = AuditEvent.objects.get(subject_type__model="contract", subject_id=c.pk, action="terminate_overdue")
    assert (event.actor, event.actor_role, event.from_state, event.to_state) == (
        client_user,
        "client",
        state,
        "terminated",
    )
    assert c.due_at is None
    message = c.thread.messages.order_by("-id").first()
    assert "全額" in message.body and "¥50,000" in message.body
    assert Notification.objects.filter(user=worker, kind="contract.terminate_overdue").exists()


def test_the_worker_cannot_end_it_and_a_delivered_contract_is_not_overdue(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    clock.move_to(day_after(c, 10, time(12, 0)))
    with pytest.raises(DomainError) as refused:
        terminate(c, worker)
    assert refused.value.code == "not_allowed"
    delivered = factories.contract(client_user, worker, state="delivered")
    clock.move_to(day_after(delivered, 4, time(0, 0)))
    delivered = Contract.objects.get(pk=delivered.pk)
    if delivered.state == "delivered":  # (deemed acceptance may have come first: either way, no overdue end)
        with pytest.raises(DomainError):
            terminate(delivered, client_user)
    assert not JournalEntry.objects.filter(kind="refund").exists()


def test_a_repeated_click_refunds_once(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    clock.move_to(day_after(c, 4, time(9, 0)))
    terminate(c, client_user)
    with pytest.raises(DomainError):
        terminate(c, client_user)
    assert JournalEntry.objects.filter(ref=c.ledger_ref, kind="refund").count() == 1


def test_the_button_appears_only_once_overdue(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    url = reverse("contracts:detail", args=[c.pk])
    clock.move_to(day_after(c, 3, time(18, 0)))
    assert 'data-action="terminate_overdue"' not in text(login(client_user).get(url))
    clock.move_to(day_after(c, 4, time(8, 0)))
    page = text(login(client_user).get(url))
    assert 'data-action="terminate_overdue"' in page and "納期超過のため契約を終了する" in page
    assert 'data-action="terminate_overdue"' not in text(login(worker).get(url))
    browser = login(client_user)
    response = browser.post(reverse("contracts:action", args=[c.pk, "terminate_overdue"]))
    assert response.status_code == 302
    page = text(browser.get(url))
    assert "途中終了" in page and "仮払いは全額返金されます" in page


def test_the_api_twin_and_its_refusal(clock, client_user, worker, api_as):
    c = factories.contract(client_user, worker, state="funded")
    clock.move_to(day_after(c, 2, time(12, 0)))
    status, body = api_as(client_user).post(f"/api/contracts/{c.pk}/actions/terminate_overdue")
    assert status == 400 and body["code"] == "not_allowed" and "3日" in body["message"]
    clock.move_to(day_after(c, 5, time(12, 0)))
    status, body = api_as(client_user).get(f"/api/contracts/{c.pk}")
    assert "terminate_overdue" in [a["action"] for a in body["allowed_actions"]]
    status, body = api_as(client_user).post(f"/api/contracts/{c.pk}/actions/terminate_overdue")
    assert status == 200 and body["state"] == "terminated" and body["escrow"] == 0
