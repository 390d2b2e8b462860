"""Hypothesis stateful test of the contract spine: random sequences of every party action by every kind of
actor (right and wrong), clock jumps (to exact deadlines too), sweeps, reads and replays of idempotency keys.

After every step: every entry balances, no account but the gateway is negative, cached balances equal their
postings, a closed contract holds no escrow, worker net + fee (+ refunds, none yet) = the funded amount, at most
one fund and one release per contract — and every call did exactly what the flow table says it should.
Termination requests (with random splits) and delivery-date changes run beside the main flow: an agreed split
pays worker net + fee + refund = funded exactly, and an approved date change is the contract's delivery date.
Disputes are opened by either side or an operator and resolved by an operator (release, refund or a random
split, valid or not): a disputed contract holds the whole amount and one open queue item; a resolution writes
one entry that empties the escrow exactly and closes the queue item.
Withdrawals (出金申請) run beside it: the worker asks for allowed and disallowed amounts (with repeated request
keys), operators pay or reverse, the worker cancels, anyone else tries and is refused. The worker's available
+ pending always equals what contracts released to them minus what was paid out, pending equals the waiting
withdrawals, and each withdrawal has exactly the entries and the queue item its state says."""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db.models import Sum
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from anshin import rules
from anshin.accounts.models import User
from anshin.contracts import selectors
from anshin.contracts import services as contracts
from anshin.contracts.flow import CONTRACT_FLOW, OPEN, RESOLVE_ACTIONS
from anshin.contracts.models import Contract, TerminationRequest
from anshin.core import clock, timers
from anshin.core.errors import DomainError, NotFound
from anshin.core.flows import Actor
from anshin.core.models import AuditEvent
from anshin.core.money import tiered_fee
from anshin.deals import services as deals
from anshin.deals.disputes import dispute_resolve
from anshin.deals.models import DateChangeRequest
from anshin.ledger.models import JournalEntry, Posting
from anshin.ledger.services import GATEWAY, REVENUE, Line, balance, escrow_code, worker_code
from anshin.ops.models import QueueItem
from anshin.ops.permissions import grant_operator
from anshin.payouts import services as payouts
from anshin.payouts.flow import WITHDRAWAL_FLOW
from anshin.payouts.models import Withdrawal
from anshin.payouts.services import pending_code
from tests import factories
from tests.ledger_checks import assert_ledger_sound, assert_replay_writes_nothing

START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
ACTIONS = [
    "accept_offer",
    "decline_offer",
    "withdraw_offer",
    "fund",
    "cancel",
    "deliver",
    "accept",
    "request_revision",
    "terminate_overdue",
    "open_dispute",
    "resolve_release",
    "resolve_refund",
    "resolve_split",
]
WHO = ["client", "worker", "stranger", "operator"]
HELD = {"funded", "delivered", "revision_requested", "disputed"}  # the escrow holds the whole amount
_serial = itertools.count()

amounts = st.one_of(
    st.sampled_from([rules.MIN_AMOUNT, 99_999, 100_000, 100_001, 150_000, 200_000, 300_000, rules.MAX_AMOUNT]),
    st.integers(min_value=rules.MIN_AMOUNT, max_value=rules.MAX_AMOUNT),
)
jumps = st.one_of(
    st.sampled_from([timedelta(microseconds=1), timedelta(days=1), timedelta(days=3), timedelta(days=7)]),
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
)


def call(action: str, contract_id: int, user, card: str):
    if action == "fund":
        return contracts.contract_fund(contract_id=contract_id, user=user, card_token=card)
    if action == "deliver":
        return contracts.contract_deliver(contract_id=contract_id, user=user, body="納品します。")
    if action == "request_revision":
        return contracts.contract_request_revision(contract_id=contract_id, user=user, reason="修正をお願いします。")
    if action == "open_dispute":
        return contracts.contract_open_dispute(contract_id=contract_id, user=user, reason="事務局に相談します。")
    if action in RESOLVE_ACTIONS:
        amount = Contract.objects.values_list("amount", flat=True).get(pk=contract_id)
        return dispute_resolve(kind="contract", deal_id=contract_id, operator=user,
                               outcome=action.removeprefix("resolve_"), worker_amount=amount // 2, note="内部メモ")
    return contracts.contract_simple_action(contract_id=contract_id, user=user, action=action)


def fund_lines(c: Contract) -> list[Line]:
    return [Line(GATEWAY, -c.amount), Line(escrow_code(c.ledger_ref), c.amount)]


def release_lines(c: Contract) -> list[Line]:
    fee = tiered_fee(c.amount)
    return [
        Line(escrow_code(c.ledger_ref), -c.amount),
        Line(worker_code(c.worker_id), c.amount - fee),
        Line(REVENUE, fee),
    ]


class ContractSpine(RuleBasedStateMachine):
    contracts = Bundle("contracts")

    def __init__(self):
        super().__init__()
        self.traveller = time_machine.travel(START, tick=False)
        self.clock = self.traveller.start()
        n = next(_serial)
        self.users = {
            who: User.objects.create_user(
                email=f"sm{n}-{who}@example.com",
                password="pass-Anshin-2026",
                display_name=f"{who}{n}",
                is_staff=(who == "operator"),
            )
            for who in WHO
        }
        grant_operator(self.users["operator"])
        self.ids: list[int] = []
        payouts.bank_account_save(user=self.users["worker"], data={
            "bank_name": "安心銀行", "bank_code": "0001", "branch_name": "本店営業部", "branch_code": "001",
            "account_type": "ordinary", "account_number": "1234567", "holder": "ﾔﾏﾀﾞ ﾊﾅｺ"})
        self.withdrawal_ids: list[int] = []
        self.earned = 0

    def teardown(self):
        self.traveller.stop()

    # --- rules -------------------------------------------------------------------------------------------

    @initialize(target=contracts, amount=amounts)
    def first_offer(self, amount):
        return self.offer(amount)

    @precondition(lambda self: len(self.ids) < 3)
    @rule(target=contracts, amount=amounts)
    def offer(self, amount):
        c = factories.contract(self.users["client"], self.users["worker"], state="offered", amount=amount)
        self.ids.append(c.pk)
        return c.pk

    @rule(
        contract_id=contracts,
        action=st.sampled_from(ACTIONS),
        who=st.sampled_from(WHO),
        card=st.sampled_from(["tok_visa", "tok_visa", "tok_decline"]),
    )
    def act(self, contract_id, action, who, card):
        """Any action by anyone: mostly wrong, which must be refused and change nothing."""
        self.attempt(contract_id, action, who, card)

    @rule(contract_id=contracts, data=st.data())
    def advance(self, contract_id, data):
        """A move the table allows now, by a random one of the actors allowed to make it: drives deals deep."""
        c = Contract.objects.get(pk=contract_id)
        moves = [t for t in CONTRACT_FLOW.allowed(c.state, [Actor.CLIENT, Actor.WORKER, Actor.OPERATOR], c) if t.label]
        if not moves:
            return
        move = data.draw(st.sampled_from(moves), label="move")
        who = data.draw(
            st.sampled_from([w for w in ("client", "worker", "operator") if Actor(w) in move.actors]), label="who"
        )
        self.attempt(contract_id, move.action, who, "tok_visa")

    # Rules are picked with equal odds; progress needs several moves in a row, so it gets more tickets.
    @rule(contract_id=contracts, data=st.data())
    def advance_more(self, contract_id, data):
        self.advance(contract_id, data)

    @rule(contract_id=contracts, data=st.data())
    def advance_further(self, contract_id, data):
        self.advance(contract_id, data)

    def attempt(self, contract_id, action, who, card):
        before = Contract.objects.get(pk=contract_id)
        # What the flow table says must happen: a due timer is settled first, then the move is judged.
        state = before.state
        now = clock.now()
        lapsing = TerminationRequest.objects.filter(contract=before, state="pending", due_at__lte=now).first()
        own_due = bool(before.due_at and before.due_at <= now)
        if lapsing is not None and (not own_due or lapsing.due_at <= before.due_at):
            state = "terminated"  # silence on a 契約途中終了リクエスト is agreement, and it fell due first
        elif own_due:
            state = CONTRACT_FLOW.find(before.timer_action, state, Actor.SYSTEM).target
        role = {"client": Actor.CLIENT, "worker": Actor.WORKER, "operator": Actor.OPERATOR}.get(who)
        try:
            expected = CONTRACT_FLOW.find(action, state, role, before).target if role else NotFound
        except DomainError as refusal:
            expected = refusal.code
        if action in RESOLVE_ACTIONS and role != Actor.OPERATOR:
            # The operations console's: anyone else gets 404 before anything happens, the clock's due included.
            expected, state = NotFound, before.state
        if expected not in (NotFound, "not_allowed") and action == "fund" and card == "tok_decline":
            expected = "payment_declined"
        entries_before = JournalEntry.objects.filter(ref=before.ledger_ref).count()

        try:
            call(action, contract_id, self.users[who], card)
            outcome = "ok"
        except NotFound:
            outcome = NotFound
        except DomainError as error:
            outcome = error.code

        event(f"{action} by {who}: {'ok' if outcome == 'ok' else 'refused'}")
        after = Contract.objects.get(pk=contract_id)
        if outcome == "ok":
            assert expected in CONTRACT_FLOW.states, (action, who, state, expected)
            assert after.state == expected
        else:
            assert outcome == expected, (action, who, before.state, state, outcome, expected)
            assert after.state == state  # refused: only the clock may have moved it
            if state == before.state:
                assert JournalEntry.objects.filter(ref=before.ledger_ref).count() == entries_before

    # --- disputes: opened by anyone allowed, resolved by an operator (or refused) ----------------------------

    @precondition(lambda self: len(self.ids) < 4)
    @rule(amount=amounts, state=st.sampled_from(OPEN), opener=st.sampled_from(["client", "worker", "operator"]),
          who=st.sampled_from(["operator"] * 5 + WHO), outcome=st.sampled_from(["release", "refund", "split", "split"]),
          data=st.data())
    def dispute_a_contract_under_way(self, amount, state, opener, who, outcome, data):
        """A contract under way (most random ones end before anyone disputes them), disputed and resolved."""
        c = factories.contract(self.users["client"], self.users["worker"], state=state, amount=amount)
        self.ids.append(c.pk)
        self.attempt(c.pk, "open_dispute", opener, "tok_visa")
        self.clock.shift(timedelta(days=data.draw(st.integers(min_value=0, max_value=30), label="days later")))
        self.resolve_dispute(c.pk, who, outcome, data)

    @rule(contract_id=contracts, who=st.sampled_from(["operator", "operator", "operator", *WHO]),
          outcome=st.sampled_from(["release", "refund", "split", "split"]), data=st.data())
    def resolve_dispute(self, contract_id, who, outcome, data):
        if data.draw(st.booleans(), label="drive to funded"):
            self.drive_to_funded(contract_id)
        c = Contract.objects.get(pk=contract_id)
        if c.state in OPEN and not (c.due_at and c.due_at <= clock.now()) and data.draw(
            st.sampled_from([True, True, False]), label="open a dispute first"
        ):
            opener = data.draw(st.sampled_from(["client", "worker", "operator"]), label="opener")
            self.attempt(contract_id, "open_dispute", opener, "tok_visa")
            c = Contract.objects.get(pk=contract_id)
        worker_amount = data.draw(
            st.one_of(st.sampled_from([-1, 0, 1, c.amount - 1, c.amount]), st.integers(1, c.amount - 1)),
            label="worker_amount",
        )
        if who != "operator":
            expected = NotFound
        elif c.state != "disputed":
            expected = "not_allowed"
        elif outcome == "split" and not 0 < worker_amount < c.amount:
            expected = "invalid_amount"
        else:
            expected = CONTRACT_FLOW.find(f"resolve_{outcome}", "disputed", Actor.OPERATOR).target
        due = bool(c.due_at and c.due_at <= clock.now()) or TerminationRequest.objects.filter(
            contract=c, state="pending", due_at__lte=clock.now()).exists()
        entries = JournalEntry.objects.filter(ref=c.ledger_ref).count()
        try:
            dispute_resolve(kind="contract", deal_id=contract_id, operator=self.users[who], outcome=outcome,
                            worker_amount=worker_amount, note="双方の資料を確認しました。")
            outcome_ = "ok"
        except NotFound:
            outcome_ = NotFound
        except DomainError as error:
            outcome_ = error.code
        event(f"resolve {outcome} by {who}: {'ok' if outcome_ == 'ok' else 'refused'}")
        after = Contract.objects.get(pk=contract_id)
        if outcome_ == "ok":
            assert expected in CONTRACT_FLOW.states and after.state == expected, (outcome, who, c.state, expected)
            assert JournalEntry.objects.filter(ref=c.ledger_ref).count() == entries + 1
        else:
            assert outcome_ == expected, (outcome, who, c.state, outcome_, expected)
            if not due:
                assert after.state == c.state
                assert JournalEntry.objects.filter(ref=c.ledger_ref).count() == entries

    # --- 契約途中終了リクエスト and delivery-date changes (side processes with their own flows) --------------

    @rule(
        contract_id=contracts, who=st.sampled_from(WHO), share=st.sampled_from([0, 1, 2, 3, 4, -1, 5])
    )  # quarters of the amount; -1 and 5 are out of range
    def request_termination(self, contract_id, who, share):
        c = Contract.objects.get(pk=contract_id)
        worker_amount = c.amount * share // 4
        self.refusable(
            lambda: contracts.termination_request_create(
                contract_id=contract_id,
                user=self.users[who],
                reason="事情により終了したいです。",
                worker_amount=worker_amount,
            )
        )
        if not 0 <= worker_amount <= c.amount:
            assert not TerminationRequest.objects.filter(contract_id=contract_id, worker_amount=worker_amount).exists()

    @rule(contract_id=contracts, who=st.sampled_from(WHO), action=st.sampled_from(["agree", "refuse", "withdraw"]))
    def answer_termination(self, contract_id, who, action):
        pending = TerminationRequest.objects.filter(contract_id=contract_id, state="pending").first()
        if pending is not None:
            self.refusable(
                lambda: contracts.termination_answer(request_id=pending.pk, user=self.users[who], action=action)
            )

    @rule(contract_id=contracts, who=st.sampled_from(WHO), days=st.integers(min_value=-2, max_value=30))
    def propose_date(self, contract_id, who, days):
        self.refusable(
            lambda: deals.date_change_propose(
                deal_kind="contract",
                deal_id=contract_id,
                user=self.users[who],
                new_date=clock.today() + timedelta(days=days),
                reason="素材の到着が遅れているためです。",
            )
        )

    @rule(contract_id=contracts, who=st.sampled_from(WHO), action=st.sampled_from(["approve", "decline", "withdraw"]))
    def answer_date(self, contract_id, who, action):
        pending = DateChangeRequest.objects.filter(
            subject_type__model="contract", subject_id=contract_id, state="pending"
        ).first()
        if pending is not None:
            self.refusable(lambda: deals.date_change_answer(request_id=pending.pk, user=self.users[who], action=action))

    # Random callers are mostly refused; these drive the side processes to their ends often enough.
    @rule(contract_id=contracts, share=st.integers(min_value=0, max_value=4), answer=st.sampled_from(["agree", "wait"]))
    def terminate_by_agreement(self, contract_id, share, answer):
        if self.drive_to_funded(contract_id) not in ("funded", "revision_requested", "delivered"):
            return
        self.request_termination(contract_id, "worker", share)
        if answer == "agree":
            self.answer_termination(contract_id, "client", "agree")  # else 7 days of silence will agree

    @rule(
        contract_id=contracts,
        days=st.integers(min_value=1, max_value=30),
        answer=st.sampled_from(["approve", "decline"]),
    )
    def move_the_date(self, contract_id, days, answer):
        if self.drive_to_funded(contract_id) not in ("funded", "revision_requested"):
            return
        self.propose_date(contract_id, "worker", days)
        self.answer_date(contract_id, "client", answer)

    def drive_to_funded(self, contract_id) -> str:
        """Accept and fund an offer (checked against the table like any move); returns the state reached."""
        for state, action, who in (("offered", "accept_offer", "worker"), ("awaiting_funding", "fund", "client")):
            c = Contract.objects.get(pk=contract_id)
            if c.state == state and not (c.due_at and c.due_at <= clock.now()):
                self.attempt(contract_id, action, who, "tok_visa")
        return Contract.objects.get(pk=contract_id).state

    @staticmethod
    def refusable(call_it):
        """A side-process call either works or is refused with a domain error; it never crashes."""
        try:
            call_it()
            event("side process: ok")
        except DomainError:
            event("side process: refused")

    @rule(by=jumps)
    def jump(self, by):
        self.clock.shift(by)

    @rule(contract_id=contracts, early=st.booleans())
    def jump_to_deadline(self, contract_id, early):
        """Land exactly on a deadline, or one microsecond before it."""
        due = Contract.objects.get(pk=contract_id).due_at
        if due is None:
            return
        target = due - timedelta(microseconds=1) if early else due
        if target > clock.now():
            self.clock.move_to(target)

    @rule()
    def sweep(self):
        def settled(lines):
            return [line for line in lines if not line.split(": ", 1)[1].startswith("reminder")]

        first = settled(timers.sweep())
        for line in first:
            event(f"timer fired: {line.rsplit(' ', 1)[1]}")
        assert len(first) == len(set(first))  # nothing settled twice in one pass
        assert settled(timers.sweep()) == []  # and nothing left to settle right after

    @rule(contract_id=contracts, who=st.sampled_from(WHO))
    def read(self, contract_id, who):
        try:
            c = selectors.contract_get(contract_id=contract_id, user=self.users[who])
        except NotFound:
            assert who == "stranger"
            return
        assert who != "stranger"
        assert c.due_at is None or c.due_at > clock.now()  # a read never shows a decided deadline as open

    @rule(contract_id=contracts, tamper=st.booleans())
    def replay(self, contract_id, tamper):
        c = Contract.objects.get(pk=contract_id)
        for kind, lines in (("fund", fund_lines(c)), ("release", release_lines(c))):
            assert_replay_writes_nothing(key=f"{c.ledger_ref}:{kind}", kind=kind, ref=c.ledger_ref, lines=lines,
                                         tamper=tamper)
        resolution = JournalEntry.objects.filter(idempotency_key=f"{c.ledger_ref}:dispute_resolution").first()
        if resolution is not None:
            lines = [Line(code, amount) for code, amount in resolution.postings.values_list("account__code", "amount")]
            assert_replay_writes_nothing(key=resolution.idempotency_key, kind=resolution.kind, ref=c.ledger_ref,
                                         lines=lines, tamper=tamper)

    # --- withdrawals (出金申請): available → pending → paid, or back ------------------------------------------

    @precondition(lambda self: self.earned < 3)
    @rule(amount=amounts)
    def earn(self, amount):
        """An accepted contract (outside the contracts under test): money on the worker's balance to withdraw."""
        factories.contract(self.users["client"], self.users["worker"], state="accepted", amount=amount)
        self.earned += 1

    @rule(how=st.sampled_from(["below_minimum", "minimum", "part", "part", "all", "over"]),
          key=st.sampled_from(["", "", "k1", "k2"]), data=st.data())
    def request_withdrawal(self, how, key, data):
        worker = self.users["worker"]
        available, pending = balance(worker_code(worker.pk)), balance(pending_code(worker.pk))
        amount = {
            "below_minimum": rules.WITHDRAWAL_MIN - 1,
            "minimum": rules.WITHDRAWAL_MIN,
            "all": available,
            "over": available + 1,
        }.get(how) or data.draw(st.integers(min_value=rules.WITHDRAWAL_MIN,
                                            max_value=max(available, rules.WITHDRAWAL_MIN)), label="amount")
        first = Withdrawal.objects.filter(user=worker, request_key=key).first() if key else None
        if amount < rules.WITHDRAWAL_MIN:
            expected = "below_minimum"
        elif first is not None:
            expected = "replay" if first.amount == amount else "idempotency_conflict"
        elif amount > available:
            expected = "insufficient_balance"
        else:
            expected = "ok"
        entries = JournalEntry.objects.count()
        try:
            w = payouts.withdrawal_request(user=worker, amount=amount, request_key=key)
            outcome = "replay" if first is not None else "ok"
        except DomainError as error:
            outcome = error.code
        event(f"withdrawal request ({how}): {outcome}")
        assert outcome == expected, (how, amount, available, outcome, expected)
        if outcome == "ok":
            self.withdrawal_ids.append(w.pk)
            assert balance(worker_code(worker.pk)) == available - amount
            assert balance(pending_code(worker.pk)) == pending + amount
            assert JournalEntry.objects.count() == entries + 1
        else:
            assert JournalEntry.objects.count() == entries
            assert (balance(worker_code(worker.pk)), balance(pending_code(worker.pk))) == (available, pending)

    @precondition(lambda self: self.withdrawal_ids)
    @rule(action=st.sampled_from(["pay", "pay", "reverse", "cancel", "cancel"]),
          who=st.sampled_from(["operator", "operator", "worker", *WHO]), data=st.data())
    def decide_withdrawal(self, action, who, data):
        self.settle_withdrawal(data.draw(st.sampled_from(self.withdrawal_ids), label="withdrawal"), action, who)

    # Random callers are mostly refused and random contracts rarely pay the worker: this one earns if need be,
    # requests part of the balance and has the right person settle it (or leaves it waiting).
    @rule(action=st.sampled_from(["pay", "reverse", "cancel", "wait"]), amount=amounts, data=st.data())
    def withdraw_and_settle(self, action, amount, data):
        if balance(worker_code(self.users["worker"].pk)) < rules.WITHDRAWAL_MIN:
            self.earn(amount)
        count = len(self.withdrawal_ids)
        self.request_withdrawal("part", "", data)
        if action != "wait" and len(self.withdrawal_ids) > count:
            self.settle_withdrawal(self.withdrawal_ids[-1], action, "worker" if action == "cancel" else "operator")

    def settle_withdrawal(self, withdrawal_id, action, who):
        before = Withdrawal.objects.get(pk=withdrawal_id)
        user = self.users[who]
        if action == "cancel":
            expected = NotFound if who != "worker" else ("ok" if before.state == "requested" else "not_allowed")
        else:
            expected = NotFound if who != "operator" else ("ok" if before.state == "requested" else "not_allowed")
        entries = JournalEntry.objects.filter(ref=before.ledger_ref).count()
        try:
            if action == "pay":
                payouts.withdrawal_pay(withdrawal_id=withdrawal_id, operator=user, note="振込を実行しました。")
            elif action == "reverse":
                payouts.withdrawal_reverse(withdrawal_id=withdrawal_id, operator=user, note="組戻し",
                                           reason="bank_rejected")
            else:
                payouts.withdrawal_cancel(withdrawal_id=withdrawal_id, user=user)
            outcome = "ok"
        except NotFound:
            outcome = NotFound
        except DomainError as error:
            outcome = error.code
        event(f"withdrawal {action} by {who}: {'ok' if outcome == 'ok' else 'refused'}")
        assert outcome == expected, (action, who, before.state, outcome, expected)
        after = Withdrawal.objects.get(pk=withdrawal_id)
        if outcome == "ok":
            assert after.state == WITHDRAWAL_FLOW.find(action, "requested", Actor(who)).target
            assert JournalEntry.objects.filter(ref=before.ledger_ref).count() == entries + 1
        else:
            assert after.state == before.state
            assert JournalEntry.objects.filter(ref=before.ledger_ref).count() == entries

    @precondition(lambda self: self.withdrawal_ids)
    @rule(tamper=st.booleans(), data=st.data())
    def replay_withdrawal(self, tamper, data):
        w = Withdrawal.objects.get(pk=data.draw(st.sampled_from(self.withdrawal_ids), label="withdrawal"))
        for entry in JournalEntry.objects.filter(ref=w.ledger_ref):
            lines = [Line(code, amount) for code, amount in entry.postings.values_list("account__code", "amount")]
            assert_replay_writes_nothing(key=entry.idempotency_key, kind=entry.kind, ref=w.ledger_ref, lines=lines,
                                         tamper=tamper)

    @invariant()
    def withdrawals_move_money_exactly(self):
        worker = self.users["worker"]
        available, pending = balance(worker_code(worker.pk)), balance(pending_code(worker.pk))
        released = Posting.objects.filter(account__code=worker_code(worker.pk)).exclude(
            entry__kind__startswith="withdrawal").aggregate(total=Sum("amount"))["total"] or 0
        withdrawals = Withdrawal.objects.filter(user=worker)
        paid = Posting.objects.filter(account__code=GATEWAY, entry__kind="withdrawal_paid",
                                      entry__ref__in=[w.ledger_ref for w in withdrawals]).aggregate(
            total=Sum("amount"))["total"] or 0
        assert available + pending == released - paid
        assert pending == sum(w.amount for w in withdrawals if w.state == "requested")
        settle_kind = {"paid": "withdrawal_paid", "reversed": "withdrawal_reversed", "cancelled": "withdrawal_cancel"}
        for w in withdrawals:
            kinds = sorted(JournalEntry.objects.filter(ref=w.ledger_ref).values_list("kind", flat=True))
            assert kinds == sorted(["withdrawal_request", *([settle_kind[w.state]] if w.state in settle_kind else [])])
            items = QueueItem.objects.filter(subject_type__model="withdrawal", subject_id=w.pk, kind="withdrawal")
            assert items.count() == 1
            assert items.get().state == ("open" if w.state == "requested" else "closed")
            if w.state in ("paid", "reversed"):
                event(f"a withdrawal was {w.state}")
                assert items.get().closed_by == self.users["operator"] and items.get().note

    # --- invariants -----------------------------------------------------------------------------------------

    @invariant()
    def approved_date_changes_set_the_delivery_date(self):
        for c in Contract.objects.filter(pk__in=self.ids):
            requests = DateChangeRequest.objects.filter(subject_type__model="contract", subject_id=c.pk)
            assert requests.filter(state="pending").count() <= 1
            last = requests.filter(state="approved").order_by("-answered_at", "-id").first()
            if last is not None:
                event("a date change was approved")
                assert c.delivery_date == last.new_date
            assert TerminationRequest.objects.filter(contract=c, state="pending").count() <= 1
            if c.state in CONTRACT_FLOW.terminal:
                assert not TerminationRequest.objects.filter(contract=c, state="pending").exists()

    @invariant()
    def ledger_is_sound(self):
        assert_ledger_sound()

    @invariant()
    def contracts_hold_exactly_what_their_state_says(self):
        for c in Contract.objects.filter(pk__in=self.ids):
            escrow = balance(escrow_code(c.ledger_ref))
            entries = JournalEntry.objects.filter(ref=c.ledger_ref)
            funds = entries.filter(kind="fund")
            releases = entries.filter(kind__in=["release", "dispute_release"])
            ends = entries.filter(kind__in=["refund", "termination", "dispute_refund", "dispute_split"])
            resolved = AuditEvent.objects.filter(
                subject_type__model="contract", subject_id=c.pk, action__in=RESOLVE_ACTIONS
            ).first()
            items = QueueItem.objects.filter(subject_type__model="contract", subject_id=c.pk,
                                             kind__in=["dispute", "termination_escalation"])
            if c.state == "disputed":
                assert items.filter(state="open").count() == 1
            if resolved is not None:
                event(f"a dispute was resolved: {resolved.action}")
                assert resolved.actor == self.users["operator"] and resolved.actor_role == "operator"
                assert resolved.payload["note"] and not items.filter(state="open").exists()
                assert entries.filter(kind=f"dispute_{resolved.payload['outcome']}").count() == 1
            assert funds.count() <= 1 and releases.count() <= 1 and ends.count() <= 1
            if c.state == "terminated":
                end = ends.get()
                out = dict(end.postings.values_list("account__code", "amount"))
                assert out[escrow_code(c.ledger_ref)] == -c.amount and sum(out.values()) == 0
                net, fee, refund = (out.get(worker_code(c.worker_id), 0), out.get(REVENUE, 0), out.get(GATEWAY, 0))
                assert net + fee + refund == c.amount  # worker net + fee + refund = funded
                assert fee == tiered_fee(net + fee)  # the usual fee, on the worker's part only
                agreed = TerminationRequest.objects.filter(contract=c, state="agreed").first()
                if end.kind == "termination":
                    event("a contract was terminated by agreement")
                    assert agreed is not None and net + fee == agreed.worker_amount
                elif end.kind == "dispute_split":
                    assert resolved is not None and net + fee == resolved.payload["worker_amount"]
                    assert 0 < net + fee < c.amount and refund == c.amount - (net + fee)
                else:
                    assert (net, fee, refund) == (0, 0, c.amount)  # overdue: full refund
            else:
                assert ends.count() == 0
            assert escrow == (c.amount if c.state in HELD else 0), (c.state, escrow)
            if c.state in CONTRACT_FLOW.terminal:
                assert escrow == 0
            accepted_events = AuditEvent.objects.filter(
                subject_type__model="contract", subject_id=c.pk, to_state="accepted"
            ).count()
            if c.state == "accepted":
                event("a contract was accepted")
                assert accepted_events == 1
                funded = funds.get().postings.get(account__code=escrow_code(c.ledger_ref)).amount
                paid = dict(releases.get().postings.values_list("account__code", "amount"))
                net, fee, refunds = paid[worker_code(c.worker_id)], paid[REVENUE], 0
                assert net + fee + refunds == funded == c.amount
                assert fee == tiered_fee(c.amount)
                assert c.accepted_at is not None
            else:
                assert accepted_events == 0
                assert releases.count() == 0
            # Money enters escrow only through `fund`, and only a funded contract can be held or accepted.
            assert funds.count() == (1 if c.state in HELD | {"accepted", "terminated"} else 0), c.state


@pytest.mark.django_db
def test_contract_spine_state_machine():
    run_state_machine_as_test(
        ContractSpine,
        settings=settings(
            max_examples=30,
            stateful_step_count=60,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
