"""Hypothesis stateful test of service orders: random sequences of purchases (some cards declined), every
order action by every kind of actor (right and wrong), the seller's first message, キャンセル申請 and their
answers, overdue termination, clock jumps (to exact deadlines too), sweeps, reads and idempotency replays.

After every step: every entry balances, no account but the gateway is negative, cached balances equal their
postings; an open order holds exactly its total in escrow and a closed one nothing; seller net + fees +
refunds = what the buyer paid; at most one payout or refund per order; at most one pending キャンセル申請 —
and every call did what the flow table says. Disputes are opened by either side or an operator and resolved
by an operator (release, refund, or a random split of the price, valid or not): a disputed order holds its
total and one open queue item, and a resolution empties the escrow exactly in one entry."""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from anshin.accounts.models import User
from anshin.core import clock, timers
from anshin.core.errors import DomainError, NotFound
from anshin.core.flows import Actor
from anshin.core.models import AuditEvent
from anshin.deals.disputes import dispute_resolve
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import GATEWAY, REVENUE, Line, balance, escrow_code, worker_code
from anshin.messaging.services import message_send
from anshin.ops.models import QueueItem
from anshin.ops.permissions import grant_operator
from anshin.orders import selectors
from anshin.orders import services as orders
from anshin.orders.flow import CANCEL_REASONS, OPEN, ORDER_FLOW, RESOLVE_ACTIONS
from anshin.orders.models import CancelRequest, Order
from tests import factories
from tests.ledger_checks import assert_ledger_sound, assert_replay_writes_nothing, ledger_size

START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
ACTIONS = ["accept", "deliver", "approve", "request_revision", "terminate_overdue", "open_dispute",
           "resolve_release", "resolve_refund", "resolve_split"]
WHO = ["buyer", "seller", "stranger", "operator"]
ROLES = {"buyer": Actor.CLIENT, "seller": Actor.WORKER, "operator": Actor.OPERATOR}
REASONS = sorted({code for side in CANCEL_REASONS.values() for code in side})
_serial = itertools.count()

prices = st.sampled_from([1_000, 1_001, 9_999, 10_000, 33_333, 123_457])
jumps = st.one_of(
    st.sampled_from([timedelta(microseconds=1), timedelta(hours=1), timedelta(hours=6), timedelta(hours=24),
                     timedelta(hours=48), timedelta(days=4)]),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=12)),
)


def call(action: str, order_id: int, user):
    if action == "deliver":
        return orders.order_deliver(order_id=order_id, user=user, body="納品します。")
    if action == "request_revision":
        return orders.order_request_revision(order_id=order_id, user=user, reason="修正をお願いします。")
    if action == "open_dispute":
        return orders.order_open_dispute(order_id=order_id, user=user, reason="事務局に相談します。")
    if action in RESOLVE_ACTIONS:
        subtotal = Order.objects.values_list("subtotal", flat=True).get(pk=order_id)
        return dispute_resolve(kind="order", deal_id=order_id, operator=user, outcome=action.removeprefix("resolve_"),
                               worker_amount=subtotal // 3, note="内部メモ")
    return orders.order_simple_action(order_id=order_id, user=user, action=action)


def anything_due(order: Order) -> bool:
    now = clock.now()
    return bool((order.due_at and order.due_at <= now)
                or order.cancel_requests.filter(state="pending", due_at__lte=now).exists())


class OrderMachine(RuleBasedStateMachine):
    orders_ = Bundle("orders")

    def __init__(self):
        super().__init__()
        self.traveller = time_machine.travel(START, tick=False)
        self.clock = self.traveller.start()
        n = next(_serial)
        self.users = {
            who: User.objects.create_user(email=f"om{n}-{who}@example.com", password="pass-Anshin-2026",
                                          display_name=f"{who}{n}", is_staff=(who == "operator"))
            for who in WHO
        }
        grant_operator(self.users["operator"])
        self.ids: list[int] = []
        self.listing = None

    def teardown(self):
        self.traveller.stop()

    # --- rules -------------------------------------------------------------------------------------------

    @initialize(target=orders_, price=prices, revisions=st.integers(0, 2))
    def first_purchase(self, price, revisions):
        self.listing = factories.listing(self.users["seller"], price=price, delivery_days=1,
                                         included_revisions=revisions, options=[], questions=[])
        return self.purchase("tok_visa")

    @rule(target=orders_, card=st.sampled_from(["tok_visa", "tok_visa", "tok_decline"]))
    def purchase(self, card):
        if len(self.ids) >= 3:
            return multiple()
        size = ledger_size()
        try:
            order = orders.order_purchase(listing_id=self.listing.pk, user=self.users["buyer"], card_token=card)
        except DomainError as error:
            assert card == "tok_decline" and error.code == "payment_declined"
            assert ledger_size() == size  # a declined card writes nothing
            return multiple()
        assert card != "tok_decline"
        self.ids.append(order.pk)
        return order.pk

    @rule(order_id=orders_, action=st.sampled_from(ACTIONS), who=st.sampled_from(WHO))
    def act(self, order_id, action, who):
        self.attempt(order_id, action, who)

    @rule(order_id=orders_, data=st.data())
    def advance(self, order_id, data):
        """A move the table allows now (guards included), by one of the actors allowed: drives orders deep."""
        order = Order.objects.get(pk=order_id)
        moves = [t for t in ORDER_FLOW.allowed(order.state, [Actor.CLIENT, Actor.WORKER, Actor.OPERATOR], order)
                 if t.action in ACTIONS]
        if not moves:
            return
        move = data.draw(st.sampled_from(moves), label="move")
        who = data.draw(st.sampled_from([w for w, r in ROLES.items() if r in move.actors]), label="who")
        self.attempt(order_id, move.action, who)

    @rule(order_id=orders_, data=st.data())
    def advance_more(self, order_id, data):
        self.advance(order_id, data)

    def attempt(self, order_id, action, who):
        before = Order.objects.get(pk=order_id)
        due = anything_due(before)
        role = ROLES.get(who)
        expected = NotFound
        if role and not due:
            try:
                expected = ORDER_FLOW.find(action, before.state, role, before).target
            except DomainError as refusal:
                expected = refusal.code
        console_only = action in RESOLVE_ACTIONS and role != Actor.OPERATOR
        if console_only:
            expected = NotFound  # the operations console's: nobody else learns it exists (whatever the clock did)
        entries = JournalEntry.objects.filter(ref=before.ledger_ref).count()
        try:
            call(action, order_id, self.users[who])
            outcome = "ok"
        except NotFound:
            outcome = NotFound
        except DomainError as error:
            outcome = error.code
        event(f"{action} by {who}: {'ok' if outcome == 'ok' else 'refused'}")
        after = Order.objects.get(pk=order_id)
        if due and role and not console_only:  # the clock decided first; the click was judged on the settled state
            assert outcome in ("ok", "not_allowed", "deadline_passed"), outcome
            return
        if outcome == "ok":
            assert expected in ORDER_FLOW.states, (action, who, before.state, expected)
            assert after.state == expected
        else:
            assert outcome == expected, (action, who, before.state, outcome, expected)
            if not due:
                assert after.state == before.state
                assert JournalEntry.objects.filter(ref=before.ledger_ref).count() == entries

    # --- disputes ---------------------------------------------------------------------------------------------

    @precondition(lambda self: len(self.ids) < 4)
    @rule(state=st.sampled_from(["purchased", "responded", "in_progress", "delivered"]),
          opener=st.sampled_from(["buyer", "seller", "operator"]), who=st.sampled_from(["operator"] * 5 + WHO),
          outcome=st.sampled_from(["release", "refund", "split", "split"]), data=st.data())
    def dispute_an_open_order(self, state, opener, who, outcome, data):
        """An open order (random ones often end before anyone disputes them), disputed and resolved."""
        order = factories.order(self.users["buyer"], self.users["seller"], state=state, a_listing=self.listing)
        self.ids.append(order.pk)
        self.attempt(order.pk, "open_dispute", opener)
        self.clock.shift(timedelta(hours=data.draw(st.sampled_from([0, 24, 49, 73, 24 * 30]), label="hours later")))
        self.resolve_dispute(order.pk, who, outcome, data)

    @rule(order_id=orders_, who=st.sampled_from(["operator", "operator", *WHO]),
          outcome=st.sampled_from(["release", "refund", "split"]), data=st.data())
    def resolve_dispute(self, order_id, who, outcome, data):
        order = Order.objects.get(pk=order_id)
        amount = data.draw(st.one_of(st.sampled_from([-1, 0, 1, order.subtotal - 1, order.subtotal]),
                                     st.integers(1, order.subtotal - 1)), label="seller_amount")
        due = anything_due(order)
        if who != "operator":
            expected = NotFound
        elif order.state != "disputed":
            expected = "not_allowed"
        elif outcome == "split" and not 0 < amount < order.subtotal:
            expected = "invalid_amount"
        else:
            expected = ORDER_FLOW.find(f"resolve_{outcome}", "disputed", Actor.OPERATOR).target
        entries = JournalEntry.objects.filter(ref=order.ledger_ref).count()
        try:
            dispute_resolve(kind="order", deal_id=order_id, operator=self.users[who], outcome=outcome,
                            worker_amount=amount, note="双方に確認しました。")
            result = "ok"
        except NotFound:
            result = NotFound
        except DomainError as error:
            result = error.code
        event(f"resolve {outcome} by {who}: {'ok' if result == 'ok' else 'refused'}")
        after = Order.objects.get(pk=order_id)
        if result == "ok":
            assert after.state == expected, (outcome, who, order.state, expected)
            assert JournalEntry.objects.filter(ref=order.ledger_ref).count() == entries + 1
        elif due and who == "operator" and expected == "not_allowed":
            assert result in ("not_allowed", "deadline_passed")
        else:
            assert result == expected, (outcome, who, order.state, result, expected)
            if not due:
                assert after.state == order.state
                assert JournalEntry.objects.filter(ref=order.ledger_ref).count() == entries

    @rule(order_id=orders_, who=st.sampled_from(["buyer", "seller"]))
    def write(self, order_id, who):
        before = Order.objects.get(pk=order_id)
        due = anything_due(before)
        message_send(thread=before.thread, sender=self.users[who], body="よろしくお願いします。")
        after = Order.objects.get(pk=order_id)
        if who == "seller" and before.state == "purchased" and not due:
            assert after.state == "responded"
        elif not due:
            assert after.state == before.state

    @rule(order_id=orders_, who=st.sampled_from(WHO), reason=st.sampled_from(REASONS))
    def cancel_request(self, order_id, who, reason):
        before = Order.objects.get(pk=order_id)
        due = anything_due(before)
        try:
            orders.order_cancel_request(order_id=order_id, user=self.users[who], reason=reason, detail="事情があり")
            outcome = "ok"
        except NotFound:
            outcome = NotFound
        except DomainError as error:
            outcome = error.code
        event(f"cancel request by {who}: {outcome if isinstance(outcome, str) else '404'}")
        if who == "stranger":
            assert outcome is NotFound
        elif outcome == "ok" and not due:
            side = "buyer" if who == "buyer" else "seller"
            assert before.state in CANCEL_REASONS[side][reason][1]
            assert not CancelRequest.objects.filter(order_id=order_id, state="pending").exclude(
                pk=CancelRequest.objects.filter(order_id=order_id).latest("pk").pk).exists()
        elif who == "operator":
            assert outcome == "not_allowed"

    @rule(order_id=orders_, data=st.data())
    def cancel_request_with_a_valid_reason(self, order_id, data):
        """A request a party may really make now (so answers and lapses get exercised)."""
        who = data.draw(st.sampled_from(["buyer", "seller"]), label="who")
        order = Order.objects.get(pk=order_id)
        reasons = [code for code, _ in selectors.cancel_reasons(order=order, user=self.users[who])]
        if reasons:
            self.cancel_request(order_id, who, data.draw(st.sampled_from(reasons), label="reason"))

    @rule(order_id=orders_, who=st.sampled_from(WHO), action=st.sampled_from(["agree", "refuse", "withdraw"]))
    def answer(self, order_id, who, action):
        request = CancelRequest.objects.filter(order_id=order_id).order_by("-pk").first()
        if request is None:
            return
        was_pending = request.state == "pending"
        try:
            orders.cancel_request_answer(request_id=request.pk, user=self.users[who], action=action)
            outcome = "ok"
        except NotFound:
            outcome = NotFound
        except DomainError as error:
            outcome = error.code
        event(f"{action} by {who}: {outcome if isinstance(outcome, str) else '404'}")
        request.refresh_from_db()
        if who == "stranger":
            assert outcome is NotFound
        if outcome == "ok":
            assert was_pending and request.state == {"agree": "agreed", "refuse": "refused",
                                                     "withdraw": "withdrawn"}[action]
            if action == "agree":
                assert Order.objects.get(pk=order_id).state == "cancelled"

    @rule(order_id=orders_, data=st.data())
    def answer_as_the_right_side(self, order_id, data):
        request = CancelRequest.objects.filter(order_id=order_id, state="pending").select_related("order").first()
        if request is None:
            return
        mine = "buyer" if request.side == "buyer" else "seller"
        other = "seller" if mine == "buyer" else "buyer"
        action = data.draw(st.sampled_from(["agree", "refuse", "withdraw"]), label="action")
        self.answer(order_id, mine if action == "withdraw" else other, action)

    @rule(by=jumps)
    def jump(self, by):
        self.clock.shift(by)

    @rule(order_id=orders_, early=st.booleans())
    def jump_to_deadline(self, order_id, early):
        """Land exactly on a deadline (the order's or its キャンセル申請's), or one microsecond before it."""
        order = Order.objects.get(pk=order_id)
        request = order.cancel_requests.filter(state="pending").first()
        dues = [d for d in (order.due_at, request.due_at if request else None) if d]
        if not dues:
            return
        target = min(dues) - timedelta(microseconds=1) if early else min(dues)
        if target > clock.now():
            self.clock.move_to(target)

    @rule()
    def sweep(self):
        def settled(lines):
            return [line for line in lines if "reminder" not in line]

        first = settled(timers.sweep())
        for line in first:
            event(f"timer fired: {line.rsplit(' ', 1)[1]}")
        assert len(first) == len(set(first))
        assert settled(timers.sweep()) == []

    @rule(order_id=orders_, who=st.sampled_from(WHO))
    def read(self, order_id, who):
        try:
            order = selectors.order_get(order_id=order_id, user=self.users[who])
        except NotFound:
            assert who == "stranger"
            return
        assert who != "stranger"
        assert not anything_due(order)  # a read never shows a decided deadline as open

    @rule(order_id=orders_, tamper=st.booleans())
    def replay(self, order_id, tamper):
        order = Order.objects.get(pk=order_id)
        fee = orders.seller_fee(order.subtotal)
        escrow = escrow_code(order.ledger_ref)
        for kind, lines in (
            ("purchase", [Line(GATEWAY, -order.total), Line(escrow, order.total)]),
            ("payout", [Line(escrow, -order.total), Line(worker_code(order.seller_id), order.subtotal - fee),
                        Line(REVENUE, fee + order.buyer_fee)]),
            ("refund", [Line(escrow, -order.total), Line(GATEWAY, order.total)]),
        ):
            assert_replay_writes_nothing(key=f"{order.ledger_ref}:{kind}", kind=kind, ref=order.ledger_ref,
                                         lines=lines, tamper=tamper)
        resolution = JournalEntry.objects.filter(idempotency_key=f"{order.ledger_ref}:dispute_resolution").first()
        if resolution is not None:
            lines = [Line(code, amount) for code, amount in resolution.postings.values_list("account__code", "amount")]
            assert_replay_writes_nothing(key=resolution.idempotency_key, kind=resolution.kind, ref=order.ledger_ref,
                                         lines=lines, tamper=tamper)

    # --- invariants -----------------------------------------------------------------------------------------

    @invariant()
    def ledger_is_sound(self):
        assert_ledger_sound()

    @invariant()
    def orders_hold_exactly_what_their_state_says(self):
        for order in Order.objects.filter(pk__in=self.ids):
            escrow = balance(escrow_code(order.ledger_ref))
            entries = JournalEntry.objects.filter(ref=order.ledger_ref)
            kinds = sorted(entries.values_list("kind", flat=True))
            assert entries.filter(kind="purchase").count() == 1
            assert order.total == order.subtotal + order.buyer_fee
            assert order.buyer_fee == order.subtotal * 55 // 1000
            pending = order.cancel_requests.filter(state="pending").count()
            assert pending <= 1
            items = QueueItem.objects.filter(subject_type__model="order", subject_id=order.pk, kind="dispute")
            resolved = AuditEvent.objects.filter(subject_type__model="order", subject_id=order.pk,
                                                 action__in=RESOLVE_ACTIONS).first()
            if order.state in OPEN or order.state == "disputed":
                assert escrow == order.total, (order.state, escrow)
                assert kinds == ["purchase"]
                if order.state == "disputed":  # the clock is stopped: nothing pending can lapse
                    assert pending == 0 and order.due_at is None
                    assert items.filter(state="open").count() == 1
            else:
                assert escrow == 0
                assert pending == 0  # a closed order leaves no request hanging
            if resolved is not None:
                event(f"a dispute was resolved: {resolved.action}")
                assert resolved.actor == self.users["operator"] and resolved.payload["note"]
                assert not items.filter(state="open").exists()
            paid_in = -entries.get(kind="purchase").postings.get(account__code=GATEWAY).amount
            closing = [k for k in kinds if k != "purchase"]
            out = (dict(entries.get(kind=closing[0]).postings.values_list("account__code", "amount"))
                   if closing else {})
            if order.state == "completed":
                event("an order was completed")
                assert closing in (["payout"], ["dispute_release"])
                net, fees = out[worker_code(order.seller_id)], out[REVENUE]
                assert net == order.subtotal - order.subtotal * 22 // 100
                assert net + fees == paid_in == order.total
            if order.state == "cancelled":
                event("an order was cancelled")
                assert closing in (["refund"], ["dispute_refund"], ["dispute_split"])
                refund = out[GATEWAY]
                if closing == ["dispute_split"]:
                    event("an order was settled by a split")
                    share = resolved.payload["seller_amount"]
                    kept = order.subtotal - share
                    assert 0 < share < order.subtotal
                    assert out[worker_code(order.seller_id)] == share - share * 22 // 100
                    assert refund == kept + order.buyer_fee * kept // order.subtotal
                    assert sum(out.values()) == 0 and out[escrow_code(order.ledger_ref)] == -paid_in
                else:
                    assert refund == paid_in == order.total
            closing = AuditEvent.objects.filter(subject_type__model="order", subject_id=order.pk,
                                                to_state__in=["completed", "cancelled"]).count()
            assert closing == (1 if order.state in ORDER_FLOW.terminal else 0)


@pytest.mark.django_db
def test_order_state_machine():
    run_state_machine_as_test(
        OrderMachine,
        settings=settings(max_examples=30, stateful_step_count=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]),
    )
