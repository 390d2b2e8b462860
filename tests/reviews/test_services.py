"""Review windows (PRODUCT.md §5): they open when a deal ends with work done — and only then — once per deal,
for 14 days; each side writes once (five axes ★1–5 and a comment); the subject replies once after the reveal."""

from datetime import timedelta

import pytest

from anshin import rules
from anshin.contracts import services as contracts
from anshin.core import timers
from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.notifications.models import Notification
from anshin.orders import services as orders
from anshin.reviews import services
from anshin.reviews.models import Review, ReviewWindow
from anshin.trust.models import GuardHold
from tests import factories
from tests.reviews.conftest import RATINGS_A, RATINGS_B, SECRET, START

pytestmark = pytest.mark.django_db


def opened_notifications(window):
    return Notification.objects.filter(kind="review.opened", url=f"/reviews/{window.pk}/")


# --- when a window opens --------------------------------------------------------------------------------


def test_accepting_a_contract_opens_a_14_day_window_and_tells_both_sides(clock, client_user, worker):
    contract = factories.contract(client_user, worker, state="accepted")
    window = ReviewWindow.objects.get(contract=contract)
    assert (window.client, window.worker) == (client_user, worker)
    assert window.opened_at == START
    assert window.closes_at == window.due_at == START + timedelta(days=14)
    assert window.remind_at == START + timedelta(days=11)  # 3 days before it closes
    assert window.revealed_at is None
    told = opened_notifications(window)
    assert sorted(n.user_id for n in told) == sorted([client_user.pk, worker.pk])
    assert all(contract.title in n.title and "2026/04/15 10:00" in n.body for n in told)


def test_a_deemed_acceptance_by_the_timer_opens_the_window(clock, client_user, worker):
    contract = factories.contract(client_user, worker, state="delivered")
    clock.move_to(contract.due_at)
    timers.sweep()
    assert ReviewWindow.objects.get(contract=contract).opened_at == contract.due_at


def test_an_agreed_termination_opens_the_window(clock, client_user, worker):
    contract = factories.contract(client_user, worker, state="funded")
    request = contracts.termination_request_create(contract_id=contract.pk, user=worker, reason="体調不良のため",
                                                   worker_amount=10_000)
    contracts.termination_answer(request_id=request.pk, user=client_user, action="agree")
    contract.refresh_from_db()
    assert contract.state == "terminated"
    assert ReviewWindow.objects.filter(contract=contract).count() == 1


def test_a_dispute_resolved_by_an_operator_opens_the_window(clock, client_user, worker, operator):
    contract = factories.contract(client_user, worker, state="delivered")
    contracts.contract_open_dispute(contract_id=contract.pk, user=client_user, reason="納品物が動きません")
    assert not ReviewWindow.objects.filter(contract=contract).exists()  # disputed is not the end
    contracts.contract_resolve_dispute(contract_id=contract.pk, operator=operator, outcome="refund",
                                       note="動作しないことを確認")
    window = ReviewWindow.objects.get(contract=contract)
    assert opened_notifications(window).count() == 2
    assert not opened_notifications(window).filter(user=operator).exists()


def test_contracts_that_never_started_get_no_window(clock, client_user, worker):
    lapsed = factories.contract(client_user, worker, state="offered")
    cancelled = factories.contract(client_user, worker, state="awaiting_funding")
    contracts.contract_simple_action(contract_id=cancelled.pk, user=client_user, action="cancel")
    clock.move_to(lapsed.due_at)
    timers.sweep()
    lapsed.refresh_from_db()
    assert lapsed.state == "lapsed"
    assert not ReviewWindow.objects.exists()
    assert not Notification.objects.filter(kind__startswith="review.").exists()


def test_a_completed_order_opens_a_window_buyer_as_client_seller_as_worker(clock, client_user, worker):
    order = factories.order(client_user, worker, state="completed")
    window = ReviewWindow.objects.get(order=order)
    assert (window.client, window.worker) == (client_user, worker)
    assert window.closes_at == START + rules.REVIEW_WINDOW


def test_an_order_cancelled_after_the_seller_accepted_opens_a_window(clock, client_user, worker):
    order = factories.order(client_user, worker, state="in_progress")
    request = orders.order_cancel_request(order_id=order.pk, user=client_user, reason="no_progress")
    orders.cancel_request_answer(request_id=request.pk, user=worker, action="agree")
    order.refresh_from_db()
    assert order.state == "cancelled"
    assert ReviewWindow.objects.filter(order=order).count() == 1


def test_orders_cancelled_before_the_work_started_get_no_window(clock, client_user, worker, operator):
    expired = factories.order(client_user, worker)  # the seller never answers: 48 h auto-cancel
    changed = factories.order(client_user, worker, state="responded")
    request = orders.order_cancel_request(order_id=changed.pk, user=client_user, reason="changed_mind")
    orders.cancel_request_answer(request_id=request.pk, user=worker, action="agree")
    disputed = factories.order(client_user, worker)
    orders.order_open_dispute(order_id=disputed.pk, user=client_user, reason="返答がありません")
    orders.order_resolve_dispute(order_id=disputed.pk, operator=operator, outcome="refund", note="返金で解決")
    clock.move_to(expired.due_at)
    timers.sweep()
    expired.refresh_from_db()
    assert expired.state == "cancelled"
    assert not ReviewWindow.objects.exists()


def test_an_order_dispute_released_to_the_seller_opens_the_window(clock, client_user, worker, operator):
    order = factories.order(client_user, worker, state="delivered")
    orders.order_open_dispute(order_id=order.pk, user=worker, reason="承諾していただけません")
    orders.order_resolve_dispute(order_id=order.pk, operator=operator, outcome="release", note="納品を確認")
    assert ReviewWindow.objects.filter(order=order).count() == 1


def test_opening_is_idempotent(clock, client_user, worker):
    contract = factories.contract(client_user, worker, state="accepted")
    first = ReviewWindow.objects.get(contract=contract)
    clock.shift(timedelta(hours=3))
    again = services.review_window_open(contract=contract)
    assert again.pk == first.pk
    assert again.opened_at == START  # not restarted
    assert ReviewWindow.objects.count() == 1
    assert opened_notifications(first).count() == 2
    assert AuditEvent.objects.filter(action="review_window_open").count() == 1


# --- writing --------------------------------------------------------------------------------------------


def test_a_party_submits_once_and_the_other_side_learns_only_that_it_was_written(window, client_user, worker):
    review = services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
    assert (review.author, review.subject, review.author_role) == (client_user, worker, "client")
    assert [getattr(review, f) for f in RATINGS_A] == list(RATINGS_A.values())
    told = Notification.objects.get(kind="review.submitted")
    assert told.user == worker
    assert "相手が評価を投稿しました" in told.title
    assert SECRET not in told.title + told.body and "★" not in told.title + told.body
    assert AuditEvent.objects.filter(action="review_submit", actor=client_user).count() == 1
    window.refresh_from_db()
    assert window.revealed_at is None

    with pytest.raises(DomainError) as refused:
        services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_B, comment="二回目")
    assert refused.value.code == "already_submitted"
    assert Review.objects.count() == 1


def test_both_submitted_reveals_at_once(window, client_user, worker, clock):
    services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
    clock.shift(timedelta(days=2))
    services.review_submit(window_id=window.pk, user=worker, ratings=RATINGS_B, comment="丁寧な発注でした。")
    window.refresh_from_db()
    assert window.revealed_at == START + timedelta(days=2)
    assert (window.due_at, window.remind_at) == (None, None)
    revealed = Notification.objects.filter(kind="review.revealed")
    assert sorted(n.user_id for n in revealed) == sorted([client_user.pk, worker.pk])
    assert Notification.objects.filter(kind="review.submitted").count() == 1  # only the first submission's
    assert AuditEvent.objects.filter(action="review_reveal").count() == 1
    clock.move_to(window.closes_at + timedelta(days=1))
    assert timers.sweep() == []  # nothing left for the timer


@pytest.mark.parametrize(
    ("ratings", "comment", "code"),
    [
        ({**RATINGS_A, "skill": 0}, "よかったです", "invalid_rating"),
        ({**RATINGS_A, "skill": 6}, "よかったです", "invalid_rating"),
        ({**RATINGS_A, "quality": "5"}, "よかったです", "invalid_rating"),
        ({**RATINGS_A, "schedule": True}, "よかったです", "invalid_rating"),
        ({k: v for k, v in RATINGS_A.items() if k != "partnership"}, "よかったです", "invalid_rating"),
        ({**RATINGS_A, "price": 3}, "よかったです", "invalid_rating"),
        (RATINGS_A, "   ", "empty"),
        (RATINGS_A, "あ" * (rules.REVIEW_COMMENT_MAX_LENGTH + 1), "too_long"),
    ],
)
def test_bad_input_changes_nothing(window, client_user, ratings, comment, code):
    with pytest.raises(DomainError) as refused:
        services.review_submit(window_id=window.pk, user=client_user, ratings=ratings, comment=comment)
    assert refused.value.code == code
    assert refused.value.message  # Japanese, for the form and the API
    assert not Review.objects.exists()
    assert not Notification.objects.filter(kind="review.submitted").exists()


def test_a_comment_of_the_maximum_length_is_accepted(window, client_user):
    review = services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A,
                                    comment="あ" * rules.REVIEW_COMMENT_MAX_LENGTH)
    assert len(review.comment) == rules.REVIEW_COMMENT_MAX_LENGTH


def test_contact_details_in_a_comment_are_refused_and_the_hold_is_logged(window, client_user):
    with pytest.raises(DomainError) as refused:
        services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A,
                               comment="また依頼したいです。連絡は yamada@example.com までどうぞ")
    assert refused.value.code == "contact_details"
    assert not Review.objects.exists()
    hold = GuardHold.objects.get(user=client_user)
    assert hold.surface == "review"
    assert "email" in hold.kinds


def test_non_parties_get_404_and_leave_no_trace(window, stranger, operator):
    for user in (stranger, operator):
        with pytest.raises(NotFound):
            services.review_submit(window_id=window.pk, user=user, ratings=RATINGS_A,
                                   comment="連絡は yamada@example.com まで")
    with pytest.raises(NotFound):
        services.review_submit(window_id=window.pk + 1000, user=stranger, ratings=RATINGS_A, comment="よかった")
    assert not Review.objects.exists()
    assert not GuardHold.objects.exists()


# --- replies --------------------------------------------------------------------------------------------


def test_the_subject_replies_once_after_the_reveal(window, client_user, worker):
    about_worker = services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
    # Before the reveal the worker cannot even find the review: it does not exist for them yet.
    with pytest.raises(NotFound):
        services.review_reply(review_id=about_worker.pk, user=worker, text="ご意見ありがとうございます。")
    about_client = services.review_submit(window_id=window.pk, user=worker, ratings=RATINGS_B, comment="良い発注者")

    # The author cannot answer their own review; a stranger cannot find it.
    with pytest.raises(DomainError) as refused:
        services.review_reply(review_id=about_worker.pk, user=client_user, text="補足です。")
    assert refused.value.code == "not_allowed"
    with pytest.raises(DomainError) as refused:
        services.review_reply(review_id=about_worker.pk, user=worker, text="   ")
    assert refused.value.code == "empty"
    with pytest.raises(DomainError) as refused:
        services.review_reply(review_id=about_worker.pk, user=worker, text="LINE ID: yamada_hanako で話しましょう")
    assert refused.value.code == "contact_details"

    reply = services.review_reply(review_id=about_worker.pk, user=worker, text="説明不足で失礼しました。")
    assert reply.reply == "説明不足で失礼しました。"
    told = Notification.objects.get(kind="review.replied")
    assert told.user == client_user
    with pytest.raises(DomainError) as refused:
        services.review_reply(review_id=about_worker.pk, user=worker, text="もう一度")
    assert refused.value.code == "already_replied"
    assert Review.objects.get(pk=about_worker.pk).reply == "説明不足で失礼しました。"

    services.review_reply(review_id=about_client.pk, user=client_user, text="ありがとうございました。")
    assert Review.objects.get(pk=about_client.pk).replied_at is not None


def test_non_parties_cannot_reply(window, client_user, worker, stranger):
    review = services.review_submit(window_id=window.pk, user=client_user, ratings=RATINGS_A, comment=SECRET)
    services.review_submit(window_id=window.pk, user=worker, ratings=RATINGS_B, comment="良い発注者")
    with pytest.raises(NotFound):
        services.review_reply(review_id=review.pk, user=stranger, text="部外者です")
    with pytest.raises(NotFound):
        services.review_reply(review_id=review.pk + 1000, user=worker, text="ありません")
