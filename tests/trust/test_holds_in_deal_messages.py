"""Messages sent as part of another action (an application, a scout, an order delivery) pass the guard too,
and the hold is logged even though the whole action is refused. A block also stops a new contract offer."""

from datetime import timedelta

import pytest

from anshin.core import clock
from anshin.jobs import services as jobs
from anshin.jobs.models import Application
from anshin.orders import services as orders
from anshin.trust.models import GuardHold
from anshin.trust.permits import ContactHeld
from tests import factories

pytestmark = pytest.mark.django_db

LINE = "詳しくはLINEで。LINE ID: yamada_hanako88"


def test_an_application_with_a_line_id_is_refused_and_the_hold_is_logged(client_user, worker):
    job = factories.job(client_user)
    with pytest.raises(ContactHeld) as held:
        jobs.application_create(job_id=job.pk, user=worker, message=LINE, amount=30_000,
                                estimated_date=clock.today() + timedelta(days=10))
    assert "yamada_hanako88" in held.value.masked or "●●●" in held.value.masked
    assert not Application.objects.exists()
    hold = GuardHold.objects.get(user=worker)
    assert hold.surface == "message" and "line" in hold.kinds


def test_a_scout_with_a_phone_number_is_refused_and_logged(client_user, worker):
    job = factories.job(client_user)
    with pytest.raises(ContactHeld):
        jobs.scout_send(user=client_user, job_id=job.pk, worker_id=worker.pk,
                        message="ぜひお願いします。お電話ください 090-1234-5678")
    assert GuardHold.objects.filter(user=client_user).count() == 1


def test_an_order_delivery_with_an_email_is_refused_logged_and_the_order_unchanged(client_user, worker):
    order = factories.order(client_user, worker, state="in_progress")
    with pytest.raises(ContactHeld):
        orders.order_deliver(order_id=order.pk, user=worker, body="納品物は hanako.yamada@gmail.com から送ります。")
    order.refresh_from_db()
    assert order.state == "in_progress"
    assert GuardHold.objects.get(user=worker).thread_id == order.thread.pk


def test_no_contract_offer_after_a_block(client_user, worker):
    from anshin.contracts import services as contracts
    from anshin.core.errors import DomainError
    from anshin.trust.blocks import block_create

    app = factories.application(client_user, worker)
    block_create(user=worker, target_id=client_user.pk)
    with pytest.raises(DomainError) as refused:
        contracts.contract_offer(application_id=app.pk, user=client_user, amount=30_000,
                                 delivery_date=clock.today() + timedelta(days=20))
    assert refused.value.code == "blocked"
