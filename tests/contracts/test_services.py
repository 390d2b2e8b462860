"""Contract services: every move by the wrong party or in the wrong state is refused with a Japanese message
and changes nothing; every allowed move writes one audit event and one system message; bad input (amounts,
dates, cards, files) changes nothing; a non-party gets 404."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from anshin import rules
from anshin.contracts import services as contracts
from anshin.contracts.flow import CONTRACT_FLOW
from anshin.contracts.models import Contract, Delivery
from anshin.core import clock
from anshin.core.errors import DomainError, NotFound
from anshin.core.flows import Actor
from anshin.core.models import AuditEvent
from anshin.jobs.models import Application
from anshin.ledger.models import Account, JournalEntry, Posting
from anshin.ledger.services import GATEWAY, REVENUE, balance, escrow_code, worker_code
from anshin.messaging.models import Attachment, Message
from anshin.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db


JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

PARTY_ACTIONS = ["accept_offer", "decline_offer", "withdraw_offer", "fund", "cancel", "deliver", "accept",
                 "request_revision"]


def act(action: str, contract, user, **extra):
    """Call the one service behind `action`, the way a view or the API does."""
    if action == "fund":
        return contracts.contract_fund(contract_id=contract.pk, user=user, **extra)
    if action == "deliver":
        extra.setdefault("body", "納品します。ご確認ください。")
        return contracts.contract_deliver(contract_id=contract.pk, user=user, **extra)
    if action == "request_revision":
        extra.setdefault("reason", "見出しの表記を統一してください。")
        return contracts.contract_request_revision(contract_id=contract.pk, user=user, **extra)
    return contracts.contract_simple_action(contract_id=contract.pk, user=user, action=action)


def build(client, worker, state: str, amount: int = 30_000) -> Contract:
    if state == "cancelled":
        c = factories.contract(client, worker, state="offered", amount=amount)
        act("withdraw_offer", c, client)
    else:
        c = factories.contract(client, worker, state=state, amount=amount)
    c.refresh_from_db()
    return c


def snapshot(contract=None) -> dict:
    """Everything a refused action must leave untouched."""
    snap = {
        "entries": JournalEntry.objects.count(),
        "postings": Posting.objects.count(),
        "balances": sorted(Account.objects.values_list("code", "balance")),
        "audit": AuditEvent.objects.count(),
        "messages": Message.objects.count(),
        "notifications": Notification.objects.count(),
        "deliveries": Delivery.objects.count(),
        "attachments": Attachment.objects.count(),
        "contracts": sorted(Contract.objects.values_list("pk", "state", "due_at", "remind_at", "funded_at",
                                                         "accepted_at")),
        "applications": sorted(Application.objects.values_list("pk", "state")),
    }
    return snap


def assert_refused(call, code: str | None = None) -> DomainError:
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        call()
    assert JAPANESE.search(refused.value.message), refused.value.message
    if code:
        assert refused.value.code == code
    assert snapshot() == before
    return refused.value


STATES = ["offered", "awaiting_funding", "funded", "delivered", "revision_requested", "accepted", "cancelled"]
ROLES = {"client": Actor.CLIENT, "worker": Actor.WORKER}

REFUSED = [
    (state, action, role)
    for state in STATES
    for action in PARTY_ACTIONS
    for role in ROLES
    if not any(t.action == action and state in t.sources and ROLES[role] in t.actors
               for t in CONTRACT_FLOW.transitions)
]
ALLOWED = [
    (state, action, role)
    for state in STATES
    for action in PARTY_ACTIONS
    for role in ROLES
    if (state, action, role) not in REFUSED
]


@pytest.mark.parametrize(("state", "action", "role"), REFUSED)
def test_wrong_party_or_wrong_state_is_refused_and_changes_nothing(client_user, worker, state, action, role):
    c = build(client_user, worker, state)
    user = client_user if role == "client" else worker
    error = assert_refused(lambda: act(action, c, user))
    assert error.code == "not_allowed"
    assert error.status == 400


@pytest.mark.parametrize(("state", "action", "role"), ALLOWED)
def test_every_allowed_move_writes_one_audit_event_and_one_system_message(client_user, worker, state, action, role):
    c = build(client_user, worker, state)
    user = client_user if role == "client" else worker
    target = CONTRACT_FLOW.find(action, state, ROLES[role]).target
    audit_before = AuditEvent.objects.filter(subject_id=c.pk, subject_type__model="contract").count()
    thread_before = c.thread.messages.count()

    act(action, c, user)

    c.refresh_from_db()
    assert c.state == target
    events = AuditEvent.objects.filter(subject_id=c.pk, subject_type__model="contract").order_by("id")
    assert events.count() == audit_before + 1
    event = events.last()
    assert (event.action, event.from_state, event.to_state, event.actor, event.actor_role) == (
        action, state, target, user, ROLES[role])
    new_messages = list(c.thread.messages.order_by("id")[thread_before:])
    assert len(new_messages) == 1
    assert new_messages[0].kind == Message.Kind.SYSTEM
    assert new_messages[0].sender is None
    assert JAPANESE.search(new_messages[0].body)
    # Both parties get a receipt, so the system message counts as unread for each of them.
    assert set(new_messages[0].receipts.values_list("user_id", flat=True)) == {client_user.pk, worker.pk}


def test_offer_writes_audit_event_and_system_message(client_user, worker):
    c = factories.contract(client_user, worker, state="offered")
    event = AuditEvent.objects.get(subject_id=c.pk, subject_type__model="contract")
    assert (event.action, event.from_state, event.to_state, event.actor) == ("offer", "", "offered", client_user)
    message = c.thread.messages.get()
    assert message.kind == Message.Kind.SYSTEM
    assert "契約オファー" in message.body
    assert c.application.state == "offered"


# --- non-parties ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("action", PARTY_ACTIONS)
@pytest.mark.parametrize("state", ["offered", "awaiting_funding", "delivered"])
def test_a_non_party_gets_404_and_changes_nothing(client_user, worker, stranger, state, action):
    c = build(client_user, worker, state)
    before = snapshot()
    with pytest.raises(NotFound) as refused:
        act(action, c, stranger)
    assert refused.value.status == 404
    assert JAPANESE.search(refused.value.message)
    assert snapshot() == before


def test_a_missing_contract_is_404(client_user):
    with pytest.raises(NotFound):
        contracts.contract_simple_action(contract_id=999_999, user=client_user, action="accept")
    with pytest.raises(NotFound):
        contracts.contract_fund(contract_id=999_999, user=client_user)


def test_an_operator_can_take_the_twin_of_a_party_move(client_user, worker, operator):
    c = build(client_user, worker, "delivered", amount=200_000)
    act("accept", c, operator)
    c.refresh_from_db()
    assert c.state == "accepted"
    event = AuditEvent.objects.filter(subject_id=c.pk, subject_type__model="contract").last()
    assert (event.actor, event.actor_role) == (operator, "operator")
    assert balance(worker_code(worker.pk)) == 200_000 - 30_000


def test_the_simple_action_refuses_form_actions_and_unknown_or_system_actions(client_user, worker):
    c = build(client_user, worker, "delivered")
    for action in ("fund", "deliver", "request_revision"):
        error = assert_refused(
            lambda action=action: contracts.contract_simple_action(contract_id=c.pk, user=client_user, action=action))
        assert error.code == "needs_input"
    for action in ("deem_accept", "lapse", "delete_everything"):
        error = assert_refused(
            lambda action=action: contracts.contract_simple_action(contract_id=c.pk, user=client_user, action=action))
        assert error.code == "unknown_action"


# --- offers: amounts and dates ------------------------------------------------------------------------------

@pytest.mark.parametrize("amount", [-30_000, -1, 0, rules.MIN_AMOUNT - 1, rules.MAX_AMOUNT + 1, 10**12, 10**30,
                                    30_000.5, 30_000.0, "30000", True, None])
def test_offer_with_a_bad_amount_is_refused_and_changes_nothing(client_user, worker, amount):
    app = factories.application(client_user, worker)
    error = assert_refused(lambda: contracts.contract_offer(
        application_id=app.pk, user=client_user, amount=amount,
        delivery_date=clock.today() + timedelta(days=10)))
    assert error.code == "invalid_amount"
    assert not Contract.objects.exists()


@pytest.mark.parametrize("amount", [rules.MIN_AMOUNT, rules.MAX_AMOUNT])
def test_offer_at_the_amount_bounds_is_accepted(client_user, worker, amount):
    app = factories.application(client_user, worker)
    c = contracts.contract_offer(application_id=app.pk, user=client_user, amount=amount,
                                 delivery_date=clock.today())
    assert c.amount == amount
    assert c.state == "offered"


def test_offer_with_a_past_delivery_date_is_refused(client_user, worker):
    app = factories.application(client_user, worker)
    error = assert_refused(lambda: contracts.contract_offer(
        application_id=app.pk, user=client_user, amount=30_000,
        delivery_date=clock.today() - timedelta(days=1)))
    assert error.code == "invalid_date"


def test_only_the_jobs_client_can_offer(client_user, worker, stranger):
    app = factories.application(client_user, worker)
    for user in (worker, stranger):
        before = snapshot()
        with pytest.raises(NotFound):
            contracts.contract_offer(application_id=app.pk, user=user, amount=30_000,
                                     delivery_date=clock.today() + timedelta(days=5))
        assert snapshot() == before


def test_an_application_gets_one_offer(client_user, worker):
    c = factories.contract(client_user, worker, state="offered")
    error = assert_refused(lambda: contracts.contract_offer(
        application_id=c.application_id, user=client_user, amount=30_000,
        delivery_date=clock.today() + timedelta(days=5)))
    assert error.code == "not_allowed"


# --- funding -------------------------------------------------------------------------------------------------

def test_funding_holds_the_whole_amount_in_escrow(client_user, worker):
    c = build(client_user, worker, "awaiting_funding", amount=123_456)
    act("fund", c, client_user)
    c.refresh_from_db()
    assert c.state == "funded"
    assert c.funded_at is not None
    assert balance(escrow_code(c.ledger_ref)) == 123_456
    assert balance(GATEWAY) == -123_456
    entry = JournalEntry.objects.get(kind="fund", ref=c.ledger_ref)
    assert sum(entry.postings.values_list("amount", flat=True)) == 0


def test_a_declined_card_writes_nothing_and_the_contract_still_awaits_funding(client_user, worker):
    c = build(client_user, worker, "awaiting_funding")
    error = assert_refused(lambda: act("fund", c, client_user, card_token="tok_decline"), code="payment_declined")
    assert error.status == 402
    assert "承認されませんでした" in error.message
    c.refresh_from_db()
    assert c.state == "awaiting_funding"
    assert not JournalEntry.objects.filter(ref=c.ledger_ref).exists()
    # A good card afterwards works.
    act("fund", c, client_user)
    assert balance(escrow_code(c.ledger_ref)) == 30_000


def test_funding_twice_is_refused_and_escrow_is_not_doubled(client_user, worker):
    c = build(client_user, worker, "funded")
    assert_refused(lambda: act("fund", c, client_user), code="not_allowed")
    assert balance(escrow_code(c.ledger_ref)) == 30_000


# --- delivery and revision: bad input -----------------------------------------------------------------------

def upload(name: str, size: int = 10, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"x" * size, content_type=content_type)


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"body": ""}, "empty"),
    ({"body": "   \n "}, "empty"),
    ({"body": "あ" * (rules.MESSAGE_MAX_LENGTH + 1)}, "too_long"),
    ({"links": "ftp://example.com/file.zip"}, "invalid_link"),
    ({"links": "javascript:alert(1)"}, "invalid_link"),
    ({"links": "https://example.com/ok\nnot a url"}, "invalid_link"),
    ({"files": [upload("virus.exe")]}, "file_type"),
    ({"files": [upload("archive.tar.gz")]}, "file_type"),
    ({"files": [upload("noextension")]}, "file_type"),
    ({"files": [upload("huge.pdf", rules.ATTACHMENT_MAX_BYTES + 1)]}, "file_too_large"),
    ({"files": [upload("empty.pdf", 0)]}, "file_empty"),
    ({"files": [upload(f"p{i}.png") for i in range(rules.ATTACHMENT_MAX_FILES + 1)]}, "too_many_files"),
    ({"files": [upload("ok.pdf"), upload("bad.exe")]}, "file_type"),
])
def test_delivery_with_bad_input_is_refused_and_changes_nothing(client_user, worker, kwargs, code):
    c = build(client_user, worker, "funded")
    assert_refused(lambda: act("deliver", c, worker, **kwargs), code=code)


def test_delivery_with_links_and_files_is_saved(client_user, worker):
    c = build(client_user, worker, "funded")
    files = [upload("report.pdf", 2048), upload("photo.JPG", rules.ATTACHMENT_MAX_BYTES)]
    delivery = act("deliver", c, worker, body="納品物です。", links=" https://example.com/a \n\nhttp://example.com/b",
                   files=files)
    assert delivery.link_list == ["https://example.com/a", "http://example.com/b"]
    saved = sorted(delivery.attachments.values_list("name", "size", "content_type"))
    assert saved == [("photo.JPG", rules.ATTACHMENT_MAX_BYTES, "image/jpeg"), ("report.pdf", 2048, "application/pdf")]


@pytest.mark.parametrize(("reason", "code"), [("", "empty"), ("  ", "empty"), ("理" * 2_001, "too_long")])
def test_revision_request_needs_a_reason(client_user, worker, reason, code):
    c = build(client_user, worker, "delivered")
    assert_refused(lambda: act("request_revision", c, client_user, reason=reason), code=code)


def test_revision_reason_is_told_in_the_thread(client_user, worker):
    c = build(client_user, worker, "delivered")
    act("request_revision", c, client_user, reason="ロゴを大きくしてください")
    assert "ロゴを大きくしてください" in c.thread.messages.order_by("-id").first().body
    assert AuditEvent.objects.filter(subject_id=c.pk, action="request_revision").get().payload == {
        "reason": "ロゴを大きくしてください"}


# --- release --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "fee"), [(1_000, 200), (100_000, 20_000), (150_000, 25_000), (300_000, 35_000)])
def test_acceptance_releases_escrow_to_the_worker_net_of_the_tiered_fee(client_user, worker, amount, fee):
    c = build(client_user, worker, "delivered", amount=amount)
    act("accept", c, client_user)
    assert balance(escrow_code(c.ledger_ref)) == 0
    assert balance(worker_code(worker.pk)) == amount - fee
    assert balance(REVENUE) == fee
    release = JournalEntry.objects.get(kind="release", ref=c.ledger_ref)
    assert sorted(release.postings.values_list("account__code", "amount")) == sorted(
        [(escrow_code(c.ledger_ref), -amount), (worker_code(worker.pk), amount - fee), (REVENUE, fee)])
    assert f"¥{amount - fee:,}" in c.thread.messages.order_by("-id").first().body
