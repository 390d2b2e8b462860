"""Reading contracts. A contract read after its deadline is settled on the spot, so nobody ever sees a
state that the clock has already decided."""

from anshin import rules
from anshin.contracts.flow import CONTRACT_FLOW
from anshin.contracts.models import Contract
from anshin.contracts.services import contract_settle_due
from anshin.core import audit, clock
from anshin.core.access import for_party, get_for_party
from anshin.core.flows import Actor


def contract_get(*, contract_id: int, user) -> Contract:
    contract = get_for_party(Contract.objects.select_related("client", "worker", "thread"), user, pk=contract_id)
    if contract.due_at and contract.due_at <= clock.now():
        contract_settle_due(contract.pk)
        contract = get_for_party(Contract.objects.select_related("client", "worker", "thread"), user, pk=contract_id)
    return contract


def contract_list(*, user):
    """My contracts, newest first. Any of them whose timer is due is settled first (like `contract_get`), so
    the list never shows a state the clock has already decided; a batch at most, the sweeper does the rest."""
    due = for_party(Contract.objects.all(), user).filter(due_at__lte=clock.now())
    for contract_id in list(due.values_list("pk", flat=True)[: rules.TICK_BATCH_SIZE]):
        contract_settle_due(contract_id)
    return for_party(Contract.objects.select_related("client", "worker"), user).order_by("-created_at")


def contract_actions(*, contract: Contract, user):
    """The flow-table rows this user may take now (buttons in the UI, `allowed_actions` in the API)."""
    role = contract.role_of(user) or (Actor.OPERATOR if user.is_operator else None)
    if role is None:
        return []
    return CONTRACT_FLOW.allowed(contract.state, [role])


def contract_timeline(*, contract: Contract):
    return audit.timeline(contract)
