"""トラブル相談 on contracts (PRODUCT.md §2, issue 4): a dispute freezes the contract's clock; an operator ends it
through the flow engine — release (pay the worker like an acceptance), refund (everything back to the client)
or split (the worker's share minus the tiered fee on it, the rest refunded) — with one ledger entry that
empties the escrow to the yen, a system message and notifications to both parties, an audit event carrying
the operator's internal note (which the parties never see), and the queue item closed."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from anshin.contracts import services as contracts
from anshin.contracts.models import Contract
from anshin.core import timers
from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.core.money import tiered_fee
from anshin.deals.disputes import dispute_resolve
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import GATEWAY, REVENUE, balance, escrow_code, worker_code
from anshin.messaging.models import Message
from anshin.notifications.models import Notification
from anshin.ops.models import QueueItem
from anshin.ops.permissions import grant_operator
from tests import factories
from tests.ledger_checks import assert_ledger_sound, ledger_size
from tests.web.helpers import login, text

pytestmark = pytest.mark.django_db

START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
NOTE = "内部メモ：納品物の半分は使える水準と判断（担当 佐藤）"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def fresh(obj):
    return obj.__class__.objects.get(pk=obj.pk)


def disputed(client_user, worker, amount=50_000, state="funded", by=None):
    c = factories.contract(client_user, worker, state=state, amount=amount)
    contracts.contract_open_dispute(contract_id=c.pk, user=by or worker, reason="検収していただけません。")
    return fresh(c)


def resolve(c, operator, outcome, worker_amount=None, note=NOTE):
    return dispute_resolve(
        kind="contract", deal_id=c.pk, operator=operator, outcome=outcome, worker_amount=worker_amount, note=note
    )


def closing_entry(c) -> dict:
    entry = JournalEntry.objects.get(ref=c.ledger_ref, kind__startswith="dispute_")
    return entry, dict(entry.postings.values_list("account__code", "amount"))


def note_leaked() -> bool:
    return (
        Message.objects.filter(body__contains="内部メモ").exists()
        or Notification.objects.filter(body__contains="内部メモ").exists()
        or Notification.objects.filter(title__contains="内部メモ").exists()
    )


def test_a_dispute_freezes_inspection_and_a_split_settles_the_escrow_exactly(clock, client_user, worker, operator):
    c = factories.contract(client_user, worker, state="delivered", amount=50_000)
    clock.shift(timedelta(days=5))  # 2 days of inspection left
    contracts.contract_open_dispute(contract_id=c.pk, user=client_user, reason="納品物が仕様と違います。")
    opened = AuditEvent.objects.get(subject_type__model="contract", subject_id=c.pk, action="open_dispute")
    assert opened.payload["frozen_timer"]["remaining_seconds"] == 2 * 86400
    item = QueueItem.objects.get(subject_type__model="contract", subject_id=c.pk)
    assert (item.kind, item.state, item.concerns) == ("dispute", "open", worker)  # the side complained about

    size = ledger_size()
    clock.shift(timedelta(days=30))
    assert timers.sweep() == []
    c = fresh(c)
    assert c.state == "disputed" and c.due_at is None
    assert ledger_size() == size  # no deemed acceptance, no money moved
    assert balance(escrow_code(c.ledger_ref)) == 50_000

    revenue_before = balance(REVENUE)
    resolve(c, operator, "split", 20_000)

    c = fresh(c)
    assert c.state == "terminated"
    fee = tiered_fee(20_000)
    assert fee == 4_000
    assert balance(escrow_code(c.ledger_ref)) == 0
    assert balance(worker_code(worker.pk)) == 20_000 - fee
    assert balance(REVENUE) - revenue_before == fee
    entry, lines = closing_entry(c)
    assert entry.kind == "dispute_split" and entry.idempotency_key == f"{c.ledger_ref}:dispute_resolution"
    assert lines == {
        escrow_code(c.ledger_ref): -50_000,
        worker_code(worker.pk): 16_000,
        REVENUE: 4_000,
        GATEWAY: 30_000,
    }  # the client gets 30,000 back
    assert_ledger_sound()

    event = AuditEvent.objects.get(subject_type__model="contract", subject_id=c.pk, action="resolve_split")
    assert (event.actor, event.actor_role, event.from_state, event.to_state) == (
        operator,
        "operator",
        "disputed",
        "terminated",
    )
    assert event.payload["note"] == NOTE
    assert (event.payload["worker_amount"], event.payload["fee"], event.payload["refund"]) == (20_000, 4_000, 30_000)
    item = fresh(item)
    assert (item.state, item.closed_by, item.resolution, item.note) == ("closed", operator, "resolve_split", NOTE)

    told = c.thread.messages.order_by("-id").first().body
    assert "分割" in told and "¥16,000" in told and "¥30,000" in told
    for user in (client_user, worker):
        assert Notification.objects.filter(user=user, kind="contract.resolve_split").count() == 1
    assert not note_leaked()


@pytest.mark.parametrize(
    ("outcome", "state", "worker_gets", "client_gets"),
    [("release", "accepted", 50_000 - 10_000, 0), ("refund", "terminated", 0, 50_000)],
)
def test_release_and_refund(clock, client_user, worker, operator, outcome, state, worker_gets, client_gets):
    c = disputed(client_user, worker, state="revision_requested" if outcome == "release" else "funded")
    revenue_before = balance(REVENUE)
    resolve(c, operator, outcome, worker_amount=12_345)  # a share is ignored unless splitting
    c = fresh(c)
    assert c.state == state
    entry, lines = closing_entry(c)
    assert entry.kind == f"dispute_{outcome}"
    assert balance(escrow_code(c.ledger_ref)) == 0
    assert balance(worker_code(worker.pk)) == worker_gets
    assert lines.get(GATEWAY, 0) == client_gets
    assert balance(REVENUE) - revenue_before == 50_000 - worker_gets - client_gets
    assert (c.accepted_at is not None) == (outcome == "release")
    assert JournalEntry.objects.filter(ref=c.ledger_ref).count() == 2  # fund + the one closing entry
    assert_ledger_sound()
    for user in (client_user, worker):
        assert Notification.objects.filter(user=user, kind=f"contract.resolve_{outcome}").exists()
    assert not note_leaked()
    assert not QueueItem.objects.filter(state="open").exists()

    # A second decision is refused and moves no money.
    with pytest.raises(DomainError) as refused:
        resolve(c, operator, "refund")
    assert refused.value.code == "not_allowed"
    assert JournalEntry.objects.filter(ref=c.ledger_ref).count() == 2


@pytest.mark.parametrize("worker_amount", [0, 50_000, -1, 50_001, None, "20000", 20_000.5, True])
def test_invalid_split_amounts_change_nothing(client_user, worker, operator, worker_amount):
    c = disputed(client_user, worker)
    size, events = ledger_size(), AuditEvent.objects.count()
    with pytest.raises(DomainError) as refused:
        resolve(c, operator, "split", worker_amount)
    assert refused.value.code == "invalid_amount" and refused.value.message
    assert fresh(c).state == "disputed"
    assert ledger_size() == size and AuditEvent.objects.count() == events
    assert QueueItem.objects.get().state == "open"


def test_only_operators_may_resolve_and_only_a_disputed_contract(client_user, worker, stranger, operator):
    c = disputed(client_user, worker)
    for user in (client_user, worker, stranger):
        with pytest.raises(NotFound):
            resolve(c, user, "release")
    with pytest.raises(NotFound):
        dispute_resolve(kind="job", deal_id=c.pk, operator=operator, outcome="release", note=NOTE)
    with pytest.raises(DomainError) as refused:
        resolve(c, operator, "release", note="  ")
    assert refused.value.code == "note_required"
    with pytest.raises(DomainError) as refused:
        resolve(c, operator, "halve")
    assert refused.value.code == "unknown_outcome"
    assert fresh(c).state == "disputed"

    funded = factories.contract(client_user, worker, state="funded")
    with pytest.raises(DomainError) as refused:
        resolve(funded, operator, "release")
    assert refused.value.code == "not_allowed"
    assert fresh(funded).state == "funded"
    assert not JournalEntry.objects.filter(kind__startswith="dispute_").exists()


def test_an_operator_who_is_a_party_cannot_decide_their_own_dispute(client_user, worker, operator):
    grant_operator(client_user)
    c = disputed(client_user, worker)
    with pytest.raises(DomainError) as refused:
        resolve(c, client_user, "refund")
    assert refused.value.code == "not_allowed"
    resolve(c, operator, "refund")
    assert fresh(c).state == "terminated"


def test_a_dispute_after_a_refused_termination_is_an_escalation(client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    req = contracts.termination_request_create(
        contract_id=c.pk, user=client_user, worker_amount=0, reason="方針変更のため"
    )
    contracts.termination_answer(request_id=req.pk, user=worker, action="refuse")
    contracts.contract_open_dispute(contract_id=c.pk, user=client_user, reason="話し合いになりません。")
    item = QueueItem.objects.get()
    assert item.kind == "termination_escalation" and item.concerns == worker
    assert item.payload["refused_termination_request"] == req.pk


def test_a_dispute_after_a_withdrawn_request_is_a_plain_dispute(client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    req = contracts.termination_request_create(contract_id=c.pk, user=worker, worker_amount=0, reason="体調不良")
    contracts.termination_answer(request_id=req.pk, user=client_user, action="refuse")
    second = contracts.termination_request_create(contract_id=c.pk, user=worker, worker_amount=0, reason="再度")
    contracts.termination_answer(request_id=second.pk, user=worker, action="withdraw")
    contracts.contract_open_dispute(contract_id=c.pk, user=worker, reason="連絡が取れません。")
    item = QueueItem.objects.get()
    assert item.kind == "dispute" and item.concerns == client_user


def test_an_operator_opened_dispute_concerns_the_worker_and_says_so(client_user, worker, operator):
    c = disputed(client_user, worker, by=operator)
    item = QueueItem.objects.get()
    assert item.concerns == worker and item.opened_by == operator
    body = c.thread.messages.order_by("-id").first().body
    assert body.startswith("事務局がこの契約をトラブル相談として預かりました")
    for user in (client_user, worker):
        assert Notification.objects.filter(user=user, kind="contract.open_dispute").exists()


def test_the_page_and_the_api_show_the_dispute_but_no_resolution_buttons(client_user, worker, operator, api_as):
    c = disputed(client_user, worker)
    page = text(login(operator).get(reverse("contracts:detail", args=[c.pk])))
    assert 'data-testid="dispute-notice"' in page and "resolve_" not in page
    status, body = api_as(operator).get(f"/api/contracts/{c.pk}")
    assert status == 200 and body["state"] == "disputed" and body["allowed_actions"] == []
    status, body = api_as(operator).post(f"/api/contracts/{c.pk}/actions/resolve_release")
    assert status == 400 and body["code"] == "unknown_action"
    assert fresh(c).state == "disputed"

    resolve(c, operator, "split", 10_000)
    page = text(login(client_user).get(reverse("contracts:detail", args=[c.pk])))
    assert "事務局の判断: 分割して精算" in page and "発注者へ返金 ¥40,000" in page
    assert "内部メモ" not in page
    status, events = api_as(worker).get(f"/api/contracts/{c.pk}/timeline")
    decision = next(e for e in events if e["action"] == "resolve_split")
    assert "note" not in decision["payload"] and decision["payload"]["refund"] == 40_000
    status, events = api_as(operator).get(f"/api/contracts/{c.pk}/timeline")
    assert next(e for e in events if e["action"] == "resolve_split")["payload"]["note"] == NOTE


def test_a_replayed_resolution_key_writes_nothing_new(client_user, worker, operator):
    from anshin.ledger.services import Line, entry_post

    c = disputed(client_user, worker)
    resolve(c, operator, "split", 25_000)
    entry, lines = closing_entry(c)
    size = ledger_size()
    again, created = entry_post(
        key=entry.idempotency_key,
        kind=entry.kind,
        ref=c.ledger_ref,
        lines=[Line(code, amount) for code, amount in lines.items()],
    )
    assert (again.pk, created) == (entry.pk, False) and ledger_size() == size
    assert Contract.objects.get(pk=c.pk).state == "terminated"
