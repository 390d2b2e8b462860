"""契約途中終了リクエスト (PRODUCT.md §2): either side proposes to end the contract early with a split of the
escrow (default: full refund); the other side agrees or refuses; 7 days of silence = agreement (with a
reminder 2 days before); a refusal lets either side open a dispute (トラブル相談), which freezes the clock and
records an operator queue item once. Money is exact to the yen; a client cannot bypass an inspection."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anshin import rules
from anshin.contracts import selectors
from anshin.contracts import services as contracts
from anshin.contracts.models import Contract, TerminationRequest
from anshin.core import calendar, timers
from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.ledger.models import Account, JournalEntry
from anshin.ledger.services import GATEWAY, REVENUE, balance, escrow_code, worker_code
from anshin.messaging.models import Message
from anshin.notifications.models import Notification
from anshin.ops.models import QueueItem
from tests import factories

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
START = datetime(2026, 4, 1, 10, 0, tzinfo=TOKYO)  # a Wednesday
µs = timedelta(microseconds=1)
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def ask(contract, user, worker_amount=0, reason="先方の事業方針が変わり、案件が中止になったため。"):
    return contracts.termination_request_create(
        contract_id=contract.pk, user=user, worker_amount=worker_amount, reason=reason
    )


def answer(req, user, action):
    return contracts.termination_answer(request_id=req.pk, user=user, action=action)


def fresh(obj):
    return obj.__class__.objects.get(pk=obj.pk)


def postings(contract, kind):
    entry = JournalEntry.objects.get(ref=contract.ledger_ref, kind=kind)
    return entry, dict(entry.postings.values_list("account__code", "amount"))


def snapshot():
    return {
        "requests": sorted(TerminationRequest.objects.values_list("pk", "state", "worker_amount")),
        "contracts": sorted(Contract.objects.values_list("pk", "state", "due_at")),
        "entries": JournalEntry.objects.count(),
        "balances": sorted(Account.objects.values_list("code", "balance")),
        "audit": AuditEvent.objects.count(),
        "messages": Message.objects.count(),
        "notifications": Notification.objects.count(),
        "queue": QueueItem.objects.count(),
    }


def assert_refused(call, code=None):
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        call()
    assert JAPANESE.search(refused.value.message), refused.value.message
    if code:
        assert refused.value.code == code, refused.value
    assert snapshot() == before
    return refused.value


# --- the split ------------------------------------------------------------------------------------------


def test_agreed_split_is_exact_to_the_yen(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="funded", amount=50_000)
    gateway = balance(GATEWAY)
    req = ask(c, worker, worker_amount=30_000)
    assert req.state == "pending" and req.due_at == START + rules.TERMINATION_SILENCE
    assert Notification.objects.filter(user=client_user, kind="contract.termination.request").count() == 1
    assert not Notification.objects.filter(user=worker, kind="contract.termination.request").exists()
    text = c.thread.messages.order_by("-id").first().body
    assert "¥30,000" in text and "¥20,000" in text and "合意したものとみなされます" in text

    answer(req, client_user, "agree")

    c = fresh(c)
    assert c.state == "terminated" and c.due_at is None
    assert fresh(req).state == "agreed" and fresh(req).answered_by == client_user
    entry, lines = postings(c, "termination")
    assert entry.idempotency_key == f"contract:{c.pk}:termination"
    assert lines == {
        escrow_code(c.ledger_ref): -50_000,
        worker_code(worker.pk): 24_000,
        REVENUE: 6_000,
        GATEWAY: 20_000,
    }
    assert balance(escrow_code(c.ledger_ref)) == 0
    assert balance(worker_code(worker.pk)) == 24_000
    assert balance(REVENUE) == 6_000
    assert balance(GATEWAY) == gateway + 20_000
    event = AuditEvent.objects.get(subject_type__model="contract", subject_id=c.pk, action="terminate")
    assert (event.from_state, event.to_state, event.actor_role) == ("funded", "terminated", "system")
    expected = {"worker_amount": 30_000, "fee": 6_000, "worker_net": 24_000, "refund": 20_000, "agreed_by": "client"}
    assert {key: event.payload[key] for key in expected} == expected
    last = c.thread.messages.order_by("-id").first().body
    assert "¥24,000" in last and "¥6,000" in last and "¥20,000" in last


def test_default_is_a_full_refund(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="funded", amount=30_000)
    req = contracts.termination_request_create(contract_id=c.pk, user=client_user, reason="予算がなくなりました。")
    assert req.worker_amount == 0
    answer(req, worker, "agree")
    _, lines = postings(c, "termination")
    assert lines == {escrow_code(c.ledger_ref): -30_000, GATEWAY: 30_000}
    assert balance(worker_code(worker.pk)) == 0 and balance(REVENUE) == 0


@pytest.mark.parametrize(
    "amount, worker_amount, fee",
    [
        (150_000, 150_000, 25_000),  # all to the worker: the same fee as a release
        (150_000, 120_000, 22_000),  # tiers: 20% of 100,000 + 10% of 20,000
        (1_001, 1, 0),  # 20% of ¥1 rounds down to 0
    ],
)
def test_splits_across_fee_tiers(clock, client_user, worker, amount, worker_amount, fee):
    c = factories.contract(client_user, worker, state="funded", amount=amount)
    answer(ask(c, worker, worker_amount=worker_amount), client_user, "agree")
    _, lines = postings(c, "termination")
    expected = {
        escrow_code(c.ledger_ref): -amount,
        worker_code(worker.pk): worker_amount - fee,
        REVENUE: fee,
        GATEWAY: amount - worker_amount,
    }
    assert lines == {k: v for k, v in expected.items() if v}
    assert sum(lines.values()) == 0


@pytest.mark.parametrize(
    "worker_amount, code",
    [
        (-1, "invalid_amount"),
        (50_001, "invalid_amount"),
        (10**12, "invalid_amount"),
        ("3000", "invalid_amount"),
        (30_000.0, "invalid_amount"),
        (True, "invalid_amount"),
    ],
)
def test_bad_split_is_refused_and_changes_nothing(clock, client_user, worker, worker_amount, code):
    c = factories.contract(client_user, worker, state="funded", amount=50_000)
    assert_refused(lambda: ask(c, worker, worker_amount=worker_amount), code)


def test_missing_or_long_reason_is_refused(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    assert_refused(lambda: ask(c, worker, reason=" \n "), "empty")
    assert_refused(lambda: ask(c, worker, reason="長" * 2_001), "too_long")


# --- who may do what ------------------------------------------------------------------------------------


def test_client_cannot_bypass_a_delivery_awaiting_inspection(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="delivered")
    error = assert_refused(lambda: ask(c, client_user), "awaiting_inspection")
    assert "検収合格にするか修正を依頼" in error.message
    assert ask(c, worker).state == "pending"  # the worker may


def test_client_may_ask_once_a_revision_was_requested(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="revision_requested")
    assert ask(c, client_user).state == "pending"


@pytest.mark.parametrize("state", ["offered", "awaiting_funding", "accepted"])
def test_only_while_the_work_is_under_way(clock, client_user, worker, state):
    c = factories.contract(client_user, worker, state=state)
    assert_refused(lambda: ask(c, worker), "not_allowed")


def test_sides_and_strangers(clock, client_user, worker, stranger, operator):
    c = factories.contract(client_user, worker, state="funded")
    req = ask(c, worker, worker_amount=10_000)
    assert_refused(lambda: answer(req, worker, "agree"), "not_allowed")  # not one's own request
    assert_refused(lambda: answer(req, worker, "refuse"), "not_allowed")
    assert_refused(lambda: answer(req, client_user, "withdraw"), "not_allowed")  # only the requester withdraws
    assert_refused(lambda: answer(req, client_user, "lapse"), "unknown_action")
    assert assert_refused(lambda: ask(c, client_user), "already_pending").status == 409
    for action in ("agree", "refuse", "withdraw"):
        before = snapshot()
        with pytest.raises(NotFound):
            answer(req, stranger, action)
        assert snapshot() == before
    with pytest.raises(NotFound):
        ask(c, stranger)
    with pytest.raises(NotFound):
        contracts.termination_answer(request_id=987_654, user=client_user, action="agree")
    answer(req, worker, "withdraw")
    assert fresh(req).state == "withdrawn" and fresh(c).state == "funded"
    assert Notification.objects.filter(user=client_user, kind="contract.termination.withdraw").count() == 1
    # An operator answers as the twin of either side.
    again = ask(c, client_user)
    answer(again, operator, "agree")
    assert fresh(c).state == "terminated"


def test_a_pending_request_is_voided_when_the_delivery_is_accepted(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="delivered")
    req = ask(c, worker, worker_amount=20_000)
    contracts.contract_simple_action(contract_id=c.pk, user=client_user, action="accept")
    assert fresh(req).state == "void"
    assert fresh(c).state == "accepted"
    assert not JournalEntry.objects.filter(kind="termination").exists()
    clock.shift(timedelta(days=8))
    assert timers.sweep() == []  # nothing left to lapse


# --- 7 days of silence ----------------------------------------------------------------------------------


def test_silence_for_seven_days_is_agreement_not_a_microsecond_before(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="funded", amount=50_000)
    req = ask(c, worker, worker_amount=30_000)
    due = START + timedelta(days=7)

    clock.move_to(due - µs)
    assert [line for line in timers.sweep() if "reminder" not in line] == []
    assert fresh(c).state == "funded" and fresh(req).state == "pending"

    clock.move_to(due)
    done = timers.sweep()
    assert f"contract {c.pk}: terminate" in done
    assert timers.sweep() == []
    c = fresh(c)
    assert c.state == "terminated" and fresh(req).state == "agreed"
    assert JournalEntry.objects.filter(ref=c.ledger_ref, kind="termination").count() == 1
    assert balance(worker_code(worker.pk)) == 24_000
    lapse = AuditEvent.objects.get(subject_type__model="terminationrequest", subject_id=req.pk, action="lapse")
    assert lapse.actor_role == "system" and lapse.to_state == "agreed"
    assert "回答がなかったため合意とみなされ" in c.thread.messages.order_by("-id").first().body


def test_reminder_two_days_before_to_the_side_that_must_answer(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    req = ask(c, client_user)
    due = START + timedelta(days=7)
    clock.move_to(due - timedelta(days=2) - µs)
    timers.sweep()
    assert not Notification.objects.filter(kind="contract.termination_reminder").exists()
    clock.move_to(due - timedelta(days=2))
    assert f"termination_request {req.pk}: reminder 2d" in timers.sweep()
    timers.sweep()
    reminder = Notification.objects.get(kind="contract.termination_reminder")
    assert reminder.user == worker and "あと2日" in reminder.title
    assert fresh(req).remind_at is None


def test_reading_the_contract_after_the_silence_settles_it(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    ask(c, client_user)
    clock.move_to(START + timedelta(days=7, seconds=1))
    assert selectors.contract_get(contract_id=c.pk, user=worker).state == "terminated"


def test_an_answer_at_the_lapse_instant_comes_too_late(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    req = ask(c, worker, worker_amount=5_000)
    clock.move_to(req.due_at)
    with pytest.raises(DomainError) as refused:
        answer(req, client_user, "refuse")
    assert refused.value.code in ("not_allowed", "deadline_passed")
    assert fresh(req).state == "agreed" and fresh(c).state == "terminated"
    assert JournalEntry.objects.filter(kind="termination").count() == 1


def test_whichever_deadline_falls_first_wins(clock, client_user, worker):
    # The request lapses (day 7) before the deemed acceptance of a delivery made a day later (day 8).
    first = factories.contract(client_user, worker, state="funded")
    req = ask(first, worker, worker_amount=12_000)
    clock.shift(timedelta(days=1))
    contracts.contract_deliver(contract_id=first.pk, user=worker, body="納品します。")
    # The deemed acceptance (7 days after a delivery) falls before a later request lapses.
    second = factories.contract(client_user, worker, state="delivered")
    clock.shift(timedelta(days=1))
    late = ask(second, worker, worker_amount=12_000)
    clock.shift(timedelta(days=10))
    timers.sweep()
    assert fresh(first).state == "terminated" and fresh(req).state == "agreed"
    assert fresh(second).state == "accepted" and fresh(late).state == "void"
    assert JournalEntry.objects.filter(ref=second.ledger_ref, kind="release").count() == 1
    assert not JournalEntry.objects.filter(ref=second.ledger_ref, kind="termination").exists()


# --- refusal and dispute --------------------------------------------------------------------------------


def test_refusal_then_dispute_freezes_the_clock_and_opens_one_queue_item(clock, client_user, worker):
    c = factories.contract(client_user, worker, state="delivered", amount=40_000)
    old_due = c.due_at
    req = ask(c, worker, worker_amount=40_000)
    clock.shift(timedelta(days=1))
    answer(req, client_user, "refuse")
    assert fresh(req).state == "refused" and fresh(c).state == "delivered"
    assert Notification.objects.filter(user=worker, kind="contract.termination.refuse").count() == 1
    assert "事務局に相談する" in c.thread.messages.order_by("-id").first().body

    contracts.contract_open_dispute(contract_id=c.pk, user=worker, reason="検収いただけず、話し合いもできません。")

    c = fresh(c)
    assert c.state == "disputed" and c.state_label == "トラブル相談中"
    assert c.due_at is None and c.remind_at is None and c.timer_action == ""
    event = AuditEvent.objects.get(subject_type__model="contract", subject_id=c.pk, action="open_dispute")
    frozen = event.payload["frozen_timer"]
    assert frozen["timer_action"] == "deem_accept"
    assert frozen["remaining_seconds"] == (old_due - (START + timedelta(days=1))).total_seconds() == 6 * 86400
    assert event.payload["refused_termination_request"] == req.pk
    item = QueueItem.objects.get(kind="termination_escalation")  # the dispute follows a refused request
    assert (item.subject_id, item.state, item.opened_by, item.concerns) == (c.pk, "open", worker, client_user)
    assert item.due_at == calendar.add_business_days(START + timedelta(days=1), 2)
    assert item.due_at.date() == datetime(2026, 4, 6).date()  # Thu + 2 business days (Fri, Mon)

    # The old deemed-acceptance time passes: nothing happens, no money moves.
    clock.move_to(old_due + timedelta(days=30))
    assert timers.sweep() == []
    assert selectors.contract_get(contract_id=c.pk, user=client_user).state == "disputed"
    assert not JournalEntry.objects.filter(ref=c.ledger_ref, kind__in=["release", "termination"]).exists()
    assert balance(escrow_code(c.ledger_ref)) == 40_000

    # A second click (either side) is refused; the queue item stays one.
    assert_refused(
        lambda: contracts.contract_open_dispute(contract_id=c.pk, user=client_user, reason="再度"), "not_allowed"
    )
    assert QueueItem.objects.filter(kind="termination_escalation").count() == 1
    assert_refused(lambda: ask(c, worker), "not_allowed")


def test_a_dispute_can_be_opened_directly_and_voids_a_pending_request(clock, client_user, worker, stranger):
    c = factories.contract(client_user, worker, state="funded")
    req = ask(c, worker, worker_amount=1_000)
    assert_refused(lambda: contracts.contract_open_dispute(contract_id=c.pk, user=client_user, reason=""), "empty")
    with pytest.raises(NotFound):
        contracts.contract_open_dispute(contract_id=c.pk, user=stranger, reason="部外者")
    contracts.contract_open_dispute(contract_id=c.pk, user=client_user, reason="連絡が取れません。")
    assert fresh(c).state == "disputed" and fresh(req).state == "void"
    clock.shift(timedelta(days=8))
    assert timers.sweep() == []
    assert not JournalEntry.objects.filter(kind="termination").exists()
