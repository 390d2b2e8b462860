from collections import Counter
from io import StringIO

from django.contrib.auth import authenticate
from django.core.management import call_command

from anshin.accounts.models import User
from anshin.contracts.flow import CONTRACT_FLOW
from anshin.contracts.models import Contract
from anshin.core.models import AuditEvent
from anshin.jobs.models import Application, Job
from anshin.ledger.models import JournalEntry
from anshin.ledger.services import REVENUE, balance, escrow_code, worker_code
from anshin.messaging.models import Message
from anshin.notifications.models import Notification

MODELS = (User, Job, Application, Contract, Message, JournalEntry, AuditEvent, Notification)


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_twice_changes_nothing(db):
    first = seed()
    after_first = counts()
    second = seed()
    assert counts() == after_first
    assert "nothing changed" in second
    assert "http://127.0.0.1:8000/" in first and "anshin-demo-2026" in first
    assert after_first["User"] == 4 and after_first["Job"] >= 10


def test_one_contract_in_each_state_built_by_the_services(db):
    seed()
    states = Counter(Contract.objects.values_list("state", flat=True))
    assert states == Counter(CONTRACT_FLOW.states.keys())

    accepted = Contract.objects.get(state="accepted")
    assert balance(escrow_code(accepted.ledger_ref)) == 0
    assert balance(worker_code(accepted.worker_id)) == 120_000 - 22_000  # 20% of ¥100,000 + 10% of ¥20,000
    assert balance(REVENUE) == 22_000
    for contract in Contract.objects.filter(state__in=["funded", "delivered", "revision_requested"]):
        assert balance(escrow_code(contract.ledger_ref)) == contract.amount

    lapsed = Contract.objects.get(state="lapsed")
    event = AuditEvent.objects.get(subject_id=lapsed.pk, action="lapse", subject_type__model="contract")
    assert event.actor_role == "system"
    assert lapsed.thread.messages.filter(body__contains="失効").exists()

    delivered = Contract.objects.get(state="delivered")
    assert delivered.timer_action == "deem_accept" and delivered.due_at is not None


def test_demo_logins_work(db):
    seed()
    for email in ("client@anshin.example", "hanako@anshin.example", "ken@anshin.example", "ops@anshin.example"):
        assert authenticate(email=email, password="anshin-demo-2026") is not None, email
    assert User.objects.get(email="ops@anshin.example").is_operator
