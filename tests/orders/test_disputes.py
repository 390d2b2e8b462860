"""トラブル相談 on service orders (issue 4): the buyer or the seller asks 事務局 to step in; the order's clock
stops (no 48 h auto-cancel, no 72 h auto-approval, no lapse of a キャンセル申請); an operator ends it —
release (completed, the seller paid like an approval), refund (cancelled, everything back incl. the buyer
fee) or split (cancelled: the seller gets their share of the price minus 22%, the buyer the rest of the price
plus the buyer fee in proportion, rounded down) — exact to the yen, escrow 0, the note internal."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from anshin.core import timers
from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.deals import services as deals
from anshin.deals.disputes import dispute_resolve
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import GATEWAY, REVENUE, balance, escrow_code, worker_code
from anshin.messaging.models import Message
from anshin.notifications.models import Notification
from anshin.ops.models import QueueItem
from anshin.orders import services as orders
from anshin.orders.models import CancelRequest, Order
from tests import factories
from tests.api.conftest import api_as  # noqa: F401 - the API client fixture, for the API twin tested here
from tests.ledger_checks import assert_ledger_sound, ledger_size
from tests.web.helpers import login, text

pytestmark = pytest.mark.django_db

START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
NOTE = "内部メモ：出品者の作業ログを確認（担当 鈴木）"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def fresh(order) -> Order:
    return Order.objects.select_related("thread").get(pk=order.pk)


def resolve(order, operator, outcome, amount=None, note=NOTE):
    return dispute_resolve(
        kind="order", deal_id=order.pk, operator=operator, outcome=outcome, worker_amount=amount, note=note
    )


def closing(order):
    entry = JournalEntry.objects.get(ref=order.ledger_ref, kind__startswith="dispute_")
    return entry, dict(entry.postings.values_list("account__code", "amount"))


def note_leaked() -> bool:
    return (
        Message.objects.filter(body__contains="内部メモ").exists()
        or Notification.objects.filter(body__contains="内部メモ").exists()
    )


def test_a_buyer_dispute_stops_auto_approval_and_a_split_is_exact_to_the_yen(clock, buyer, seller, operator):
    a_listing = factories.listing(seller, price=10_000)
    option = a_listing.options.get()  # +¥3,000
    order = factories.order(buyer, seller, state="delivered", a_listing=a_listing, option_ids=[option.pk])
    assert (order.subtotal, order.buyer_fee, order.total) == (13_000, 715, 13_715)
    clock.shift(timedelta(hours=48))  # 24 h of the 72 h left
    orders.order_open_dispute(order_id=order.pk, user=buyer, reason="納品物が説明と違います。")
    event = AuditEvent.objects.get(subject_type__model="order", subject_id=order.pk, action="open_dispute")
    assert event.payload["frozen_timer"]["timer_action"] == "auto_approve"
    assert event.payload["frozen_timer"]["remaining_seconds"] == 24 * 3600
    item = QueueItem.objects.get()
    assert (item.kind, item.state, item.concerns, item.opened_by) == ("dispute", "open", seller, buyer)
    assert Notification.objects.filter(user=seller, kind="order.open_dispute").exists()

    size = ledger_size()
    clock.shift(timedelta(days=30))
    assert timers.sweep() == []
    order = fresh(order)
    assert order.state == "disputed" and order.due_at is None
    assert ledger_size() == size and balance(escrow_code(order.ledger_ref)) == 13_715

    revenue_before = balance(REVENUE)
    resolve(order, operator, "split", 5_001)
    order = fresh(order)
    assert order.state == "cancelled"
    entry, lines = closing(order)
    # seller: 5,001 − 22% (1,100) = 3,901; buyer: 7,999 of the price + 715 × 7,999 ÷ 13,000 (439) = 8,438;
    # revenue: 1,100 + the buyer fee kept (276) = 1,376. 3,901 + 8,438 + 1,376 = 13,715.
    assert entry.kind == "dispute_split"
    assert lines == {
        escrow_code(order.ledger_ref): -13_715,
        worker_code(seller.pk): 3_901,
        GATEWAY: 8_438,
        REVENUE: 1_376,
    }
    assert balance(escrow_code(order.ledger_ref)) == 0
    assert balance(worker_code(seller.pk)) == 3_901 and balance(REVENUE) - revenue_before == 1_376
    assert_ledger_sound()
    decision = AuditEvent.objects.get(subject_type__model="order", subject_id=order.pk, action="resolve_split")
    assert decision.actor == operator and decision.actor_role == "operator" and decision.payload["note"] == NOTE
    item.refresh_from_db()
    assert (item.state, item.closed_by, item.resolution) == ("closed", operator, "resolve_split")
    for user in (buyer, seller):
        assert Notification.objects.filter(user=user, kind="order.resolve_split").count() == 1
    assert "¥8,438" in order.thread.messages.order_by("-id").first().body
    assert not note_leaked()


def test_a_seller_dispute_stops_the_48_hour_auto_cancel(clock, buyer, seller, operator):
    order = factories.order(buyer, seller, state="purchased")
    orders.order_open_dispute(order_id=order.pk, user=seller, reason="購入者の依頼内容が規約違反です。")
    assert QueueItem.objects.get().concerns == buyer
    clock.shift(timedelta(hours=49))
    assert timers.sweep() == []
    assert fresh(order).state == "disputed"
    assert not JournalEntry.objects.filter(ref=order.ledger_ref, kind="refund").exists()


def test_entering_a_dispute_voids_a_pending_cancel_request_and_date_change(clock, buyer, seller):
    order = factories.order(buyer, seller, state="in_progress")
    req = orders.order_cancel_request(order_id=order.pk, user=buyer, reason="no_progress")
    change = deals.date_change_propose(
        deal_kind="order",
        deal_id=order.pk,
        user=seller,
        new_date=order.delivery_date + timedelta(days=3),
        reason="素材待ちのため",
    )
    orders.order_open_dispute(order_id=order.pk, user=seller, reason="キャンセル理由に納得できません。")
    assert CancelRequest.objects.get(pk=req.pk).state == "voided"
    change.refresh_from_db()
    assert change.state == "void"
    clock.shift(timedelta(hours=25))  # the request's 24 h would have cancelled the order
    assert timers.sweep() == []
    assert fresh(order).state == "disputed"


@pytest.mark.parametrize(("outcome", "state"), [("release", "completed"), ("refund", "cancelled")])
def test_release_pays_like_an_approval_and_refund_returns_everything(buyer, seller, operator, outcome, state):
    order = factories.order(buyer, seller, state="in_progress")  # ¥10,000 + 5.5% = ¥10,550
    orders.order_open_dispute(order_id=order.pk, user=buyer, reason="連絡がありません。")
    revenue_before = balance(REVENUE)
    resolve(order, operator, outcome, 1)  # a share is ignored unless splitting
    order = fresh(order)
    assert order.state == state
    entry, lines = closing(order)
    assert entry.kind == f"dispute_{outcome}"
    assert balance(escrow_code(order.ledger_ref)) == 0
    if outcome == "release":
        assert lines[worker_code(seller.pk)] == 10_000 - 2_200
        assert balance(REVENUE) - revenue_before == 2_200 + 550
        assert order.completed_at is not None
    else:
        assert lines[GATEWAY] == 10_550 and worker_code(seller.pk) not in lines
        assert balance(REVENUE) == revenue_before
    assert_ledger_sound()
    assert not QueueItem.objects.filter(state="open").exists()
    with pytest.raises(DomainError) as refused:
        resolve(order, operator, "refund")
    assert refused.value.code == "not_allowed"


@pytest.mark.parametrize("amount", [0, 10_000, -5, 10_001, None, "5000", 5_000.0, False])
def test_invalid_split_amounts_change_nothing(buyer, seller, operator, amount):
    order = factories.order(buyer, seller, state="delivered")
    orders.order_open_dispute(order_id=order.pk, user=seller, reason="承諾していただけません。")
    size, events = ledger_size(), AuditEvent.objects.count()
    with pytest.raises(DomainError) as refused:
        resolve(order, operator, "split", amount)
    assert refused.value.code == "invalid_amount"
    assert fresh(order).state == "disputed" and ledger_size() == size and AuditEvent.objects.count() == events


def test_parties_and_strangers_get_404_and_an_open_order_cannot_be_resolved(buyer, seller, stranger, operator):
    order = factories.order(buyer, seller, state="in_progress")
    with pytest.raises(DomainError) as refused:
        resolve(order, operator, "release")
    assert refused.value.code == "not_allowed"
    with pytest.raises(NotFound):
        orders.order_open_dispute(order_id=order.pk, user=stranger, reason="部外者")
    with pytest.raises(DomainError) as refused:
        orders.order_open_dispute(order_id=order.pk, user=buyer, reason=" ")
    assert refused.value.code == "empty"
    orders.order_open_dispute(order_id=order.pk, user=buyer, reason="連絡がありません。")
    for user in (buyer, seller, stranger):
        with pytest.raises(NotFound):
            resolve(order, user, "refund")
    with pytest.raises(DomainError) as refused:
        resolve(order, operator, "refund", note="")
    assert refused.value.code == "note_required"
    assert fresh(order).state == "disputed"
    with pytest.raises(DomainError) as refused:
        orders.order_open_dispute(order_id=order.pk, user=seller, reason="再度")
    assert refused.value.code == "not_allowed"
    assert QueueItem.objects.count() == 1


# --- the order page and the API -----------------------------------------------------------------------------


def test_the_order_page_offers_the_dispute_form_and_shows_the_disputed_state(buyer, seller, operator):
    order = factories.order(buyer, seller, state="in_progress")
    url = reverse("orders:detail", args=[order.pk])
    page = text(login(buyer).get(url))
    assert 'data-testid="dispute"' in page and "事務局に相談する（トラブル相談）" in page
    assert '<details class="card dispute" data-testid="dispute">' in page  # closed until something went wrong

    action = reverse("orders:action", args=[order.pk, "open_dispute"])
    response = login(buyer).post(action, {"reason": ""})
    assert response.status_code == 400 and fresh(order).state == "in_progress"
    response = login(buyer).post(action, {"reason": "作業が進んでいません。"})
    assert response.status_code == 302
    page = text(login(seller).get(url))
    assert 'data-testid="dispute-notice"' in page and "トラブル相談中" in page
    assert 'data-testid="dispute"' not in page and "作業が進んでいません。" in page
    page = text(login(operator).get(url))
    assert "resolve_" not in page  # decisions are the operations console's

    resolve(order, operator, "split", 4_000)
    page = text(login(buyer).get(url))
    assert 'data-testid="settlement-notice"' in page and "¥6,330" in page  # 6,000 + 550 × 6,000 ÷ 10,000
    assert 'data-testid="refund-notice"' not in page and "内部メモ" not in page
    page = text(login(seller).get(url))
    assert "¥3,120" in page  # 4,000 − 22%


def test_a_refused_cancel_request_opens_the_dispute_panel(buyer, seller):
    order = factories.order(buyer, seller, state="in_progress")
    req = orders.order_cancel_request(order_id=order.pk, user=seller, reason="cannot_take")
    orders.cancel_request_answer(request_id=req.pk, user=buyer, action="refuse")
    assert "事務局に相談する" in order.thread.messages.order_by("-id").first().body
    page = text(login(seller).get(reverse("orders:detail", args=[order.pk])))
    assert '<details class="card dispute" open data-testid="dispute">' in page
    assert 'data-testid="cancel-refused"' in page


def test_api_open_dispute_and_no_resolution_for_parties(buyer, seller, operator, api_as):  # noqa: F811
    order = factories.order(buyer, seller, state="delivered")
    status, body = api_as(buyer).get(f"/api/orders/{order.pk}")
    dispute = next(a for a in body["allowed_actions"] if a["action"] == "open_dispute")
    assert dispute["needs_input"] is True
    status, body = api_as(seller).post(f"/api/orders/{order.pk}/actions/open_dispute", {})
    assert status == 400 and body["code"] == "empty"
    status, body = api_as(seller).post(f"/api/orders/{order.pk}/actions/open_dispute", {"reason": "相談します"})
    assert status == 200 and body["state"] == "disputed" and body["escrow"] == order.total
    assert body["allowed_actions"] == []
    status, body = api_as(operator).get(f"/api/orders/{order.pk}")
    assert body["allowed_actions"] == []
    status, body = api_as(operator).post(f"/api/orders/{order.pk}/actions/resolve_refund")
    assert status == 400 and body["code"] == "unknown_action"
    resolve(order, operator, "refund")
    status, events = api_as(buyer).get(f"/api/orders/{order.pk}/timeline")
    assert all("note" not in e["payload"] for e in events)
