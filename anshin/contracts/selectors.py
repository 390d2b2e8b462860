"""Reading contracts. A contract read after its deadline is settled on the spot, so nobody ever sees a
state that the clock has already decided."""

from django.db.models import Q

from anshin import rules
from anshin.contracts.flow import CONTRACT_FLOW, OPEN, TERMINATION_FLOW
from anshin.contracts.models import Contract, TerminationRequest
from anshin.contracts.services import contract_settle_due
from anshin.core import audit, clock
from anshin.core.access import for_party, get_for_party
from anshin.core.errors import NotFound
from anshin.core.flows import Actor


def _due_q(now) -> Q:
    """The contract's own timer is due, or a pending termination request's answer window has passed."""
    return Q(due_at__lte=now) | Q(termination_requests__state="pending", termination_requests__due_at__lte=now)


def contract_get(*, contract_id: int, user) -> Contract:
    contract = get_for_party(Contract.objects.select_related("client", "worker", "thread"), user, pk=contract_id)
    now = clock.now()
    if (contract.due_at and contract.due_at <= now) or (
        contract.state in OPEN
        and TerminationRequest.objects.filter(contract=contract, state="pending", due_at__lte=now).exists()
    ):
        contract_settle_due(contract.pk)
        contract = get_for_party(Contract.objects.select_related("client", "worker", "thread"), user, pk=contract_id)
    return contract


def contract_list(*, user):
    """My contracts, newest first. Any of them whose timer is due is settled first (like `contract_get`), so
    the list never shows a state the clock has already decided; a batch at most, the sweeper does the rest."""
    due = for_party(Contract.objects.all(), user).filter(_due_q(clock.now()))
    for contract_id in list(due.values_list("pk", flat=True).distinct()[: rules.TICK_BATCH_SIZE]):
        contract_settle_due(contract_id)
    return for_party(Contract.objects.select_related("client", "worker"), user).order_by("-created_at")


def contract_actions(*, contract: Contract, user):
    """The flow-table rows this user may take now (buttons in the UI, `allowed_actions` in the API)."""
    role = contract.role_of(user) or (Actor.OPERATOR if user.is_operator else None)
    if role is None:
        return []
    return [t for t in CONTRACT_FLOW.allowed(contract.state, [role], contract) if t.label]


def contract_timeline(*, contract: Contract):
    return audit.timeline(contract)


# --- 契約途中終了リクエスト -----------------------------------------------------------------------------------


def termination_requests(*, contract: Contract):
    return contract.termination_requests.select_related("requested_by", "answered_by").order_by("-created_at", "-id")


def termination_get(*, request_id: int, user) -> TerminationRequest:
    contract_id = TerminationRequest.objects.filter(pk=request_id).values_list("contract_id", flat=True).first()
    if contract_id is None:
        raise NotFound()
    contract = contract_get(contract_id=contract_id, user=user)  # 404 for non-parties; settles what is due
    request = TerminationRequest.objects.select_related("requested_by", "answered_by").get(pk=request_id)
    request.contract = contract
    return request


def termination_actions(*, request: TerminationRequest, contract: Contract, user) -> list:
    """Rows of the termination table this user may take: the other side agrees or refuses, the side that
    asked may withdraw; an operator may do all three."""
    role = contract.role_of(user) or (Actor.OPERATOR if user.is_operator else None)
    if role is None:
        return []
    rows = []
    for t in TERMINATION_FLOW.allowed(request.state, [role]):
        if not t.label:
            continue
        if role != Actor.OPERATOR and (t.action == "withdraw") != (role == request.requested_as):
            continue
        rows.append(t)
    return rows


def termination_panel(*, contract: Contract, user) -> dict:
    """What the contract page shows about early termination, in one query: the pending request (with its
    buttons), the latest answered one (a refusal offers 「事務局に相談する」), whether the form may show."""
    role = contract.role_of(user) or (Actor.OPERATOR if user.is_operator else None)
    latest = termination_requests(contract=contract).first()  # a pending request is always the latest
    pending = latest if latest and latest.state == "pending" else None
    refused = latest if latest and latest.state == "refused" else None
    can_request = bool(
        role
        and contract.state in OPEN
        and pending is None
        and not (role == Actor.CLIENT and contract.state == "delivered")
    )
    return {
        "pending": pending,
        "pending_split": pending.split(contract.amount) if pending else None,
        "actions": termination_actions(request=pending, contract=contract, user=user) if pending else [],
        "refused": refused if contract.state in OPEN else None,
        "can_request": can_request,
        "blocked_by_inspection": bool(role == Actor.CLIENT and contract.state == "delivered" and pending is None),
    }
