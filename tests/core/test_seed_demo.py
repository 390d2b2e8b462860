from collections import Counter
from datetime import timedelta
from io import StringIO

from django.contrib.auth import authenticate
from django.core.management import call_command

from anshin.accounts.models import User
from anshin.contracts.flow import CONTRACT_FLOW
from anshin.contracts.models import Contract, TerminationRequest
from anshin.core import clock
from anshin.core.models import AuditEvent
from anshin.deals.models import DateChangeRequest
from anshin.jobs.models import Application, Job, Scout, TestTask
from anshin.ledger.models import JournalEntry, Posting
from anshin.ledger.services import GATEWAY, REVENUE, balance, escrow_code, worker_code
from anshin.messaging.models import Message, Nudge
from anshin.notifications.models import Notification
from anshin.ops.models import QueueItem
from anshin.orders.flow import ORDER_FLOW
from anshin.orders.models import (
    CancelRequest,
    HearingAnswer,
    HearingQuestion,
    Listing,
    ListingOption,
    Order,
    OrderDelivery,
)
from anshin.payouts.models import Withdrawal
from anshin.payouts.services import pending_code
from anshin.reviews.models import Review, ReviewWindow
from anshin.reviews.selectors import reviews_about
from anshin.trust.models import ContactPermit, GuardHold, Report

MODELS = (
    User, Job, Application, Contract, Message, JournalEntry, AuditEvent, Notification, Listing, ListingOption,
    HearingQuestion, Order, HearingAnswer, OrderDelivery, CancelRequest, DateChangeRequest, TerminationRequest,
    TestTask, Scout, Nudge, QueueItem, ContactPermit, GuardHold, Report, ReviewWindow, Review, Withdrawal,
)


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def user(email_name: str) -> User:
    return User.objects.get(email=f"{email_name}@anshin.example")


def test_seed_twice_changes_nothing(db):
    first = seed()
    after_first = counts()
    second = seed()
    assert counts() == after_first
    assert "nothing changed" in second
    assert "http://127.0.0.1:8000/" in first and "anshin-demo-2026" in first
    assert after_first["User"] == 5 and after_first["Job"] >= 10
    assert after_first["Listing"] == 3 and after_first["Order"] == 8 and after_first["Scout"] == 2


def test_at_least_one_contract_in_each_state_built_by_the_services(db):
    seed()
    states = Counter(Contract.objects.values_list("state", flat=True))
    assert set(states) == set(CONTRACT_FLOW.states.keys())

    accepted = Contract.objects.get(state="accepted")
    assert balance(escrow_code(accepted.ledger_ref)) == 0
    assert balance(worker_code(accepted.worker_id)) == 120_000 - 22_000  # 20% of ¥100,000 + 10% of ¥20,000
    for contract in Contract.objects.filter(state__in=["funded", "delivered", "revision_requested"]):
        assert balance(escrow_code(contract.ledger_ref)) == contract.amount

    lapsed = Contract.objects.get(state="lapsed")
    event = AuditEvent.objects.get(subject_id=lapsed.pk, action="lapse", subject_type__model="contract")
    assert event.actor_role == "system"
    assert lapsed.thread.messages.filter(body__contains="失効").exists()

    delivered = Contract.objects.get(state="delivered")
    assert delivered.timer_action == "deem_accept" and delivered.due_at is not None


def test_listings_by_both_workers_with_options_and_hearing_sheets(db):
    seed()
    seo = Listing.objects.get(title="SEO記事を1本作成します（3,000字）")
    logo = Listing.objects.get(title="ロゴを3案ご提案します")
    assert seo.seller == user("hanako") and logo.seller == user("ken")
    for listing in (seo, logo):
        assert listing.state == "active"
        assert listing.options.count() >= 2
        questions = list(listing.questions.all())
        assert {q.kind for q in questions} == {"text", "single", "multiple"}
        assert all(q.example for q in questions)
        assert any(q.required for q in questions) and any(not q.required for q in questions)
    paused = Listing.objects.filter(state="paused")
    assert paused.count() == 1 and paused.get().seller in (user("hanako"), user("ken"))


def test_one_order_in_each_order_state_and_an_exact_ledger(db):
    seed()
    client = user("client")
    orders = list(Order.objects.all())
    assert {o.state for o in orders} == set(ORDER_FLOW.states.keys())
    assert all(o.buyer == client for o in orders)

    for order in orders:
        assert order.total == order.subtotal + order.subtotal * 55 // 1000
        escrow = balance(escrow_code(order.ledger_ref))
        if order.state in ORDER_FLOW.terminal:
            assert escrow == 0, order.state
        else:
            assert escrow == order.total, order.state  # open orders hold exactly what the buyer paid

    purchased = Order.objects.get(state="purchased")
    assert purchased.timer_action == "expire" and purchased.due_at > clock.now()
    assert purchased.answers.count() == purchased.listing.questions.count()
    delivered = Order.objects.get(state="delivered")
    assert delivered.timer_action == "auto_approve" and delivered.due_at > clock.now()

    # The 48 h rule, played by the sweeper's code path: cancelled by the system and refunded in full.
    cancelled = Order.objects.get(state="cancelled")
    event = AuditEvent.objects.get(subject_id=cancelled.pk, subject_type__model="order", action="expire")
    assert event.actor_role == "system"
    refund = Posting.objects.get(entry__ref=cancelled.ledger_ref, entry__kind="refund", account__code=GATEWAY)
    assert refund.amount == cancelled.total == 42_200  # ¥30,000 + option ¥10,000 + 5.5%
    assert Notification.objects.filter(user=cancelled.seller, kind="order.first_response_reminder").count() == 2
    # The buyer bought the same service again, and the seller answered this time.
    again = Order.objects.get(state="responded")
    assert again.listing_id == cancelled.listing_id and again.created_at > cancelled.created_at

    # Completed: ¥20,000 (price + option) − 22% to the seller; the fee and the buyer's 5.5% to the platform.
    completed = Order.objects.get(state="completed")
    assert (completed.subtotal, completed.buyer_fee, completed.revisions_used) == (20_000, 1_100, 1)
    # …of which 山田花子 asked for ¥5,000 to be paid out: pending until 事務局 transfers it
    assert balance(worker_code(completed.seller_id)) == 20_000 - 4_400 - 5_000
    assert balance(pending_code(completed.seller_id)) == 5_000
    assert balance(REVENUE) == 22_000 + 4_400 + 1_100  # the accepted contract's fee + the order's fees

    in_progress = Order.objects.filter(state="in_progress")
    assert Message.objects.filter(thread__order__in=in_progress, kind="progress").exists()
    pending = CancelRequest.objects.get(state="pending")
    assert pending.order.state == "in_progress" and pending.requested_by == client
    assert pending.due_at > clock.now()


def test_deal_tools_in_use_on_contracts(db):
    seed()
    client, ken, hanako = user("client"), user("ken"), user("hanako")
    funded = Contract.objects.get(title="社内勤怠管理ツールのCSV出力機能追加")
    assert funded.state == "funded"
    change = DateChangeRequest.objects.get(state="pending")
    assert (change.subject_id, change.proposed_by) == (funded.pk, ken)
    assert change.old_date == funded.delivery_date and change.new_date == funded.delivery_date + timedelta(days=7)
    kinds = set(funded.thread.messages.filter(sender=ken).values_list("kind", flat=True))
    assert {"progress", "delay"} <= kinds

    ack = Message.objects.get(kind="ack")
    assert ack.sender == client and ack.thread.contract.state == "delivered"
    assert ack.body.startswith("メッセージを確認しました。") and "までにお返事します" in ack.body

    termination = TerminationRequest.objects.get(state="pending")
    assert termination.contract.state in ("funded", "revision_requested", "delivered")
    assert termination.requested_by == client and termination.worker_amount == 15_000
    assert termination.due_at > clock.now()

    nudge = Nudge.objects.get()
    assert (nudge.sender, nudge.recipient, nudge.replied_at) == (client, hanako, None)
    asked = nudge.thread.messages.filter(sender=client, created_at__lt=nudge.created_at).latest("created_at")
    assert nudge.created_at - asked.created_at > timedelta(hours=24)
    assert nudge.due_at > clock.now()  # the escalation to the operators is armed, not yet due


def test_blocked_test_task_keeps_its_remaining_time_and_a_scout_waits(db, settings):
    seed()
    task = TestTask.objects.select_related("application__worker").get()
    assert task.state == "blocked" and task.due_at is None
    assert task.application.worker == user("hanako")
    assert task.paused_at - task.created_at == timedelta(hours=10)  # 「資料が見つかりません」 10 h after it arrived
    assert "資料が見つかりません" in task.blocker_question and task.blocker_answer == ""
    assert task.remaining == timedelta(days=3) - timedelta(hours=10)
    assert task.clock_label == "時計停止中（残り 2日14時間）"

    settings.ANSHIN_ALLOW_TIME_TRAVEL = True
    clock.travel(timedelta(days=5))  # longer than the whole test; the sweeper runs
    call_command("tick", stdout=StringIO())
    task.refresh_from_db()
    assert task.state == "blocked" and task.due_at is None
    assert task.time_left() == timedelta(days=3) - timedelta(hours=10)

    scout = Scout.objects.get(job__client=user("client"))
    assert (scout.worker, scout.job.client, scout.state) == (user("ken"), user("client"), "sent")
    assert scout.job.state == "open"


def test_demo_logins_work(db):
    seed()
    for email in ("client@anshin.example", "hanako@anshin.example", "ken@anshin.example", "ops@anshin.example"):
        assert authenticate(email=email, password="anshin-demo-2026") is not None, email
    assert User.objects.get(email="ops@anshin.example").is_operator


def test_trust_demo_a_pending_and_an_approved_permit_holds_a_scam_caution_and_a_report(db):
    seed()
    assert sorted(ContactPermit.objects.values_list("state", flat=True)) == ["approved", "pending"]
    quick = user("quick")
    assert GuardHold.objects.filter(user=quick).count() == 3
    open_kinds = Counter(QueueItem.objects.filter(state="open", concerns=quick).values_list("kind", flat=True))
    assert open_kinds == {"guard_flag": 2, "report": 1}  # three holds, a scam caution; ken's report
    assert Report.objects.get().reporter == user("ken")
    assert QueueItem.objects.filter(kind="permit", state="open").count() == 1


def test_reviews_demo_one_revealed_with_a_reply_and_one_still_blind(db):
    seed()
    client, hanako, ken = user("client"), user("hanako"), user("ken")
    logo = ReviewWindow.objects.get(contract__state="accepted")
    assert logo.revealed_at is not None and logo.reviews.count() == 2
    assert Review.objects.get(window=logo, subject=ken).reply.startswith("ありがとうございます")
    assert [r.author for r in reviews_about(ken)] == [client]

    seo = ReviewWindow.objects.get(order__state="completed")
    assert seo.revealed_at is None and seo.closes_at > clock.now()  # days left to write
    assert list(seo.reviews.values_list("author", flat=True)) == [client.pk]
    assert list(reviews_about(hanako)) == []  # the client's review of her stays hidden until she writes


def test_payout_demo_a_withdrawal_waits_in_the_operators_queue(db):
    seed()
    withdrawal = Withdrawal.objects.get()
    assert (withdrawal.user, withdrawal.amount, withdrawal.state) == (user("hanako"), 5_000, "requested")
    assert QueueItem.objects.filter(kind="withdrawal", state="open").count() == 1
