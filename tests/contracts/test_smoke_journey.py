from datetime import timedelta

import time_machine

from anshin.contracts.models import Contract
from anshin.core import clock, timers
from anshin.ledger.services import REVENUE, balance, escrow_code, worker_code
from tests import factories


def test_deemed_acceptance_pays_worker_net_of_fee(client_user, worker):
    c = factories.contract(client_user, worker, state="delivered", amount=150_000)
    assert c.state == "delivered"
    assert balance(escrow_code(c.ledger_ref)) == 150_000
    with time_machine.travel(clock.now() + timedelta(days=7, seconds=1), tick=False):
        done = timers.sweep()
    c.refresh_from_db()
    assert c.state == "accepted", done
    assert balance(worker_code(worker.pk)) == 150_000 - 25_000
    assert balance(REVENUE) == 25_000
    assert balance(escrow_code(c.ledger_ref)) == 0
    assert Contract.objects.count() == 1
