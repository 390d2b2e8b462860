"""Orders (PRODUCT.md §3): purchase with the hearing sheet into escrow, accept, deliver, approve or revise,
payout minus 22%, overdue termination, キャンセル申請 — and wrong party or state changes nothing."""

from datetime import timedelta

import pytest

from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import GATEWAY, REVENUE, balance, escrow_code, worker_code
from anshin.messaging.models import Message, Thread
from anshin.messaging.services import message_send
from anshin.notifications.models import Notification
from anshin.orders import selectors
from anshin.orders import services as orders
from anshin.orders.models import CancelRequest, HearingAnswer, Order
from tests import factories

pytestmark = pytest.mark.django_db


def fresh(order) -> Order:
    return Order.objects.select_related("buyer", "seller", "thread").get(pk=order.pk)


def snapshot(order):
    """Everything a refused action must leave untouched."""
    o = fresh(order)
    return (o.state, o.due_at, o.revisions_used, o.delivery_date, JournalEntry.objects.count(),
            AuditEvent.objects.count(), Message.objects.count(), CancelRequest.objects.count(),
            balance(escrow_code(o.ledger_ref)))


# --- purchase and money ---------------------------------------------------------------------------------

def test_purchase_charges_price_plus_buyer_fee_into_escrow_and_payout_keeps_22_percent(clock, buyer, seller):
    listing = factories.listing(seller, price=10_000)
    order = orders.order_purchase(listing_id=listing.pk, user=buyer, answers=factories.hearing_answers(listing))
    assert (order.subtotal, order.buyer_fee, order.total) == (10_000, 550, 10_550)
    assert order.state == "purchased"
    assert balance(escrow_code(order.ledger_ref)) == 10_550
    assert balance(GATEWAY) == -10_550
    purchase = JournalEntry.objects.get(idempotency_key=f"order:{order.pk}:purchase")
    assert sorted((p.account.code, p.amount) for p in purchase.postings.select_related("account")) == sorted(
        [(GATEWAY, -10_550), (escrow_code(order.ledger_ref), 10_550)])
    thread = Thread.objects.get(order=order)
    assert thread.kind == "order"
    assert set(thread.members.values_list("user_id", flat=True)) == {buyer.pk, seller.pk}
    assert "購入しました" in thread.messages.get().body
    assert Notification.objects.filter(user=seller, kind="order.purchase").exists()

    orders.order_accept(order_id=order.pk, user=seller)
    orders.order_deliver(order_id=order.pk, user=seller, body="ロゴを納品します。")
    orders.order_approve(order_id=order.pk, user=buyer)
    order = fresh(order)
    assert order.state == "completed" and order.completed_at is not None
    assert balance(escrow_code(order.ledger_ref)) == 0
    assert balance(worker_code(seller.pk)) == 7_800
    assert balance(REVENUE) == 2_200 + 550
    assert balance(GATEWAY) == -10_550
    assert JournalEntry.objects.filter(ref=order.ledger_ref).count() == 2
    assert "¥7,800" in thread.messages.order_by("-id").first().body
    assert Notification.objects.filter(user=seller, kind="order.approve").exists()


def test_options_add_to_price_days_and_the_fee_is_rounded_down(clock, buyer, seller):
    listing = factories.listing(seller, price=10_001,
                                options=[{"title": "特急", "price": 3_000, "extra_days": 0},
                                         {"title": "ソースファイル", "price": 2_000, "extra_days": 2}])
    ids = [o.pk for o in listing.options.all()]
    order = orders.order_purchase(listing_id=listing.pk, user=buyer, option_ids=ids,
                                  answers=factories.hearing_answers(listing))
    assert order.subtotal == 15_001
    assert order.buyer_fee == 15_001 * 55 // 1000 == 825
    assert order.total == 15_826
    assert order.delivery_days == 7
    assert [o["title"] for o in order.options] == ["特急", "ソースファイル"]


def test_a_declined_card_writes_nothing(buyer, seller):
    listing = factories.listing(seller)
    with pytest.raises(DomainError) as error:
        orders.order_purchase(listing_id=listing.pk, user=buyer, answers=factories.hearing_answers(listing),
                              card_token="tok_decline")
    assert error.value.status == 402
    assert "承認されませんでした" in error.value.message
    assert not Order.objects.exists() and not JournalEntry.objects.exists() and not HearingAnswer.objects.exists()
    assert not Thread.objects.exists()


def test_a_seller_cannot_buy_their_own_listing_and_a_paused_one_is_not_for_sale(buyer, seller):
    listing = factories.listing(seller)
    with pytest.raises(DomainError) as error:
        orders.order_purchase(listing_id=listing.pk, user=seller, answers=factories.hearing_answers(listing))
    assert error.value.code == "own_listing"
    orders.listing_transition(listing_id=listing.pk, user=seller, action="pause")
    with pytest.raises(NotFound):
        orders.order_purchase(listing_id=listing.pk, user=buyer, answers=factories.hearing_answers(listing))
    with pytest.raises(DomainError) as error:
        orders.order_purchase(listing_id=listing.pk, user=buyer, option_ids=[999_999],
                              answers=factories.hearing_answers(listing))
    assert not Order.objects.exists()


@pytest.mark.parametrize(("which", "answer", "message"), [
    (0, "", "質問1「ご依頼の内容を教えてください」は必須です"),
    (0, "   ", "は必須です"),
    (0, ["リスト"], "文字で回答してください"),
    (1, "", "質問2「ご希望のテイスト」は必須です"),
    (1, "派手", "選択肢から1つ選んでください"),
    (1, ["シンプル", "ポップ"], "選択肢から1つ選んでください"),
    (2, ["PNG", "GIF"], "選択肢の中から選んでください"),
])
def test_the_hearing_sheet_is_enforced_and_nothing_is_charged(buyer, seller, which, answer, message):
    listing = factories.listing(seller)
    question = list(listing.questions.all())[which]
    answers = factories.hearing_answers(listing, **{str(question.pk): answer})
    answers.pop(question.pk)
    with pytest.raises(DomainError) as error:
        orders.order_purchase(listing_id=listing.pk, user=buyer, answers=answers)
    assert message in error.value.message
    assert not Order.objects.exists() and not JournalEntry.objects.exists()


def test_a_required_multiple_choice_needs_at_least_one_and_optional_ones_may_be_skipped(buyer, seller):
    listing = factories.listing(seller, questions=[
        {"kind": "multiple", "text": "用途", "choices": ["Web", "印刷", "SNS"], "required": True},
        {"kind": "text", "text": "備考", "required": False},
    ])
    required, optional = listing.questions.all()
    with pytest.raises(DomainError) as error:
        orders.order_purchase(listing_id=listing.pk, user=buyer, answers={required.pk: []})
    assert "は必須です" in error.value.message
    with pytest.raises(DomainError):
        orders.order_purchase(listing_id=listing.pk, user=buyer, answers={required.pk: ["Web"], 999: "x"})
    order = orders.order_purchase(listing_id=listing.pk, user=buyer, answers={str(required.pk): ["SNS", "Web"]})
    assert [(a.question, a.answer) for a in order.answers.all()] == [("用途", ["Web", "SNS"]), ("備考", [])]


def test_the_buyer_may_buy_the_same_listing_again(buyer, seller):
    listing = factories.listing(seller)
    first = factories.order(buyer, seller, a_listing=listing)
    second = factories.order(buyer, seller, a_listing=listing)
    assert first.pk != second.pk
    assert first.thread.pk != second.thread.pk
    assert list(selectors.order_list(user=buyer)) == [second, first]


# --- accept / respond / deliver / revisions --------------------------------------------------------------

def test_accept_sets_the_delivery_date_from_the_local_date_of_acceptance(clock, buyer, seller):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    clock.move_to(datetime(2026, 4, 1, 23, 30, tzinfo=ZoneInfo("Asia/Tokyo")))  # 14:30 UTC, still 4/1 in Japan
    order = factories.order(buyer, seller, state="in_progress", delivery_days=5)
    assert order.accepted_at is not None
    assert str(order.delivery_date) == "2026-04-06"
    assert order.due_at is None  # no timer while working
    assert Notification.objects.filter(user=buyer, kind="order.accept").exists()


def test_the_sellers_first_message_is_a_response_and_the_buyers_is_not(clock, buyer, seller):
    order = factories.order(buyer, seller)
    message_send(thread=order.thread, sender=buyer, body="よろしくお願いします")
    assert fresh(order).state == "purchased"
    message_send(thread=order.thread, sender=seller, body="ご購入ありがとうございます")
    order = fresh(order)
    assert order.state == "responded" and order.due_at is None
    assert order.thread.messages.order_by("-id").first().body.startswith("山田花子さんが返答しました")
    message_send(thread=order.thread, sender=seller, body="2通目")  # nothing more happens
    assert AuditEvent.objects.filter(subject_id=order.pk, action="respond").count() == 1
    orders.order_accept(order_id=order.pk, user=seller)
    assert fresh(order).state == "in_progress"


def test_delivery_goes_into_the_thread_with_files_and_revisions_are_limited(clock, buyer, seller):
    from django.core.files.uploadedfile import SimpleUploadedFile

    order = factories.order(buyer, seller, state="in_progress", included_revisions=1)
    delivery = orders.order_deliver(order_id=order.pk, user=seller, body="初稿です",
                                    files=[SimpleUploadedFile("logo.png", b"png-bytes", "image/png")])
    assert [a.name for a in delivery.attachments] == ["logo.png"]
    assert delivery.message.thread_id == order.thread.pk and "【正式な納品】" in delivery.message.body
    assert fresh(order).state == "delivered"
    assert Notification.objects.filter(user=buyer, kind="order.deliver").exists()
    orders.order_request_revision(order_id=order.pk, user=buyer, reason="色を青にしてください")
    order = fresh(order)
    assert (order.state, order.revisions_used) == ("in_progress", 1)
    assert "修正 1/1回目" in order.thread.messages.filter(kind="system").order_by("-id").first().body
    orders.order_deliver(order_id=order.pk, user=seller, body="修正版です")
    assert [t.action for t in selectors.order_actions(order=fresh(order), user=buyer)] == ["approve", "open_dispute"]
    before = snapshot(order)
    with pytest.raises(DomainError) as error:
        orders.order_request_revision(order_id=order.pk, user=buyer, reason="もう一度")
    assert "修正依頼は1回まで" in error.value.message
    assert snapshot(order) == before
    orders.order_approve(order_id=order.pk, user=buyer)
    assert fresh(order).state == "completed"


def test_zero_included_revisions_means_no_revision(clock, buyer, seller):
    order = factories.order(buyer, seller, state="delivered", included_revisions=0)
    with pytest.raises(DomainError):
        orders.order_request_revision(order_id=order.pk, user=buyer, reason="修正して")
    assert fresh(order).state == "delivered"


def test_bad_delivery_and_revision_input_changes_nothing(clock, buyer, seller):
    from django.core.files.uploadedfile import SimpleUploadedFile

    order = factories.order(buyer, seller, state="in_progress")
    before = snapshot(order)
    for kwargs in ({"body": " "}, {"body": "x" * 10_000},
                   {"body": "ok", "files": [SimpleUploadedFile("a.exe", b"MZ", "application/octet-stream")]}):
        with pytest.raises(DomainError):
            orders.order_deliver(order_id=order.pk, user=seller, **kwargs)
    assert snapshot(order) == before
    orders.order_deliver(order_id=order.pk, user=seller, body="納品")
    before = snapshot(order)
    with pytest.raises(DomainError):
        orders.order_request_revision(order_id=order.pk, user=buyer, reason="")
    assert snapshot(order) == before


@pytest.mark.parametrize(("state", "actor", "action"), [
    ("purchased", "buyer", "accept"),
    ("purchased", "seller", "approve"),
    ("in_progress", "seller", "accept"),
    ("in_progress", "buyer", "approve"),
    ("delivered", "seller", "approve"),
    ("completed", "buyer", "approve"),
    ("in_progress", "buyer", "terminate_overdue"),  # guard: not overdue yet
])
def test_wrong_party_or_state_is_refused_and_nothing_changes(clock, buyer, seller, state, actor, action):
    order = factories.order(buyer, seller, state=state)
    before = snapshot(order)
    with pytest.raises(DomainError) as error:
        orders.order_simple_action(order_id=order.pk, user={"buyer": buyer, "seller": seller}[actor], action=action)
    assert error.value.code == "not_allowed"
    assert snapshot(order) == before


def test_strangers_get_404_for_every_order_action(clock, buyer, seller, stranger):
    order = factories.order(buyer, seller, state="delivered")
    before = snapshot(order)
    calls = [
        lambda: orders.order_simple_action(order_id=order.pk, user=stranger, action="approve"),
        lambda: orders.order_request_revision(order_id=order.pk, user=stranger, reason="x"),
        lambda: orders.order_deliver(order_id=order.pk, user=stranger, body="x"),
        lambda: orders.order_cancel_request(order_id=order.pk, user=stranger, reason="other", detail="x"),
        lambda: selectors.order_get(order_id=order.pk, user=stranger),
        lambda: orders.order_simple_action(order_id=999_999, user=buyer, action="approve"),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    assert snapshot(order) == before
    assert list(selectors.order_list(user=stranger)) == []


def test_an_operator_can_act_as_the_twin_of_a_party(clock, buyer, seller, operator):
    order = factories.order(buyer, seller, state="delivered")
    orders.order_simple_action(order_id=order.pk, user=operator, action="approve")
    event = AuditEvent.objects.get(subject_id=order.pk, subject_type__model="order", action="approve")
    assert (event.actor, event.actor_role) == (operator, "operator")
    assert fresh(order).state == "completed"


def test_unknown_and_form_actions_are_refused_by_the_simple_action(clock, buyer, seller):
    order = factories.order(buyer, seller)
    for action, code in (("deliver", "needs_input"), ("expire", "unknown_action"), ("cancel", "unknown_action")):
        with pytest.raises(DomainError) as error:
            orders.order_simple_action(order_id=order.pk, user=seller, action=action)
        assert error.value.code == code


# --- overdue --------------------------------------------------------------------------------------------

def test_the_buyer_may_end_the_order_alone_three_days_after_the_delivery_date(clock, buyer, seller):
    order = factories.order(buyer, seller, state="in_progress", delivery_days=5)
    last_refused = order.delivery_date + timedelta(days=3)
    # The whole of the third day after the delivery date is still refused (Japan time).
    clock.move_to(order.accepted_at + timedelta(days=8, hours=13))
    from anshin.core import clock as anshin_clock

    assert anshin_clock.today() == last_refused
    assert "terminate_overdue" not in [t.action for t in selectors.order_actions(order=fresh(order), user=buyer)]
    with pytest.raises(DomainError) as error:
        orders.order_terminate_overdue(order_id=order.pk, user=buyer)
    assert "3日過ぎても納品がない場合" in error.value.message
    clock.move_to(order.accepted_at + timedelta(days=8, hours=14))  # midnight in Tokyo: the fourth day
    assert anshin_clock.today() == last_refused + timedelta(days=1)
    assert "terminate_overdue" in [t.action for t in selectors.order_actions(order=fresh(order), user=buyer)]
    assert "terminate_overdue" not in [t.action for t in selectors.order_actions(order=fresh(order), user=seller)]
    with pytest.raises(DomainError):
        orders.order_terminate_overdue(order_id=order.pk, user=seller)  # the seller cannot
    orders.order_terminate_overdue(order_id=order.pk, user=buyer)
    order = fresh(order)
    assert order.state == "cancelled"
    assert balance(escrow_code(order.ledger_ref)) == 0
    assert JournalEntry.objects.get(idempotency_key=f"order:{order.pk}:refund").kind == "refund"
    assert balance(GATEWAY) == 0
    assert Notification.objects.filter(user=seller, kind="order.terminate_overdue").exists()


# --- キャンセル申請 -------------------------------------------------------------------------------------

def reasons(order, user):
    return [code for code, _ in selectors.cancel_reasons(order=fresh(order), user=user)]


def test_cancel_reasons_are_gated_by_side_and_state(clock, buyer, seller, operator):
    order = factories.order(buyer, seller)
    assert reasons(order, buyer) == ["changed_mind", "other"]
    assert reasons(order, seller) == ["cannot_take", "other"]
    assert reasons(order, operator) == []
    orders.order_accept(order_id=order.pk, user=seller)
    assert reasons(order, buyer) == ["no_progress", "not_as_described", "other"]
    assert reasons(order, seller) == ["cannot_take", "buyer_unresponsive", "other"]
    before = snapshot(order)
    with pytest.raises(DomainError) as error:
        orders.order_cancel_request(order_id=order.pk, user=buyer, reason="changed_mind")
    assert error.value.code == "invalid_reason"
    with pytest.raises(DomainError) as error:
        orders.order_cancel_request(order_id=order.pk, user=buyer, reason="other", detail="")
    assert "詳細を入力" in error.value.message
    assert snapshot(order) == before
    orders.order_deliver(order_id=order.pk, user=seller, body="納品")
    assert reasons(order, buyer) == ["not_as_described", "other"]
    assert reasons(order, seller) == ["buyer_unresponsive", "other"]
    orders.order_approve(order_id=order.pk, user=buyer)
    assert reasons(order, buyer) == [] and reasons(order, seller) == []
    with pytest.raises(DomainError):
        orders.order_cancel_request(order_id=order.pk, user=buyer, reason="other", detail="やっぱり")


def test_agreement_cancels_the_order_with_a_full_refund(clock, buyer, seller):
    order = factories.order(buyer, seller, state="in_progress")
    request = orders.order_cancel_request(order_id=order.pk, user=seller, reason="cannot_take",
                                          detail="体調不良のため")
    assert request.state == "pending"
    assert Notification.objects.filter(user=buyer, kind="order.cancel_request").exists()
    assert "依頼内容に対応できない" in fresh(order).thread.messages.order_by("-id").first().body
    with pytest.raises(DomainError) as error:
        orders.order_cancel_request(order_id=order.pk, user=buyer, reason="other", detail="私も")
    assert error.value.code == "pending_exists"
    assert reasons(order, buyer) == []
    with pytest.raises(DomainError):
        orders.cancel_request_answer(request_id=request.pk, user=seller, action="agree")  # not your own
    orders.cancel_request_answer(request_id=request.pk, user=buyer, action="agree")
    order = fresh(order)
    assert order.state == "cancelled"
    assert CancelRequest.objects.get(pk=request.pk).state == "agreed"
    assert balance(escrow_code(order.ledger_ref)) == 0 and balance(GATEWAY) == 0
    assert Notification.objects.filter(user=seller, kind="order.cancel").exists()


def test_refusal_and_withdrawal_leave_the_order_running(clock, buyer, seller):
    order = factories.order(buyer, seller, state="in_progress")
    request = orders.order_cancel_request(order_id=order.pk, user=buyer, reason="no_progress")
    assert [t.action for t in selectors.cancel_request_actions(cancel_request=request, user=buyer)] == ["withdraw"]
    assert [t.action for t in selectors.cancel_request_actions(cancel_request=request, user=seller)] == [
        "agree", "refuse"]
    with pytest.raises(DomainError):
        orders.cancel_request_answer(request_id=request.pk, user=seller, action="withdraw")
    orders.cancel_request_answer(request_id=request.pk, user=seller, action="refuse")
    assert CancelRequest.objects.get(pk=request.pk).state == "refused"
    assert fresh(order).state == "in_progress"
    with pytest.raises(DomainError) as error:
        orders.cancel_request_answer(request_id=request.pk, user=seller, action="agree")
    assert error.value.code == "not_allowed"
    second = orders.order_cancel_request(order_id=order.pk, user=buyer, reason="no_progress")
    orders.cancel_request_answer(request_id=second.pk, user=buyer, action="withdraw")
    assert CancelRequest.objects.get(pk=second.pk).state == "withdrawn"
    assert fresh(order).state == "in_progress"
    assert balance(escrow_code(order.ledger_ref)) == order.total


def test_a_pending_request_is_voided_when_the_order_completes_another_way(clock, buyer, seller, stranger):
    order = factories.order(buyer, seller, state="delivered")
    request = orders.order_cancel_request(order_id=order.pk, user=seller, reason="buyer_unresponsive")
    with pytest.raises(NotFound):
        orders.cancel_request_answer(request_id=request.pk, user=stranger, action="agree")
    orders.order_approve(order_id=order.pk, user=buyer)
    assert CancelRequest.objects.get(pk=request.pk).state == "voided"
    assert JournalEntry.objects.filter(ref=order.ledger_ref, kind="refund").count() == 0
