"""Account standing (PRODUCT.md §6): operators warn, restrict messaging, suspend (and reinstate), and mark an
identity as verified. Each measure is an operator service: 404 for non-operators, an internal note required,
one transaction with the user's row locked, an audit event carrying the note, and the user told.

A suspension clears `is_active`: the login form and the API token check refuse inactive users, and Django's
session authentication treats an inactive user as logged out on their next request. Their open deals are
frozen for the operators (`deals.disputes.deals_freeze_for`, which tells the counterparts in each deal), and
they stay with the operators after a reinstatement."""

from django.contrib.auth import get_user_model
from django.db import transaction

from anshin import rules
from anshin.core import audit, clock
from anshin.core.errors import DomainError, NotFound
from anshin.notifications.services import notify
from anshin.ops.services import note_required, operator_required

OPERATOR_ROLE = "operator"


def _lock(user_id):
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    user = get_user_model().objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotFound()
    return user


def _not_against_operators(target, operator, what: str) -> None:
    """Operators cannot take measures against themselves or another operator (that is an admin's job)."""
    if target.pk == operator.pk:
        raise DomainError("self", f"自分自身のアカウントを{what}することはできません。", status=403)
    if target.is_operator or target.is_superuser:
        raise DomainError("operator", f"事務局のアカウントを{what}することはできません。", status=403)


def _record(target, action: str, operator, note: str, **payload):
    return audit.record(
        subject=target, action=action, actor=operator, actor_role=OPERATOR_ROLE, payload={"note": note, **payload}
    )


def _tell(target, event, kind: str, title: str, body: str, url: str = "") -> None:
    notify(user=target, kind=kind, title=title, body=body, url=url, dedupe_key=f"{kind}:{target.pk}:{event.pk}")


def account_warn(*, user_id, operator, note: str, message: str):
    """A warning the user reads in their notifications (`message`); the note stays internal."""
    operator_required(operator)
    note = note_required(note)
    message = (message or "").strip()
    if not message:
        raise DomainError("message_required", "ユーザーに伝える警告の文面を入力してください。")
    if len(message) > rules.OPS_NOTE_MAX_LENGTH:
        raise DomainError("too_long", f"警告の文面は{rules.OPS_NOTE_MAX_LENGTH:,}文字以内で入力してください。")
    with transaction.atomic():
        target = _lock(user_id)
        _not_against_operators(target, operator, "警告")
        event = _record(target, "account_warn", operator, note, message=message)
        _tell(target, event, "account.warning", "事務局からの警告", message)
    return target


def account_restrict(*, user_id, operator, note: str):
    """The user can no longer send messages (the messaging service checks `messaging_restricted_at`)."""
    operator_required(operator)
    note = note_required(note)
    with transaction.atomic():
        target = _lock(user_id)
        _not_against_operators(target, operator, "制限")
        if target.messaging_restricted_at is not None:
            raise DomainError(
                "already_restricted", "このアカウントはすでにメッセージ送信を制限されています。", status=409
            )
        target.messaging_restricted_at = clock.now()
        target.save(update_fields=["messaging_restricted_at"])
        event = _record(target, "account_restrict", operator, note)
        _tell(
            target,
            event,
            "account.restricted",
            "メッセージの送信が制限されました",
            "利用規約に関わる行為が確認されたため、事務局がメッセージの送信を制限しました。"
            "進行中の取引についてのご相談は事務局へお問い合わせください。",
        )
    return target


def account_unrestrict(*, user_id, operator, note: str):
    operator_required(operator)
    note = note_required(note)
    with transaction.atomic():
        target = _lock(user_id)
        if target.messaging_restricted_at is None:
            raise DomainError("not_restricted", "このアカウントはメッセージ送信を制限されていません。", status=409)
        target.messaging_restricted_at = None
        target.save(update_fields=["messaging_restricted_at"])
        event = _record(target, "account_unrestrict", operator, note)
        _tell(
            target,
            event,
            "account.unrestricted",
            "メッセージの送信制限が解除されました",
            "事務局がメッセージの送信制限を解除しました。",
        )
    return target


def account_suspend(*, user_id, operator, note: str):
    """Suspend: no more log-ins or API calls, open deals frozen with the operators (counterparts told), the
    open reports and guard flags about the user closed as dealt with."""
    from anshin.deals.disputes import deals_freeze_for
    from anshin.ops.models import QueueItem
    from anshin.ops.services import queue_items_close_for
    from anshin.trust.reports import reports_close_for

    operator_required(operator)
    note = note_required(note)
    with transaction.atomic():
        target = _lock(user_id)
        _not_against_operators(target, operator, "停止")
        if target.suspended_at is not None or not target.is_active:
            raise DomainError("already_suspended", "このアカウントはすでに停止されています。", status=409)
        target.is_active = False
        target.suspended_at = clock.now()
        target.save(update_fields=["is_active", "suspended_at"])
        frozen = deals_freeze_for(user=target, operator=operator, note=note)
        reports = reports_close_for(user=target, operator=operator, resolution="account_suspend", note=note)
        queue_items_close_for(
            subject=target,
            operator=operator,
            resolution="account_suspend",
            note=note,
            kinds=[QueueItem.Kind.GUARD_FLAG],
        )
        event = _record(
            target,
            "account_suspend",
            operator,
            note,
            frozen=[_deal_ref(deal) for deal in frozen],
            reports_closed=reports,
        )
        _tell(
            target,
            event,
            "account.suspended",
            "アカウントが停止されました",
            "利用規約に関わる行為が確認されたため、事務局がアカウントを停止しました。進行中の取引は事務局が"
            "お預かりしています。ご不明な点は事務局へお問い合わせください。",
        )
    return target


def _deal_ref(deal) -> str:
    return f"{deal._meta.model_name}:{deal.pk}"


def account_reinstate(*, user_id, operator, note: str):
    """Lift a suspension. The deals frozen by it stay with the operators until they resolve each one."""
    operator_required(operator)
    note = note_required(note)
    with transaction.atomic():
        target = _lock(user_id)
        if target.suspended_at is None and target.is_active:
            raise DomainError("not_suspended", "このアカウントは停止されていません。", status=409)
        target.is_active = True
        target.suspended_at = None
        target.save(update_fields=["is_active", "suspended_at"])
        event = _record(target, "account_reinstate", operator, note)
        _tell(
            target,
            event,
            "account.reinstated",
            "アカウントの停止が解除されました",
            "事務局がアカウントの停止を解除しました。停止中に事務局がお預かりした取引は、引き続き事務局が"
            "対応し、結果をお知らせします。",
        )
    return target


def account_verify_identity(*, user_id, operator, note: str):
    operator_required(operator)
    note = note_required(note)
    with transaction.atomic():
        target = _lock(user_id)
        if target.identity_verified_at is not None:
            raise DomainError("already_verified", "このアカウントはすでに本人確認済みです。", status=409)
        target.identity_verified_at = clock.now()
        target.save(update_fields=["identity_verified_at"])
        event = _record(target, "account_verify_identity", operator, note)
        _tell(
            target,
            event,
            "account.identity_verified",
            "本人確認が完了しました",
            "事務局が本人確認書類を確認しました。プロフィールに「本人確認済み」と表示されます。",
        )
    return target
