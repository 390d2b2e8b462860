"""Blocks (PRODUCT.md §6): no new applications, scouts or orders between two users, whoever blocked whom;
lifting the block restores them; deals already under way go on; the blocked user is never told."""

import pytest

from anshin.core.errors import DomainError, NotFound
from anshin.core.models import AuditEvent
from anshin.jobs import services as jobs
from anshin.jobs.models import Application, Scout
from anshin.notifications.models import Notification
from anshin.orders import services as orders
from anshin.orders.models import Order
from anshin.trust import blocks
from anshin.trust.models import Block
from tests import factories

pytestmark = pytest.mark.django_db

BOTH_WAYS = pytest.mark.parametrize("who_blocks", ["client", "worker"])


def _block(who_blocks, client_user, worker):
    blocker, target = (client_user, worker) if who_blocks == "client" else (worker, client_user)
    return blocks.block_create(user=blocker, target_id=target.pk)


def _refused(call):
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == "blocked" and caught.value.status == 403
    assert caught.value.message == "このユーザーとは取引できません。"  # the same words both ways


def test_block_is_idempotent_and_not_against_oneself(client_user, worker):
    first = blocks.block_create(user=client_user, target_id=worker.pk)
    again = blocks.block_create(user=client_user, target_id=worker.pk)
    assert first.pk == again.pk and Block.objects.count() == 1
    with pytest.raises(DomainError) as caught:
        blocks.block_create(user=client_user, target_id=client_user.pk)
    assert caught.value.code == "self"
    with pytest.raises(NotFound):
        blocks.block_create(user=client_user, target_id=987654)
    assert AuditEvent.objects.filter(action="block", actor=client_user).count() == 1
    assert not Notification.objects.filter(user=worker).exists()  # the blocked user is never told


def test_operators_cannot_be_blocked(worker, operator):
    with pytest.raises(DomainError) as caught:
        blocks.block_create(user=worker, target_id=operator.pk)
    assert caught.value.code == "operator" and not Block.objects.exists()


def test_blocked_between_sees_both_directions(client_user, worker, stranger):
    assert not blocks.blocked_between(client_user.pk, worker.pk)
    blocks.block_create(user=worker, target_id=client_user.pk)
    assert blocks.blocked_between(client_user.pk, worker.pk)
    assert blocks.blocked_between(worker.pk, client_user.pk)
    assert not blocks.blocked_between(client_user.pk, stranger.pk)
    assert blocks.blocked_ids(client_user) == {worker.pk} and blocks.blocked_ids(worker) == {client_user.pk}


def test_blocked_between_is_one_query(client_user, worker, django_assert_num_queries):
    blocks.block_create(user=worker, target_id=client_user.pk)
    with django_assert_num_queries(1):
        assert blocks.blocked_between(client_user.pk, worker.pk)


@BOTH_WAYS
def test_no_application_between_blocked_users(who_blocks, client_user, worker):
    job = factories.job(client_user)
    _block(who_blocks, client_user, worker)
    _refused(lambda: factories.application(client_user, worker, job=job))
    assert not Application.objects.exists()


@BOTH_WAYS
def test_no_scout_between_blocked_users(who_blocks, client_user, worker):
    job = factories.job(client_user)
    _block(who_blocks, client_user, worker)
    _refused(lambda: jobs.scout_send(user=client_user, job_id=job.pk, worker_id=worker.pk, message="ぜひ"))
    assert not Scout.objects.exists()


@BOTH_WAYS
def test_no_order_between_blocked_users(who_blocks, client_user, worker):
    listing = factories.listing(worker)
    _block(who_blocks, client_user, worker)
    _refused(lambda: orders.order_purchase(listing_id=listing.pk, user=client_user,
                                           answers=factories.hearing_answers(listing)))
    assert not Order.objects.exists()


def test_removing_the_block_restores_everything(client_user, worker):
    job = factories.job(client_user)
    listing = factories.listing(worker)
    blocks.block_create(user=client_user, target_id=worker.pk)
    assert blocks.block_remove(user=client_user, target_id=worker.pk) is True
    assert blocks.block_remove(user=client_user, target_id=worker.pk) is False  # nothing left to lift
    assert not blocks.blocked_between(client_user.pk, worker.pk)
    assert factories.application(client_user, worker, job=job).state == "applied"
    other_job = factories.job(client_user, title="別の仕事")
    assert jobs.scout_send(user=client_user, job_id=other_job.pk, worker_id=worker.pk, message="ぜひ").state == "sent"
    order = orders.order_purchase(listing_id=listing.pk, user=client_user, answers=factories.hearing_answers(listing))
    assert order.state == "purchased"
    assert AuditEvent.objects.filter(action="unblock", actor=client_user).count() == 1


def test_only_my_own_block_can_be_lifted(client_user, worker):
    blocks.block_create(user=client_user, target_id=worker.pk)
    assert blocks.block_remove(user=worker, target_id=client_user.pk) is False
    assert blocks.blocked_between(client_user.pk, worker.pk)


def test_deals_under_way_go_on_after_a_block(client_user, worker):
    contract = factories.contract(client_user, worker, state="funded")
    blocks.block_create(user=client_user, target_id=worker.pk)
    from anshin.contracts import services as contracts

    contracts.contract_deliver(contract_id=contract.pk, user=worker, body="納品します。")
    contract.refresh_from_db()
    assert contract.state == "delivered"


def test_an_order_under_way_can_still_be_delivered_after_a_block(client_user, worker):
    """The seller's formal delivery is a deal step, not a new conversation: a block by the buyer stops neither."""
    order = factories.order(client_user, worker, state="in_progress")
    blocks.block_create(user=client_user, target_id=worker.pk)
    orders.order_deliver(order_id=order.pk, user=worker, body="納品いたします。")
    order.refresh_from_db()
    assert order.state == "delivered"
