"""Reading date-change requests. Access is through the deal: a request is visible to the parties of its
deal (and operators); anyone else gets 404."""

from datetime import timedelta

from django.contrib.contenttypes.models import ContentType

from anshin.core import clock
from anshin.core.access import get_for_party
from anshin.core.errors import NotFound
from anshin.core.flows import Actor
from anshin.deals.flow import DATE_CHANGE_FLOW, PROPOSERS
from anshin.deals.kinds import KINDS, kind_by_name, kind_of
from anshin.deals.models import DateChangeRequest
from anshin.deals.services import MAX_AHEAD

# How the deal-level audit events read on a deal's timeline (contracts and orders merge these words).
TIMELINE_WORDS = {
    "date_change_proposed": "納期変更を申請",
    "date_change_approved": "納期変更を承認",
    "date_change_declined": "納期変更を承認しない",
    "date_change_withdrawn": "納期変更の申請を取り下げ",
    "date_change_voided": "納期変更の申請が無効に",
}


def deal_get(*, deal_kind: str, deal_id: int, user):
    kind = kind_by_name(deal_kind)
    return get_for_party(kind.model, user, pk=deal_id)


def _for_deal(deal):
    return DateChangeRequest.objects.filter(subject_type=ContentType.objects.get_for_model(deal), subject_id=deal.pk)


def date_change_pending(*, deal) -> DateChangeRequest | None:
    return _for_deal(deal).filter(state="pending").select_related("proposed_by").first()


def date_change_list(*, deal):
    return _for_deal(deal).select_related("proposed_by", "answered_by").order_by("-created_at", "-id")


def date_change_get(*, request_id: int, user) -> DateChangeRequest:
    """The request if `user` is a party to its deal (or an operator); else NotFound."""
    req = DateChangeRequest.objects.select_related("proposed_by", "answered_by").filter(pk=request_id).first()
    if req is None:
        raise NotFound()
    model = ContentType.objects.get_for_id(req.subject_type_id).model_class()
    if not any(k.model is model for k in KINDS.values()):
        raise NotFound()
    req.deal = get_for_party(model, user, pk=req.subject_id)
    return req


def _role(deal, user):
    role = deal.role_of(user)
    if role is None and getattr(user, "is_operator", False):
        return Actor.OPERATOR
    return role


def date_change_actions(*, req: DateChangeRequest, deal, user) -> list:
    """The rows of the date-change table this user may take on `req` now: the client (buyer) answers,
    the worker (seller) may withdraw."""
    role = _role(deal, user)
    if role is None:
        return []
    return [t for t in DATE_CHANGE_FLOW.allowed(req.state, [role]) if t.label]


def date_change_panel(*, deal, user) -> dict:
    """Everything the partial `deals/_date_change.html` shows, in one query."""
    kind = kind_of(deal)
    role = _role(deal, user)
    pending = date_change_pending(deal=deal)
    open_ = deal.state in kind.open_states
    today = clock.today()
    return {
        "kind": kind,
        "deal": deal,
        "role": role,
        "pending": pending,
        "actions": date_change_actions(req=pending, deal=deal, user=user) if pending else [],
        "can_propose": bool(role in PROPOSERS and open_ and pending is None),
        "open": open_,
        "min_date": today + timedelta(days=1),
        "max_date": today + MAX_AHEAD,
    }
