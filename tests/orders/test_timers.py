"""Timers of orders (PRODUCT.md §3): the seller's 48 h first response (reminders at 24 h and 6 h left), the
buyer's 72 h approval (reminder at 24 h left), 24 h on a キャンセル申請 — exact to the microsecond, once."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from anshin.core import timers
from anshin.core.models import AuditEvent
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import GATEWAY, REVENUE, balance, escrow_code, worker_code
from anshin.messaging.services import message_send
from anshin.notifications.models import Notification
from anshin.orders import selectors
from anshin.orders import services as orders
from anshin.orders.models import CancelRequest, Order
from tests import factories
from tests.orders.conftest import START

pytestmark = pytest.mark.django_db
µs = timedelta(microseconds=1)
H = timedelta(hours=1)


def fresh(order) -> Order:
    return Order.objects.get(pk=order.pk)


def settled(done, what):
    return [line for line in done if line.endswith(what)]


def notes(user, kind):
    return list(Notification.objects.filter(user=user, kind=kind).order_by("id").values_list("title", flat=True))


# --- 48 h first response --------------------------------------------------------------------------------

def test_48h_of_seller_silence_cancels_and_refunds_in_full_at_the_instant_and_not_before(clock, buyer, seller):
    order = factories.order(buyer, seller)
    assert order.due_at == START + 48 * H

    clock.move_to(order.due_at - µs)
    assert settled(timers.sweep(), "expire") == []
    assert fresh(order).state == "purchased"
    assert balance(escrow_code(order.ledger_ref)) == 10_550

    clock.move_to(order.due_at)
    assert timers.sweep() == [f"order {order.pk}: expire"]
    assert timers.sweep() == []
    order = fresh(order)
    assert order.state == "cancelled"
    assert balance(escrow_code(order.ledger_ref)) == 0
    assert balance(GATEWAY) == 0  # the whole payment, buyer fee included, went back
    assert JournalEntry.objects.filter(ref=order.ledger_ref, kind="refund").count() == 1
    assert balance(REVENUE) == 0 and balance(worker_code(seller.pk)) == 0
    assert len(notes(buyer, "order.expire")) == 1
    assert "自動でキャンセル" in Notification.objects.get(user=buyer, kind="order.expire").body
    assert list(selectors.seller_expired_orders(seller)) == [order]
    event = AuditEvent.objects.get(subject_id=order.pk, subject_type__model="order", action="expire")
    assert event.actor_role == "system"


def test_first_response_reminders_go_to_the_seller_at_24h_and_6h_left_never_late(clock, buyer, seller):
    order = factories.order(buyer, seller)
    kind = "order.first_response_reminder"
    clock.move_to(START + 24 * H - µs)
    timers.sweep()
    assert notes(seller, kind) == []
    clock.move_to(START + 24 * H)
    assert timers.sweep() == [f"order {order.pk}: reminder 24h"]
    assert notes(seller, kind) == ["「ロゴをデザインします」の注文に返答してください（残り24時間）"]
    assert notes(buyer, kind) == []
    clock.move_to(START + 42 * H - µs)
    assert timers.sweep() == []
    clock.move_to(START + 42 * H)
    assert timers.sweep() == [f"order {order.pk}: reminder 6h"]
    assert len(notes(seller, kind)) == 2
    assert fresh(order).remind_at is None


def test_a_stopped_sweeper_sends_only_the_most_urgent_reminder(clock, buyer, seller):
    order = factories.order(buyer, seller)
    clock.move_to(START + 45 * H)  # both reminders are due; only "6h" goes out
    assert timers.sweep() == [f"order {order.pk}: reminder 6h"]
    assert notes(seller, "order.first_response_reminder") == [
        "「ロゴをデザインします」の注文に返答してください（残り6時間）"]


def test_a_seller_message_stops_the_48h_and_its_reminders(clock, buyer, seller):
    order = factories.order(buyer, seller)
    clock.move_to(START + 47 * H)
    message_send(thread=order.thread, sender=seller, body="ご購入ありがとうございます。詳細を確認します。")
    clock.move_to(START + 100 * H)
    assert timers.sweep() == []
    order = fresh(order)
    assert order.state == "responded"
    assert balance(escrow_code(order.ledger_ref)) == 10_550
    assert notes(seller, "order.first_response_reminder") == []  # the 24 h one was never swept in this test


def test_a_seller_message_after_the_deadline_does_not_revive_the_order(clock, buyer, seller):
    order = factories.order(buyer, seller)
    clock.move_to(order.due_at)
    message_send(thread=order.thread, sender=seller, body="遅れてすみません")
    order = fresh(order)
    assert order.state == "cancelled"
    assert JournalEntry.objects.filter(ref=order.ledger_ref, kind="refund").count() == 1
    assert order.thread.messages.filter(body="遅れてすみません").exists()


def test_reading_an_order_after_the_deadline_settles_it(clock, buyer, seller):
    order = factories.order(buyer, seller)
    clock.move_to(order.due_at)
    assert selectors.order_get(order_id=order.pk, user=seller).state == "cancelled"
    assert timers.sweep() == []


def test_the_order_list_settles_due_orders_first(clock, buyer, seller):
    order = factories.order(buyer, seller)
    clock.move_to(order.due_at)
    assert [o.state for o in selectors.order_list(user=buyer)] == ["cancelled"]


def test_the_buyer_buys_again_after_an_auto_cancel(clock, buyer, seller):
    first = factories.order(buyer, seller)
    clock.move_to(first.due_at)
    call_command("tick", stdout=__import__("io").StringIO())
    assert fresh(first).state == "cancelled"
    second = factories.order(buyer, seller, a_listing=first.listing)
    assert second.state == "purchased"
    orders.order_accept(order_id=second.pk, user=seller)
    assert fresh(second).state == "in_progress"
    assert balance(escrow_code(second.ledger_ref)) == 10_550 and balance(escrow_code(first.ledger_ref)) == 0


def test_accept_at_the_deadline_is_too_late_and_a_microsecond_before_wins(clock, buyer, seller):
    late = factories.order(buyer, seller)
    on_time = factories.order(buyer, seller, a_listing=late.listing)
    clock.move_to(on_time.due_at - µs)
    orders.order_accept(order_id=on_time.pk, user=seller)
    clock.move_to(late.due_at)
    with pytest.raises(Exception) as error:
        orders.order_accept(order_id=late.pk, user=seller)
    assert error.value.code == "not_allowed"
    assert fresh(late).state == "cancelled"  # the settlement survived the refused click
    assert fresh(on_time).state == "in_progress"


# --- 72 h approval --------------------------------------------------------------------------------------

def test_72h_of_buyer_silence_after_delivery_approves_and_pays_the_seller(clock, buyer, seller):
    order = factories.order(buyer, seller, state="delivered")
    assert order.due_at == START + 72 * H
    clock.move_to(order.due_at - 24 * H - µs)
    assert timers.sweep() == []
    clock.move_to(order.due_at - 24 * H)
    assert timers.sweep() == [f"order {order.pk}: reminder 24h"]
    assert notes(buyer, "order.approval_reminder") == ["「ロゴをデザインします」の納品の承諾期限まであと24時間です"]
    assert notes(seller, "order.approval_reminder") == []
    clock.move_to(order.due_at - µs)
    assert timers.sweep() == []
    assert fresh(order).state == "delivered"
    clock.move_to(order.due_at)
    assert timers.sweep() == [f"order {order.pk}: auto_approve"]
    assert timers.sweep() == []
    order = fresh(order)
    assert order.state == "completed"
    assert balance(worker_code(seller.pk)) == 7_800
    assert balance(REVENUE) == 2_750
    assert balance(escrow_code(order.ledger_ref)) == 0
    assert JournalEntry.objects.filter(ref=order.ledger_ref, kind="payout").count() == 1
    assert "自動で承諾" in order.thread.messages.order_by("-id").first().body


def test_the_72h_restarts_from_each_redelivery(clock, buyer, seller):
    order = factories.order(buyer, seller, state="delivered")
    clock.move_to(START + 70 * H)
    orders.order_request_revision(order_id=order.pk, user=buyer, reason="修正をお願いします")
    clock.move_to(START + 80 * H)
    orders.order_deliver(order_id=order.pk, user=seller, body="修正版です")
    assert fresh(order).due_at == START + 152 * H
    clock.move_to(START + 152 * H - µs)
    assert settled(timers.sweep(), "auto_approve") == []
    clock.move_to(START + 152 * H)
    assert settled(timers.sweep(), "auto_approve") == [f"order {order.pk}: auto_approve"]


# --- キャンセル申請 24 h ----------------------------------------------------------------------------------

def test_24h_of_silence_on_a_cancel_request_cancels_with_a_full_refund(clock, buyer, seller):
    order = factories.order(buyer, seller, state="in_progress")
    clock.move_to(START + 5 * H)
    request = orders.order_cancel_request(order_id=order.pk, user=buyer, reason="no_progress")
    assert request.due_at == START + 29 * H
    clock.move_to(request.due_at - µs)
    assert timers.sweep() == []
    assert CancelRequest.objects.get(pk=request.pk).state == "pending"
    clock.move_to(request.due_at)
    assert timers.sweep() == [f"order {order.pk}: cancel request {request.pk} lapse"]
    assert timers.sweep() == []
    assert CancelRequest.objects.get(pk=request.pk).state == "agreed"
    order = fresh(order)
    assert order.state == "cancelled"
    assert balance(escrow_code(order.ledger_ref)) == 0 and balance(GATEWAY) == 0
    assert len(notes(seller, "order.cancel")) == 1 and len(notes(buyer, "order.cancel")) == 1


def test_answering_at_the_24h_instant_is_too_late(clock, buyer, seller):
    order = factories.order(buyer, seller, state="in_progress")
    request = orders.order_cancel_request(order_id=order.pk, user=buyer, reason="no_progress")
    clock.move_to(request.due_at)
    with pytest.raises(Exception) as error:
        orders.cancel_request_answer(request_id=request.pk, user=seller, action="refuse")
    assert error.value.code == "not_allowed"
    assert fresh(order).state == "cancelled"


def test_a_cancel_request_that_lapsed_before_the_72h_wins_over_auto_approval(clock, buyer, seller):
    order = factories.order(buyer, seller, state="delivered")
    clock.move_to(START + 10 * H)
    request = orders.order_cancel_request(order_id=order.pk, user=buyer, reason="not_as_described")
    clock.move_to(START + 100 * H)  # the sweeper was down past both deadlines
    timers.sweep()
    assert CancelRequest.objects.get(pk=request.pk).state == "agreed"
    assert fresh(order).state == "cancelled"
    assert JournalEntry.objects.filter(ref=order.ledger_ref, kind="payout").count() == 0
    assert JournalEntry.objects.filter(ref=order.ledger_ref, kind="refund").count() == 1


def test_a_48h_expiry_voids_a_pending_cancel_request(clock, buyer, seller):
    order = factories.order(buyer, seller)
    clock.move_to(START + 40 * H)
    request = orders.order_cancel_request(order_id=order.pk, user=buyer, reason="changed_mind")
    clock.move_to(START + 48 * H)
    assert timers.sweep() == [f"order {order.pk}: expire"]
    assert CancelRequest.objects.get(pk=request.pk).state == "voided"
    clock.move_to(START + 64 * H)
    assert timers.sweep() == []
    assert JournalEntry.objects.filter(ref=order.ledger_ref, kind="refund").count() == 1
