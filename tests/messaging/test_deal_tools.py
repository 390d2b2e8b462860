"""The deal tools in a thread (PRODUCT.md §4, issue 3 items 6–7): progress reports, delay notices, one-click
acknowledgements that count as a reply, and 返信催促 nudges whose escalation timer records an operator queue
item when a nudge during a contract or order stays unanswered for three business days."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from anshin import rules
from anshin.core import clock, timers
from anshin.core.errors import DomainError, NotFound
from anshin.messaging import selectors
from anshin.messaging.models import Message, Nudge, Receipt, Thread
from anshin.messaging.services import (
    message_acknowledge,
    message_send,
    message_send_delay,
    message_send_progress,
    nudge_settle_due,
    thread_create,
    thread_nudge,
)
from anshin.notifications.models import Notification
from anshin.ops.models import QueueItem
from tests import factories

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# Thursday 2026-09-17; the Friday after starts the Silver Week: 敬老の日 (Mon 21), 国民の休日 (Tue 22),
# 秋分の日 (Wed 23). Three business days after Friday 18 is therefore Monday 28.
THU = datetime(2026, 9, 17, 10, 0, tzinfo=TOKYO)
FRI = THU + timedelta(days=1)
ESCALATION = datetime(2026, 9, 28, 10, 0, tzinfo=TOKYO)


@pytest.fixture
def travel():
    with time_machine.travel(THU - timedelta(days=2), tick=False) as traveller:
        yield traveller


@pytest.fixture
def contract(travel, client_user, worker):
    return factories.contract(client_user, worker, state="funded")


@pytest.fixture
def thread(contract):
    return Thread.objects.get(contract=contract)


def snapshot() -> dict:
    return {
        "messages": sorted(Message.objects.values_list("pk", "kind", "body", "progress_percent", "next_date")),
        "receipts": Receipt.objects.count(),
        "notifications": Notification.objects.count(),
        "threads": sorted(Thread.objects.values_list("pk", "last_message_at", "last_human_message")),
        "nudges": sorted(Nudge.objects.values_list("pk", "replied_at", "due_at", "escalated_at")),
        "queue": QueueItem.objects.count(),
    }


def assert_refused(call, code: str, status: int = 400) -> DomainError:
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        call()
    assert refused.value.code == code, refused.value.message
    assert refused.value.status == status
    assert JAPANESE.search(refused.value.message), refused.value.message
    assert snapshot() == before
    return refused.value


def today() -> date:
    return clock.today()


def row(user, thread):
    """The user's inbox row of `thread` (the application's own thread is there too)."""
    return next(r for r in selectors.inbox(user=user) if r.thread.pk == thread.pk)


# --- progress reports --------------------------------------------------------------------------------------

def test_worker_reports_progress_and_the_client_is_told(thread, client_user, worker):
    message = message_send_progress(thread=thread, sender=worker, percent=60, next_date=today() + timedelta(days=3),
                                    comment="トップページのデザイン案ができました。")
    message.refresh_from_db()
    assert (message.kind, message.progress_percent, message.next_date) == ("progress", 60, today() + timedelta(3))
    assert message.body == "トップページのデザイン案ができました。"
    thread.refresh_from_db()
    assert thread.last_human_message == message  # a report is a word from the worker, not a system post
    note = Notification.objects.get(user=client_user, kind="message.progress")
    assert "60%" in note.title and "進捗報告" in note.body
    assert not Notification.objects.filter(user=worker, kind="message.progress").exists()
    assert list(message.receipts.values_list("user_id", flat=True)) == [client_user.pk]


@pytest.mark.parametrize("percent", [-1, 101, 1000, "50", 50.5, None, True])
def test_progress_percent_must_be_0_to_100(thread, worker, percent):
    error = assert_refused(lambda: message_send_progress(thread=thread, sender=worker, percent=percent,
                                                         next_date=today()), "invalid_percent")
    assert "0〜100" in error.message


@pytest.mark.parametrize("percent", [0, 100])
def test_progress_percent_bounds_are_accepted(thread, worker, percent):
    message = message_send_progress(thread=thread, sender=worker, percent=percent, next_date=today())
    assert message.progress_percent == percent


def test_dates_are_today_or_later_in_tokyo(thread, client_user, worker, travel):
    """08:30 in Tokyo is still yesterday in UTC: today is the Tokyo date, yesterday is refused."""
    travel.move_to(datetime(2026, 9, 18, 8, 30, tzinfo=TOKYO))
    error = assert_refused(lambda: message_send_progress(thread=thread, sender=worker, percent=10,
                                                         next_date=date(2026, 9, 17)), "date_in_past")
    assert "今日以降" in error.message
    assert_refused(lambda: message_send_delay(thread=thread, sender=worker, late_item="初稿", reason="体調不良",
                                              new_date=date(2026, 9, 17)), "date_in_past")
    message_send(thread=thread, sender=worker, body="ご確認ください。")
    assert_refused(lambda: message_acknowledge(thread=thread, sender=client_user, reply_by=date(2026, 9, 17)),
                   "date_in_past")
    assert message_send_progress(thread=thread, sender=worker, percent=10, next_date=date(2026, 9, 18)).pk


def test_only_the_worker_of_an_open_deal_reports_progress_or_delay(thread, contract, client_user, worker):
    error = assert_refused(lambda: message_send_progress(thread=thread, sender=client_user, percent=50,
                                                         next_date=today()), "not_allowed", 403)
    assert "作業を担当する側" in error.message
    assert_refused(lambda: message_send_delay(thread=thread, sender=client_user, late_item="初稿", reason="忙しい",
                                              new_date=today()), "not_allowed", 403)


def test_no_progress_in_an_application_thread_or_after_the_deal(travel, client_user, worker):
    application = factories.application(client_user, worker)
    error = assert_refused(lambda: message_send_progress(thread=application.thread, sender=worker, percent=50,
                                                         next_date=today()), "not_allowed", 403)
    assert "契約または注文" in error.message
    done = factories.contract(client_user, worker, state="accepted")
    error = assert_refused(lambda: message_send_progress(thread=done.thread, sender=worker, percent=100,
                                                         next_date=today()), "not_allowed", 403)
    assert "取引が終了" in error.message


def test_outsiders_get_404_and_operators_a_clear_refusal(thread, stranger, operator):
    before = snapshot()
    for call in (
        lambda: message_send_progress(thread=thread, sender=stranger, percent=50, next_date=today()),
        lambda: message_send_delay(thread=thread, sender=stranger, late_item="x", reason="y", new_date=today()),
        lambda: message_acknowledge(thread=thread, sender=stranger, reply_by=today()),
        lambda: thread_nudge(thread=thread, sender=stranger),
    ):
        with pytest.raises(NotFound):
            call()
    assert snapshot() == before
    assert_refused(lambda: thread_nudge(thread=thread, sender=operator), "members_only", 403)


# --- delay notices ------------------------------------------------------------------------------------------

def test_delay_notice_carries_what_when_and_why(thread, client_user, worker):
    message = message_send_delay(thread=thread, sender=worker, late_item="記事5本目の写真",
                                 reason="素材の到着待ちです。", new_date=today() + timedelta(days=5))
    message.refresh_from_db()
    assert message.kind == "delay" and message.late_item == "記事5本目の写真"
    assert message.body == "素材の到着待ちです。" and message.next_date == today() + timedelta(days=5)
    note = Notification.objects.get(user=client_user, kind="message.delay")
    assert "遅延のお知らせ" in note.title and "記事5本目の写真" in note.body
    excerpt = row(client_user, thread)
    assert excerpt.last_kind == "delay"
    assert excerpt.last_excerpt.startswith("遅延のお知らせ: 記事5本目の写真（新しい見込み:")


@pytest.mark.parametrize(("late_item", "reason", "code"), [
    ("", "理由です", "required"),
    ("   ", "理由です", "required"),
    ("初稿", "", "required"),
    ("あ" * 101, "理由です", "too_long"),
    ("初稿", "あ" * 2001, "too_long"),
])
def test_delay_notice_bad_input(thread, worker, late_item, reason, code):
    assert_refused(lambda: message_send_delay(thread=thread, sender=worker, late_item=late_item, reason=reason,
                                              new_date=today()), code)


def test_inbox_excerpt_of_a_progress_report(thread, client_user, worker):
    message_send_progress(thread=thread, sender=worker, percent=80, next_date=date(2026, 9, 20), comment="順調です")
    excerpt = row(client_user, thread)
    assert excerpt.last_kind == "progress"
    assert excerpt.last_excerpt == "進捗報告: 80%完了（次回のプレビュー予定: 9月20日） 順調です"


def test_deal_updates_lists_progress_and_delay_only_in_order(thread, client_user, worker):
    message_send(thread=thread, sender=client_user, body="よろしくお願いします")
    first = message_send_progress(thread=thread, sender=worker, percent=30, next_date=today())
    message_acknowledge(thread=thread, sender=client_user, reply_by=today())
    second = message_send_delay(thread=thread, sender=worker, late_item="初稿", reason="確認中", new_date=today())
    updates = selectors.deal_updates(thread)
    assert [u.pk for u in updates] == [first.pk, second.pk]
    assert updates[0].headline.startswith("進捗報告: 30%完了")
    assert updates[1].headline.startswith("遅延のお知らせ: 初稿")
    assert selectors.latest_progress(updates) == first
    assert selectors.deal_updates(None) == []


# --- acknowledgement ----------------------------------------------------------------------------------------

def test_ack_is_one_click_and_counts_as_a_reply(thread, client_user, worker, travel):
    travel.move_to(THU)
    message_send(thread=thread, sender=worker, body="デザイン案をご確認ください。")
    assert row(client_user, thread).waiting_on_me is True
    travel.move_to(FRI)
    nudge = thread_nudge(thread=thread, sender=worker)

    travel.move_to(FRI + timedelta(hours=2))
    ack = message_acknowledge(thread=thread, sender=client_user, reply_by=date(2026, 9, 24))
    assert ack.kind == "ack" and ack.next_date == date(2026, 9, 24)
    assert ack.body == "メッセージを確認しました。9月24日までにお返事します。"
    assert row(client_user, thread).waiting_on_me is False
    assert row(worker, thread).waiting_on_me is True  # the worker now owes the next word
    nudge.refresh_from_db()
    assert nudge.replied_at == FRI + timedelta(hours=2)
    assert nudge.due_at is None  # the escalation is disarmed
    assert Notification.objects.filter(user=worker, kind="message.ack").exists()


def test_ack_needs_a_message_of_the_other_side(thread, client_user, worker):
    assert_refused(lambda: message_acknowledge(thread=thread, sender=client_user, reply_by=today()),
                   "nothing_to_acknowledge")
    message_send(thread=thread, sender=client_user, body="質問です。")
    assert_refused(lambda: message_acknowledge(thread=thread, sender=client_user, reply_by=today()),
                   "nothing_to_acknowledge")  # acknowledging one's own message makes no sense
    assert message_acknowledge(thread=thread, sender=worker, reply_by=today()).kind == "ack"


# --- nudges ---------------------------------------------------------------------------------------------------

def test_nudge_after_24_hours_not_a_second_earlier(thread, client_user, worker, travel):
    travel.move_to(THU)
    message_send(thread=thread, sender=worker, body="ご確認お願いします。")
    travel.move_to(THU + rules.NUDGE_AFTER - timedelta(seconds=1))  # 23:59:59
    error = assert_refused(lambda: thread_nudge(thread=thread, sender=worker), "nudge_not_allowed")
    assert "最後のメッセージから24時間経つと催促できます" in error.message
    assert "9/18 10:00から" in error.message

    travel.move_to(THU + rules.NUDGE_AFTER)  # 24:00:00
    nudge = thread_nudge(thread=thread, sender=worker)
    assert (nudge.sender, nudge.recipient, nudge.created_at) == (worker, client_user, FRI)
    system = Message.objects.filter(thread=thread, kind="system").latest("id")
    assert system.body.startswith(f"{worker.name}さんが返信を催促しました。")
    note = Notification.objects.get(user=client_user, kind="message.nudge")
    assert note.url == f"/messages/{thread.pk}/"
    thread.refresh_from_db()
    assert thread.last_human_message.sender == worker  # the system post does not change who is waiting


def test_nudge_once_a_day(thread, client_user, worker, travel):
    travel.move_to(THU)
    message_send(thread=thread, sender=worker, body="ご確認お願いします。")
    travel.move_to(FRI)
    thread_nudge(thread=thread, sender=worker)
    travel.move_to(FRI + rules.NUDGE_EVERY - timedelta(seconds=1))
    error = assert_refused(lambda: thread_nudge(thread=thread, sender=worker), "nudge_not_allowed")
    assert "1日1回まで" in error.message
    travel.move_to(FRI + rules.NUDGE_EVERY)
    assert thread_nudge(thread=thread, sender=worker).created_at == FRI + rules.NUDGE_EVERY
    assert Nudge.objects.filter(thread=thread).count() == 2


def test_only_the_waiting_side_nudges(thread, client_user, worker, travel):
    travel.move_to(THU)
    error = assert_refused(lambda: thread_nudge(thread=thread, sender=worker), "nudge_not_allowed")
    assert "返信を待っているとき" in error.message  # nobody has written yet
    message_send(thread=thread, sender=worker, body="ご確認お願いします。")
    travel.move_to(FRI + timedelta(days=3))
    assert_refused(lambda: thread_nudge(thread=thread, sender=client_user), "nudge_not_allowed")


def test_nudge_status_explains_why_not(thread, client_user, worker, travel):
    travel.move_to(THU)
    message_send(thread=thread, sender=worker, body="ご確認お願いします。")
    thread = selectors.thread_get(thread_id=thread.pk, user=worker)
    waiting = selectors.nudge_status(thread=thread, user=worker, now=THU + timedelta(hours=1))
    assert waiting.show and not waiting.allowed and "24時間" in waiting.reason
    assert selectors.nudge_status(thread=thread, user=worker, now=FRI).allowed
    owing = selectors.nudge_status(thread=thread, user=client_user, now=FRI)
    assert not owing.show and not owing.allowed  # the side that owes a reply has nothing to nudge


# --- escalation -------------------------------------------------------------------------------------------------

def _nudged(thread, worker, travel, at=FRI) -> Nudge:
    travel.move_to(at - rules.NUDGE_AFTER)
    message_send(thread=thread, sender=worker, body="ご確認お願いします。")
    travel.move_to(at)
    return thread_nudge(thread=thread, sender=worker)


def test_escalation_three_business_days_later_across_the_silver_week(thread, client_user, worker, travel):
    nudge = _nudged(thread, worker, travel)
    assert nudge.escalate_at == nudge.due_at == ESCALATION  # Fri 18 → Mon 28 (21, 22, 23 are holidays)
    assert "2026/09/28 10:00までに返信がない場合は事務局にお知らせします" in (
        Message.objects.filter(thread=thread, kind="system").latest("id").body)

    travel.move_to(ESCALATION - timedelta(microseconds=1))
    assert timers.sweep() == []
    assert not QueueItem.objects.exists()

    travel.move_to(ESCALATION)
    done = timers.sweep()
    assert done == [f"nudge {nudge.pk}: escalated (queue item {QueueItem.objects.get().pk})"]
    item = QueueItem.objects.get()
    assert (item.kind, item.subject_id, item.dedupe_key) == ("nudge_escalation", thread.pk, f"nudge:{nudge.pk}")
    assert item.due_at == datetime(2026, 9, 30, 10, 0, tzinfo=TOKYO)  # two business days for the operators
    assert client_user.name in item.summary
    assert {n.user for n in Notification.objects.filter(kind="message.nudge_escalated")} == {client_user, worker}
    nudge.refresh_from_db()
    assert nudge.escalated_at == ESCALATION and nudge.due_at is None and nudge.replied_at is None

    assert timers.sweep() == []  # once
    assert nudge_settle_due(nudge.pk) is None
    assert QueueItem.objects.count() == 1

    travel.move_to(ESCALATION + timedelta(hours=1))
    message_send(thread=thread, sender=client_user, body="遅くなりました。")
    nudge.refresh_from_db()
    assert nudge.replied_at == ESCALATION + timedelta(hours=1) and nudge.escalated_at == ESCALATION
    assert QueueItem.objects.count() == 1  # the operators close it; a late reply does not erase it


def test_escalation_time_counts_tokyo_dates_early_in_the_morning(thread, worker, travel):
    """08:00 on Friday in Tokyo is Thursday in UTC: still Friday + 3 business days = Monday 28, 08:00."""
    nudge = _nudged(thread, worker, travel, at=datetime(2026, 9, 18, 8, 0, tzinfo=TOKYO))
    assert nudge.due_at == datetime(2026, 9, 28, 8, 0, tzinfo=TOKYO)


@pytest.mark.parametrize("reply", ["message", "ack", "progress_by_worker"])
def test_no_escalation_after_any_reply(reply, contract, thread, client_user, worker, travel):
    if reply == "progress_by_worker":  # the client waits on the worker; the worker answers with a report
        nudge = _nudged(thread, client_user, travel)
        message_send_progress(thread=thread, sender=worker, percent=40, next_date=date(2026, 9, 25))
    else:
        nudge = _nudged(thread, worker, travel)
        if reply == "message":
            message_send(thread=thread, sender=client_user, body="確認します。")
        else:
            message_acknowledge(thread=thread, sender=client_user, reply_by=date(2026, 9, 25))
    nudge.refresh_from_db()
    assert nudge.replied_at == FRI and nudge.due_at is None
    travel.move_to(ESCALATION + timedelta(days=1))
    assert timers.sweep() == []
    assert not QueueItem.objects.exists()


def test_the_nudger_writing_again_is_no_reply(thread, client_user, worker, travel):
    nudge = _nudged(thread, worker, travel)
    message_send(thread=thread, sender=worker, body="追記です。")
    nudge.refresh_from_db()
    assert nudge.replied_at is None and nudge.due_at == ESCALATION


def test_no_escalation_outside_a_contract_or_order(travel, client_user, worker):
    application = factories.application(client_user, worker)
    nudge = _nudged(application.thread, worker, travel)
    assert nudge.escalate_at is None and nudge.due_at is None
    assert "事務局" not in Message.objects.filter(thread=application.thread, kind="system").latest("id").body
    travel.move_to(ESCALATION + timedelta(days=10))
    assert timers.sweep() == []
    assert not QueueItem.objects.exists()


def test_no_escalation_once_the_contract_has_ended(contract, thread, client_user, worker, travel):
    from anshin.contracts import services as contracts

    nudge = _nudged(thread, client_user, travel)  # the client waits on the worker
    assert nudge.due_at == ESCALATION
    travel.move_to(FRI + timedelta(hours=1))
    contracts.contract_deliver(contract_id=contract.pk, user=worker, body="納品します。")  # counts as no message
    contracts.contract_simple_action(contract_id=contract.pk, user=client_user, action="accept")
    travel.move_to(ESCALATION)
    timers.sweep()
    assert not QueueItem.objects.exists()
    nudge.refresh_from_db()
    assert nudge.due_at is None and nudge.escalated_at is None


def test_nudge_during_an_open_order_arms_escalation_and_only_the_seller_reports(travel, client_user, worker):
    from anshin.orders.models import Listing, Order

    now = clock.now()
    listing = Listing.objects.create(seller=worker, title="ロゴ制作", description="ロゴを作ります", category="design",
                                     price=10_000, delivery_days=7, state="active", state_entered_at=now,
                                     created_at=now, updated_at=now)
    order = Order.objects.create(listing=listing, buyer=client_user, seller=worker, title="ロゴ制作",
                                 subtotal=10_000, buyer_fee=550, total=10_550, delivery_days=7,
                                 included_revisions=1, created_at=now, state="in_progress", state_entered_at=now)
    thread = thread_create(kind="order", subject="注文: ロゴ制作", members=[client_user, worker], order=order)
    assert message_send_progress(thread=thread, sender=worker, percent=20, next_date=today()).kind == "progress"
    assert_refused(lambda: message_send_progress(thread=thread, sender=client_user, percent=20, next_date=today()),
                   "not_allowed", 403)
    nudge = _nudged(thread, client_user, travel)
    assert nudge.due_at == ESCALATION
    travel.move_to(ESCALATION)
    timers.sweep()
    assert QueueItem.objects.get().dedupe_key == f"nudge:{nudge.pk}"


def test_no_nudge_escalation_while_the_deal_is_already_a_dispute(contract, thread, worker, travel):
    from anshin.contracts.services import contract_open_dispute

    nudge = _nudged(thread, worker, travel)
    contract_open_dispute(contract_id=contract.pk, user=worker, reason="返信がなく作業が進められません。")
    travel.move_to(ESCALATION + timedelta(days=1))
    assert timers.sweep() == []
    assert not QueueItem.objects.filter(kind="nudge_escalation").exists()  # the dispute item already covers it
    nudge.refresh_from_db()
    assert nudge.due_at is None and nudge.escalated_at is None
