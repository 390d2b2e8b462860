"""Delivery-date changes (納期変更) on a contract and on a service order: the worker (seller) proposes a new
date with a reason; the client (buyer) approves — the deal's date changes, with audit events on the deal and
the request, a system message in the thread and a notification to the proposer — or declines; the proposer
may withdraw. One pending request per deal; only while the work is under way; the new date after today.
The wrong party is refused, a stranger gets 404, and a refusal changes nothing."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType

from anshin.contracts import services as contracts
from anshin.core import clock
from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.deals import services as deals
from anshin.deals.models import DateChangeRequest
from anshin.messaging.models import Message
from anshin.notifications.models import Notification
from tests import factories

pytestmark = pytest.mark.django_db

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
KINDS = ["contract", "order"]


def fresh(deal):
    return deal.__class__.objects.get(pk=deal.pk)


def propose(kind, deal, user, days=10, reason="素材の到着が遅れたため、1週間ほどお時間をください。"):
    return deals.date_change_propose(
        deal_kind=kind, deal_id=deal.pk, user=user, new_date=deal.delivery_date + timedelta(days=days), reason=reason
    )


def events(subject, action=None):
    qs = AuditEvent.objects.filter(subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk)
    return qs.filter(action=action) if action else qs


def snapshot():
    return {
        "requests": sorted(DateChangeRequest.objects.values_list("pk", "state", "new_date")),
        "audit": AuditEvent.objects.count(),
        "messages": Message.objects.count(),
        "notifications": Notification.objects.count(),
    }


def assert_refused(call, code=None):
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        call()
    assert JAPANESE.search(refused.value.message), refused.value.message
    if code:
        assert refused.value.code == code, refused.value
    assert snapshot() == before
    return refused.value


@pytest.mark.parametrize("kind", KINDS)
def test_worker_proposes_and_client_approves_the_deal_date_moves(kind, open_deal, client_user, worker):
    deal = open_deal(kind)
    old = deal.delivery_date
    messages_before = deal.thread.messages.count()

    req = propose(kind, deal, worker, days=7)

    assert req.state == "pending" and req.old_date == old and req.new_date == old + timedelta(days=7)
    assert fresh(deal).delivery_date == old  # nothing moves until the client agrees
    told = deal.thread.messages.order_by("id")[messages_before:]
    assert len(told) == 1 and told[0].kind == Message.Kind.SYSTEM
    assert "納期変更の申請" in told[0].body and "素材の到着が遅れた" in told[0].body
    assert Notification.objects.filter(user=client_user, kind="deal.date_change.propose").count() == 1
    assert events(deal, "date_change_proposed").count() == 1

    deals.date_change_answer(request_id=req.pk, user=client_user, action="approve")

    req.refresh_from_db()
    assert req.state == "approved" and req.answered_by == client_user
    assert fresh(deal).delivery_date == old + timedelta(days=7)
    approved = events(deal, "date_change_approved").get()
    assert (approved.actor, approved.actor_role) == (client_user, "client")
    assert approved.payload["new_date"] == (old + timedelta(days=7)).isoformat()
    on_request = events(req, "approve").get()
    assert (on_request.from_state, on_request.to_state) == ("pending", "approved")
    last = deal.thread.messages.order_by("-id").first()
    assert last.kind == Message.Kind.SYSTEM and "新しい納期" in last.body
    told_worker = Notification.objects.get(user=worker, kind="deal.date_change.approve")
    assert "承認されました" in told_worker.title


@pytest.mark.parametrize("kind", KINDS)
def test_client_declines_and_the_date_stays(kind, open_deal, client_user, worker):
    deal = open_deal(kind)
    old = deal.delivery_date
    req = propose(kind, deal, worker)
    deals.date_change_answer(request_id=req.pk, user=client_user, action="decline")
    req.refresh_from_db()
    assert req.state == "declined"
    assert fresh(deal).delivery_date == old
    assert events(deal, "date_change_declined").count() == 1
    assert Notification.objects.filter(user=worker, kind="deal.date_change.decline").count() == 1
    assert "承認しませんでした" in deal.thread.messages.order_by("-id").first().body
    # Declined: the worker may ask again (for another date).
    again = propose(kind, deal, worker, days=3)
    assert again.state == "pending"


@pytest.mark.parametrize("kind", KINDS)
def test_worker_withdraws_then_may_propose_again(kind, open_deal, client_user, worker):
    deal = open_deal(kind)
    req = propose(kind, deal, worker)
    deals.date_change_answer(request_id=req.pk, user=worker, action="withdraw")
    req.refresh_from_db()
    assert req.state == "withdrawn"
    assert Notification.objects.filter(user=client_user, kind="deal.date_change.withdraw").count() == 1
    assert propose(kind, deal, worker).state == "pending"


@pytest.mark.parametrize("kind", KINDS)
def test_one_pending_request_at_a_time(kind, open_deal, worker):
    deal = open_deal(kind)
    propose(kind, deal, worker)
    error = assert_refused(lambda: propose(kind, deal, worker, days=5), "already_pending")
    assert error.status == 409


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_party_is_refused_and_a_stranger_gets_404(kind, open_deal, client_user, worker, stranger):
    deal = open_deal(kind)
    assert_refused(lambda: propose(kind, deal, client_user), "not_allowed")  # only the worker/seller asks
    req = propose(kind, deal, worker)
    assert_refused(lambda: deals.date_change_answer(request_id=req.pk, user=worker, action="approve"), "not_allowed")
    assert_refused(lambda: deals.date_change_answer(request_id=req.pk, user=worker, action="decline"), "not_allowed")
    assert_refused(
        lambda: deals.date_change_answer(request_id=req.pk, user=client_user, action="withdraw"), "not_allowed"
    )
    for action in ("approve", "decline", "withdraw"):
        before = snapshot()
        with pytest.raises(NotFound):
            deals.date_change_answer(request_id=req.pk, user=stranger, action=action)
        assert snapshot() == before
    with pytest.raises(NotFound):
        propose(kind, deal, stranger)
    with pytest.raises(NotFound):
        deals.date_change_answer(request_id=987_654, user=client_user, action="approve")
    assert_refused(
        lambda: deals.date_change_answer(request_id=req.pk, user=client_user, action="explode"), "unknown_action"
    )
    assert fresh(deal).delivery_date == req.old_date


@pytest.mark.parametrize("kind", KINDS)
def test_bad_dates_and_reasons_are_refused(kind, open_deal, worker):
    deal = open_deal(kind)
    today = clock.today()
    for new_date in (today, today - timedelta(days=1), today + timedelta(days=400)):
        assert_refused(
            lambda d=new_date: deals.date_change_propose(
                deal_kind=kind, deal_id=deal.pk, user=worker, new_date=d, reason="遅れます"
            ),
            "invalid_date",
        )
    assert_refused(
        lambda: deals.date_change_propose(
            deal_kind=kind, deal_id=deal.pk, user=worker, new_date=deal.delivery_date, reason="同じ日"
        ),
        "invalid_date",
    )
    assert_refused(lambda: propose(kind, deal, worker, reason="  "), "empty")
    assert_refused(lambda: propose(kind, deal, worker, reason="長" * 2_001), "too_long")
    assert_refused(
        lambda: deals.date_change_propose(
            deal_kind=kind, deal_id=deal.pk, user=worker, new_date="2099-01-01", reason="文字列"
        ),
        "invalid_date",
    )
    # Moving the date earlier is fine as long as it is after today.
    assert (
        deals.date_change_propose(
            deal_kind=kind,
            deal_id=deal.pk,
            user=worker,
            new_date=today + timedelta(days=1),
            reason="早く終わりそうです",
        ).state
        == "pending"
    )


def test_only_while_the_work_is_under_way(client_user, worker):
    delivered = factories.contract(client_user, worker, state="delivered")
    error = assert_refused(lambda: propose("contract", delivered, worker), "not_allowed")
    assert "検収待ち" in error.message
    offered = factories.contract(client_user, worker, state="offered")
    assert_refused(lambda: propose("contract", offered, worker), "not_allowed")
    revising = factories.contract(client_user, worker, state="revision_requested")
    assert propose("contract", revising, worker).state == "pending"
    order = factories.order(client_user, worker, state="purchased")  # not accepted yet: no date to move
    assert_refused(
        lambda: deals.date_change_propose(
            deal_kind="order",
            deal_id=order.pk,
            user=worker,
            new_date=clock.today() + timedelta(days=9),
            reason="遅れます",
        ),
        "not_allowed",
    )


def test_a_pending_request_is_voided_when_the_work_is_delivered(client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    req = propose("contract", c, worker)
    contracts.contract_deliver(contract_id=c.pk, user=worker, body="納品します。")
    req.refresh_from_db()
    assert req.state == "void"
    assert events(c, "date_change_voided").count() == 1
    assert_refused(
        lambda: deals.date_change_answer(request_id=req.pk, user=client_user, action="approve"), "not_allowed"
    )
    # Back in revision: the worker may ask again.
    contracts.contract_request_revision(contract_id=c.pk, user=client_user, reason="直してください")
    assert propose("contract", fresh(c), worker).state == "pending"


def test_approval_is_refused_once_the_proposed_date_has_passed(client_user, worker):
    c = factories.contract(client_user, worker, state="funded")
    req = deals.date_change_propose(
        deal_kind="contract",
        deal_id=c.pk,
        user=worker,
        new_date=clock.today() + timedelta(days=2),
        reason="少し遅れます",
    )
    with time_machine.travel(clock.now() + timedelta(days=4), tick=False):
        assert_refused(
            lambda: deals.date_change_answer(request_id=req.pk, user=client_user, action="approve"), "invalid_date"
        )
        deals.date_change_answer(request_id=req.pk, user=worker, action="withdraw")


def test_an_operator_can_answer_for_the_client(client_user, worker, operator):
    c = factories.contract(client_user, worker, state="funded")
    req = propose("contract", c, worker, days=4)
    deals.date_change_answer(request_id=req.pk, user=operator, action="approve")
    assert fresh(c).delivery_date == req.new_date
    assert events(c, "date_change_approved").get().actor_role == "operator"


def test_an_approved_later_date_moves_the_overdue_line(client_user, worker):
    """The overdue termination is measured from the delivery date in force: an approved extension moves it."""
    c = factories.contract(client_user, worker, state="funded")
    req = propose("contract", c, worker, days=10)
    deals.date_change_answer(request_id=req.pk, user=client_user, action="approve")
    c = fresh(c)
    with time_machine.travel(clock.now() + timedelta(days=20 + 4), tick=False):
        assert c.is_overdue()  # 20 days + 4 would have been overdue under the old date; not under the new one
    with time_machine.travel(clock.now() + timedelta(days=30 + 4), tick=False):
        assert c.is_overdue() == ""
