"""Delivery-date changes (納期変更). Each public function is one transaction on the locked deal: its due
timer is settled first (a deadline that has passed wins over a late click), then the request is locked,
the flow table checked, and state, the deal's new date, audit events (on the request AND the deal), a
system message in the deal's thread and notifications are written together.

Lock order is always deal → request (the deal's own services void a pending request while holding the
deal), so two actions can never deadlock."""

from contextlib import contextmanager
from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils.formats import date_format
from django.utils.module_loading import import_string

from anshin import rules
from anshin.core import audit, clock, flows
from anshin.core.errors import DomainError, NotFound
from anshin.core.flows import Actor
from anshin.deals.flow import DATE_CHANGE_FLOW, PROPOSERS
from anshin.deals.kinds import DealKind, kind_by_name, kind_of
from anshin.deals.models import DateChangeRequest
from anshin.messaging.services import message_post_system
from anshin.notifications.services import notify

REASON_MAX = 2_000
# How far ahead a new date may lie (a typo must not move a deal to the year 9999).
MAX_AHEAD = rules.DATE_CHANGE_MAX_AHEAD

ANSWERS = {"approve", "decline", "withdraw"}

# Audit actions written on the deal (its timeline) for each step of a request.
DEAL_EVENT = {
    "propose": "date_change_proposed",
    "approve": "date_change_approved",
    "decline": "date_change_declined",
    "withdraw": "date_change_withdrawn",
    "void": "date_change_voided",
}


def day(d: date) -> str:
    return date_format(d, "Y年n月j日")


def _role(deal, user) -> Actor:
    role = deal.role_of(user)
    if role:
        return role
    if getattr(user, "is_operator", False):
        return Actor.OPERATOR
    raise NotFound()


def _lock(kind: DealKind, deal_id: int):
    deal = import_string(kind.lock)(deal_id)
    if deal is None:
        raise NotFound()
    return deal


@contextmanager
def _acting(kind: DealKind, deal_id: int, user):
    """A party action on a locked deal whose due timers are already settled (in their own transaction)."""
    kind.settle_due(deal_id)
    with transaction.atomic():
        deal = _lock(kind, deal_id)
        role = _role(deal, user)  # non-parties get 404 before learning anything else
        if deal.due_at and deal.due_at <= clock.now():
            raise DomainError("deadline_passed", "期限を過ぎたため、この操作はできません。画面を更新してください。")
        yield deal, role


def _thread(deal):
    try:
        return deal.thread
    except deal.__class__.thread.RelatedObjectDoesNotExist:
        return None


def _tell(kind: DealKind, deal, req: DateChangeRequest, action: str, text: str, recipients) -> None:
    """System message in the deal's thread (everyone sees it), a notification to whom it concerns."""
    thread = _thread(deal)
    if thread is not None:
        message_post_system(thread=thread, body=text)
    titles = {
        "propose": "納期変更の申請が届きました",
        "approve": "納期の変更が承認されました",
        "decline": "納期の変更は承認されませんでした",
        "withdraw": "納期変更の申請が取り下げられました",
        "void": "納期変更の申請は無効になりました",
    }
    for user in {u.pk: u for u in recipients}.values():
        notify(
            user=user,
            kind=f"deal.date_change.{action}",
            title=f"「{deal.title}」{titles[action]}",
            body=text,
            url=kind.url(deal),
            dedupe_key=f"date_change:{req.pk}:{action}:{user.pk}",
        )


def _record_on_deal(deal, req: DateChangeRequest, action: str, *, user=None, role: str = "") -> None:
    audit.record(
        subject=deal,
        action=DEAL_EVENT[action],
        actor=user,
        actor_role=role,
        payload={
            "request": req.pk,
            "old_date": req.old_date.isoformat(),
            "new_date": req.new_date.isoformat(),
            "reason": req.reason if action == "propose" else "",
        },
    )


def _check_new_date(new_date, old_date) -> None:
    if not isinstance(new_date, date):
        raise DomainError("invalid_date", "希望する納期を日付で入力してください。")
    today = clock.today()
    if new_date <= today:
        raise DomainError("invalid_date", "希望する納期には明日以降の日付を指定してください。")
    if new_date > today + MAX_AHEAD:
        raise DomainError("invalid_date", f"希望する納期は{MAX_AHEAD.days}日先までの日付を指定してください。")
    if old_date is not None and new_date == old_date:
        raise DomainError("invalid_date", "現在の納期と同じ日付です。別の日付を指定してください。")


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("empty", "納期を変更したい理由を入力してください。")
    if len(reason) > REASON_MAX:
        raise DomainError("too_long", f"理由は{REASON_MAX:,}文字以内で入力してください。")
    return reason


def _not_open(kind: DealKind, deal) -> DomainError:
    label = deal.flow.states.site(deal.state)
    return DomainError("not_allowed", f"現在の状態（{label}）では納期の変更はできません。")


# --- actions --------------------------------------------------------------------------------------------


def date_change_propose(*, deal_kind: str, deal_id: int, user, new_date: date, reason: str) -> DateChangeRequest:
    """The worker (seller) asks to move the delivery date; the client (buyer) is told and answers."""
    kind = kind_by_name(deal_kind)
    reason = _check_reason(reason)
    if not isinstance(new_date, date):
        raise DomainError("invalid_date", "希望する納期を日付で入力してください。")
    with _acting(kind, deal_id, user) as (deal, role):
        if role not in PROPOSERS:
            raise DomainError("not_allowed", f"納期の変更を申請できるのは{kind.worker_word}です。")
        if deal.state not in kind.open_states:
            raise _not_open(kind, deal)
        _check_new_date(new_date, deal.delivery_date)
        subject_type = ContentType.objects.get_for_model(deal)
        if DateChangeRequest.objects.filter(subject_type=subject_type, subject_id=deal.pk, state="pending").exists():
            raise DomainError(
                "already_pending",
                "回答待ちの納期変更の申請があります。回答を待つか、取り下げてから申請してください。",
                status=409,
            )
        req = DateChangeRequest(
            subject_type=subject_type,
            subject_id=deal.pk,
            proposed_by=user,
            old_date=deal.delivery_date,
            new_date=new_date,
            reason=reason,
            created_at=clock.now(),
        )
        req.init_state("pending")
        try:
            with transaction.atomic():
                req.save()
        except IntegrityError:  # the partial unique index: another request won (the deal lock makes this rare)
            raise DomainError("already_pending", "回答待ちの納期変更の申請があります。", status=409) from None
        audit.record(
            subject=req,
            action="propose",
            actor=user,
            actor_role=role,
            to_state="pending",
            payload={"old_date": req.old_date.isoformat(), "new_date": new_date.isoformat()},
        )
        _record_on_deal(deal, req, "propose", user=user, role=role)
        text = (
            f"{kind.worker_word}から納期変更の申請がありました: {day(req.old_date)} → {day(new_date)}。"
            f"理由: {reason}　{kind.client_word}は承認するか、承認しないかを選んでください。"
        )
        _tell(kind, deal, req, "propose", text, [kind.client(deal)])
    return req


def _lock_request(req_id: int) -> DateChangeRequest | None:
    return DateChangeRequest.objects.select_for_update().filter(pk=req_id).first()


def date_change_answer(*, request_id: int, user, action: str) -> DateChangeRequest:
    """approve / decline (the client or buyer), withdraw (the worker or seller who asked)."""
    if action not in ANSWERS:
        raise DomainError("unknown_action", f"「{action}」という操作はありません。")
    head = DateChangeRequest.objects.filter(pk=request_id).values("subject_type_id", "subject_id").first()
    if head is None:
        raise NotFound()
    model = ContentType.objects.get_for_id(head["subject_type_id"]).model_class()
    kind = next((k for k in _kinds() if k.model is model), None)
    if kind is None:
        raise NotFound()
    with _acting(kind, head["subject_id"], user) as (deal, role):
        req = _lock_request(request_id)
        DATE_CHANGE_FLOW.find(action, req.state, role)
        if action == "approve":
            if deal.state not in kind.open_states:
                raise _not_open(kind, deal)
            if req.new_date < clock.today():
                raise DomainError(
                    "invalid_date", "提案された納期はすでに過ぎています。受注者に再申請を依頼してください。"
                )
        flows.apply(
            req,
            action,
            actor=role,
            user=user,
            payload={"old_date": req.old_date.isoformat(), "new_date": req.new_date.isoformat()},
        )
        req.answered_at, req.answered_by = clock.now(), user
        req.save(update_fields=["answered_at", "answered_by"])
        if action == "approve":
            deal.delivery_date = req.new_date
            deal.save(update_fields=["delivery_date"])
        _record_on_deal(deal, req, action, user=user, role=role)
        if action == "approve":
            text = f"納期の変更が承認されました。新しい納期は{day(req.new_date)}です（変更前: {day(req.old_date)}）。"
            recipients = [req.proposed_by, kind.worker(deal)]
        elif action == "decline":
            text = (
                f"{kind.client_word}は納期の変更（{day(req.old_date)} → {day(req.new_date)}）を承認しませんでした。"
                f"納期は{day(req.old_date)}のままです。"
            )
            recipients = [req.proposed_by, kind.worker(deal)]
        else:
            text = f"納期変更の申請（{day(req.old_date)} → {day(req.new_date)}）は取り下げられました。"
            recipients = [kind.client(deal)]
        _tell(kind, deal, req, action, text, [u for u in recipients if u.pk != user.pk] or recipients)
    return req


def date_change_void_pending(*, deal) -> DateChangeRequest | None:
    """Called by the deal's own services, inside their transaction with the deal locked, after a transition:
    when the deal has left the states in which its date can move, a pending request is voided."""
    kind = kind_of(deal)
    if deal.state in kind.open_states:
        return None
    req = (
        DateChangeRequest.objects.select_for_update()
        .filter(subject_type=ContentType.objects.get_for_model(deal), subject_id=deal.pk, state="pending")
        .first()
    )
    if req is None:
        return None
    flows.apply(req, "void", actor=Actor.SYSTEM, payload={"deal_state": deal.state})
    _record_on_deal(deal, req, "void", role=Actor.SYSTEM)
    _tell(
        kind,
        deal,
        req,
        "void",
        f"取引の状態が変わったため、納期変更の申請（{day(req.old_date)} → {day(req.new_date)}）は無効になりました。",
        [req.proposed_by],
    )
    return req


def _kinds():
    from anshin.deals.kinds import KINDS

    return KINDS.values()
