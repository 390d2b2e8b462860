"""The clock's batch path for deemed acceptance (anshin/contracts/settle_batch.py) leaves exactly what the
per-row path leaves: the same contracts, audit events, ledger entries and balances, thread messages and
receipts, notifications and their e-mail outbox state, review windows and stale profile figures. Contracts with
a pending 途中終了 request are left to the per-row path and still settle as before."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.db.models import OuterRef
from django.test.utils import CaptureQueriesContext

from anshin.accounts.models import FiguresSnapshot
from anshin.contracts import services as contracts
from anshin.contracts.models import Contract, TerminationRequest
from anshin.core import clock, timers
from anshin.core.models import AuditEvent
from anshin.ledger.models import Account, JournalEntry
from anshin.messaging.models import Message, Receipt, Thread
from anshin.notifications.models import EmailPreference, Notification
from anshin.reviews.models import ReviewWindow
from tests import factories
from tests.twins import sweep_and_capture

pytestmark = pytest.mark.django_db

START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
DEEMED = timedelta(days=7)


@pytest.fixture
def travel():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(timers, "SETTLE_BATCH_SIZE", 2)  # several batches out of a handful of contracts


@pytest.fixture
def people(make_user, client_user, worker):
    other_client = make_user("client2", display_name="合同会社テスト")
    other_worker = make_user("worker2", display_name="佐藤太郎")
    for group in ("deals", "reviews"):  # e-mail off: the outbox state must follow the preference
        EmailPreference.objects.create(user=other_client, group=group, email=False, updated_at=clock.now())
    return client_user, worker, other_client, other_worker


@pytest.fixture
def due(travel, people):
    """Five delivered contracts due at the same instant: three plain (two for the same worker, fee tiers
    apart), one with a pending 途中終了 request, one whose request falls due before the contract."""
    client, worker, other_client, other_worker = people
    plain = [
        factories.contract(client, worker, state="delivered", amount=30_000),
        factories.contract(client, worker, state="delivered", amount=150_000),
        factories.contract(other_client, other_worker, state="delivered", amount=1_000_000),
    ]
    pending = factories.contract(client, other_worker, state="delivered", amount=50_000)
    lapsing = factories.contract(other_client, worker, state="funded", amount=80_000)
    contracts.termination_request_create(contract_id=lapsing.pk, user=worker, reason="体調不良のため",
                                         worker_amount=10_000)  # falls due at START + 7 days
    travel.shift(timedelta(hours=1))
    contracts.contract_deliver(contract_id=lapsing.pk, user=worker, body="納品します。")  # due an hour later
    contracts.termination_request_create(contract_id=pending.pk, user=other_worker, reason="体調不良のため",
                                         worker_amount=20_000)  # falls due an hour after its contract
    everyone = [u.pk for u in people]
    FiguresSnapshot.objects.bulk_create(
        [FiguresSnapshot(user_id=pk, data={}, computed_at=clock.now()) for pk in everyone])
    travel.move_to(START + DEEMED + timedelta(minutes=30))
    return plain, pending, lapsing


def marks() -> dict:
    return {model: model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            for model in (AuditEvent, JournalEntry, Message, Notification, ReviewWindow)}


def capture(since: dict, ids: list[int]) -> dict:
    """What settling left, with the ids of new rows replaced by what they belong to (PostgreSQL does not roll
    sequences back, so the twin runs number their rows differently)."""
    windows = {w.pk: w.contract_id for w in ReviewWindow.objects.filter(pk__gt=since[ReviewWindow])}
    requests = dict(TerminationRequest.objects.values_list("pk", "contract_id"))

    def norm(text: str) -> str:
        for window_id, contract_id in windows.items():
            text = text.replace(f"/reviews/{window_id}/", f"/reviews/<{contract_id}>/")
            text = text.replace(f"review:{window_id}:", f"review:<{contract_id}>:")
        return text

    def subject(event):
        model = event.subject_type.model
        return model, {"reviewwindow": windows, "terminationrequest": requests}.get(model, {}).get(
            event.subject_id, event.subject_id)

    def rows(values):
        return sorted(values, key=repr)

    return {
        "contracts": rows(Contract.objects.filter(pk__in=ids).values()),
        "requests": rows(TerminationRequest.objects.values()),
        "balances": rows(Account.objects.values_list("code", "balance", "name", "allow_negative", "user_id")),
        "entries": rows(
            (e.idempotency_key, e.kind, e.memo, e.ref, e.payload_hash, e.created_at,
             sorted(e.postings.values_list("account__code", "amount")))
            for e in JournalEntry.objects.filter(pk__gt=since[JournalEntry]).prefetch_related("postings")
        ),
        "audit": rows(
            (subject(e), e.action, e.actor_id, e.actor_role, e.from_state, e.to_state, e.payload, e.created_at)
            for e in AuditEvent.objects.filter(pk__gt=since[AuditEvent]).select_related("subject_type")
        ),
        "messages": rows(Message.objects.filter(pk__gt=since[Message])
                         .values_list("thread_id", "sender_id", "kind", "body", "created_at", "masked")),
        "receipts": rows(Receipt.objects.filter(message_id__gt=since[Message])
                         .values_list("message__thread_id", "message__body", "user_id", "read_at")),
        "threads": rows(Thread.objects.filter(contract_id__in=ids)
                        .values_list("pk", "last_message_at", "last_human_message_id")),
        "notifications": rows(
            (n.user_id, n.kind, n.title, n.body, norm(n.url), norm(n.dedupe_key), n.created_at, n.read_at,
             n.message_id, n.email_state, n.email_due_at, n.email_attempts)
            for n in Notification.objects.filter(pk__gt=since[Notification])
        ),
        "windows": rows(
            (w.contract_id, w.client_id, w.worker_id, w.opened_at, w.closes_at, w.revealed_at, w.due_at, w.remind_at)
            for w in ReviewWindow.objects.filter(pk__gt=since[ReviewWindow])
        ),
        "figures": rows(FiguresSnapshot.objects.values_list("user_id", "stale")),
    }


def test_batch_and_per_row_settlements_leave_the_same_rows(due, small_batches):
    plain, pending, lapsing = due
    ids = [c.pk for c in [*plain, pending, lapsing]]

    since = marks()
    batch_done, batched = sweep_and_capture(lambda: capture(since, ids))
    row_done, per_row = sweep_and_capture(lambda: capture(since, ids), per_row=True)

    assert sorted(batch_done) == sorted(row_done)
    assert sorted(batch_done) == sorted(
        [f"contract {c.pk}: deem_accept" for c in [*plain, pending]]
        + [f"contract {lapsing.pk}: reminder 1d", f"contract {lapsing.pk}: terminate"])
    for key in batched:
        assert batched[key] == per_row[key], key
    states = {row["id"]: row["state"] for row in batched["contracts"]}
    assert states == {**{c.pk: "accepted" for c in [*plain, pending]}, lapsing.pk: "terminated"}
    assert {row["contract_id"]: row["state"] for row in batched["requests"]} == {
        pending.pk: "void", lapsing.pk: "agreed"}
    assert sum(1 for n in batched["notifications"] if n[1] == "contract.deem_accept") == 2 * 4
    assert sum(1 for n in batched["notifications"] if n[1] == "review.opened") == 2 * 5
    assert all(stale for _, stale in batched["figures"])
    balances = {code: balance for code, balance, *_ in batched["balances"]}
    assert all(balances[f"escrow:contract:{pk}"] == 0 for pk in ids)


def test_the_batch_path_settles_a_batch_in_a_fixed_number_of_queries(travel, people):
    client, worker, other_client, other_worker = people

    def queries_to_settle(n: int) -> int:
        made = [factories.contract(client if i % 2 else other_client, worker if i % 3 else other_worker,
                                   state="delivered", amount=30_000 + 1_000 * i) for i in range(n)]
        travel.shift(DEEMED)
        with CaptureQueriesContext(connection) as queries:
            done = timers.sweep()
        assert sorted(done) == sorted(f"contract {c.pk}: deem_accept" for c in made)
        return len(queries)

    few = queries_to_settle(3)  # the first also opens the workers' balance accounts
    assert queries_to_settle(9) <= few


def test_a_pending_request_made_just_before_the_claim_sends_the_contract_to_the_per_row_path(due, monkeypatch):
    """The claim's own check may not see a request committed a moment earlier (PostgreSQL): read again under
    the lock, such a contract is left out of the batch and settled one by one."""
    from anshin.contracts import settle_batch

    plain, pending, lapsing = due
    monkeypatch.setattr(settle_batch, "_pending_terminations",  # the claim misses every request
                        lambda: TerminationRequest.objects.filter(contract=OuterRef("pk"), pk__lt=0))

    done = settle_batch.contracts_deem_accept_batch(10)

    assert sorted(done) == sorted(f"contract {c.pk}: deem_accept" for c in plain)
    assert Contract.objects.get(pk=pending.pk).state == "delivered"
    assert f"contract {pending.pk}: deem_accept" in timers.sweep()
    assert Contract.objects.get(pk=pending.pk).state == "accepted"
    assert TerminationRequest.objects.get(contract=pending).state == "void"
