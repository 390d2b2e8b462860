"""Writing notifications: `notify()` (called inside the transaction of the event it tells about), marking them
read, and the user's e-mail preferences. Delivery by e-mail is `notifications.mailer`."""

from django.db import transaction

from anshin import rules as numbers
from anshin.core import clock
from anshin.core.errors import DomainError
from anshin.notifications import rules
from anshin.notifications.models import EmailPreference, Notification

State = Notification.EmailState


def email_wanted(*, user, group: rules.Group) -> bool:
    """The user's choice for a preference group (default on); groups that cannot be switched off: always on."""
    if not group.switchable:
        return True
    choice = EmailPreference.objects.filter(user=user, group=group.key).values_list("email", flat=True).first()
    return True if choice is None else choice


def notify(*, user, kind: str, title: str, dedupe_key: str, body: str = "", url: str = "",
           message=None) -> Notification:
    """Queue an in-app notification once per dedupe key, and decide now whether and when it is e-mailed (the
    rules table + the user's preferences): the outbox worker picks it up at `email_due_at`. `message`: the
    thread message this tells about (unread-message e-mail is delayed, skipped if read, throttled per thread)."""
    now = clock.now()
    rule = rules.lookup(kind)
    state, due = State.NONE, None
    if rule.email != rules.NEVER:
        if not email_wanted(user=user, group=rule.group):
            state = State.OFF
        else:
            state = State.PENDING
            due = now + numbers.UNREAD_MESSAGE_EMAIL_AFTER if rule.email == rules.UNREAD else now
    notification, _ = Notification.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={"user": user, "kind": kind, "title": title, "body": body, "url": url, "created_at": now,
                  "message": message, "email_state": state, "email_due_at": due},
    )
    return notification


def notifications_mark_read(*, user, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) read; returns how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=clock.now())


def email_preferences_update(*, user, choices: dict[str, bool]) -> None:
    """Store the user's e-mail choice per preference group. Unknown groups, or switching off a group that
    always e-mails, are refused and nothing changes. Takes effect at once, also for e-mails not sent yet (an
    unread message still within its 10 minutes, a retry)."""
    for key, wanted in choices.items():
        group = rules.GROUP_BY_KEY.get(key)
        if group is None:
            raise DomainError("unknown_group", f"通知の種類「{key}」はありません。")
        if not group.switchable and not wanted:
            raise DomainError("not_switchable", f"「{group.label}」のメールはオフにできません。")
    now = clock.now()
    with transaction.atomic():
        for key, wanted in choices.items():
            if rules.GROUP_BY_KEY[key].switchable:
                EmailPreference.objects.update_or_create(user=user, group=key,
                                                         defaults={"email": bool(wanted), "updated_at": now})
