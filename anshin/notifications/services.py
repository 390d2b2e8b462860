"""Writing notifications: `notify()` (called inside the transaction of the event it tells about), marking them
read, and the user's e-mail preferences. Delivery by e-mail is `notifications.mailer`."""

from django.db import transaction

from anshin import rules as numbers
from anshin.core import bulk, clock
from anshin.core.errors import DomainError
from anshin.notifications import rules
from anshin.notifications.models import EmailPreference, Notification

State = Notification.EmailState


def email_wanted(*, user, group: rules.Group) -> bool:
    """The user's choice for a preference group (default on); groups that cannot be switched off: always on."""
    if not group.switchable:
        return True
    return _wanted(group, EmailPreference.objects.filter(user=user, group=group.key).values_list("email", flat=True)
                   .first())


def _wanted(group: rules.Group, choice: bool | None) -> bool:
    """What the stored choice (None: nothing stored) means: default on; always on if it cannot be switched off."""
    return True if not group.switchable or choice is None else choice


def notify(*, user, kind: str, title: str, dedupe_key: str, body: str = "", url: str = "",
           message=None) -> Notification:
    """Queue an in-app notification once per dedupe key, and decide now whether and when it is e-mailed (the
    rules table + the user's preferences): the outbox worker picks it up at `email_due_at`. `message`: the
    thread message this tells about (unread-message e-mail is delayed, skipped if read, throttled per thread)."""
    now = clock.now()
    rule = rules.lookup(kind)
    wanted = rule.email != rules.NEVER and email_wanted(user=user, group=rule.group)
    notification, _ = Notification.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={"user": user, "kind": kind, "title": title, "body": body, "url": url, "created_at": now,
                  "message": message, **_email_plan(rule, wanted, now)},
    )
    return notification


def _email_plan(rule: rules.Rule, wanted: bool, now) -> dict:
    """`email_state` and `email_due_at` of a new notification under `rule`, `wanted`: the user's choice."""
    if rule.email == rules.NEVER:
        return {"email_state": State.NONE, "email_due_at": None}
    if not wanted:
        return {"email_state": State.OFF, "email_due_at": None}
    due = now + numbers.UNREAD_MESSAGE_EMAIL_AFTER if rule.email == rules.UNREAD else now
    return {"email_state": State.PENDING, "email_due_at": due}


def notice(*, user, kind: str, title: str, dedupe_key: str, body: str = "", url: str = "", message=None) -> dict:
    """The arguments of one `notify` call, kept for later: `notify(**notice(...))` or `notify_many([...])`."""
    return dict(user=user, kind=kind, title=title, dedupe_key=dedupe_key, body=body, url=url, message=message)


def notify_many(notices: list[dict]) -> None:
    """`notify(**one)` for each of the `notice(...)`s, in a fixed number of queries (the clock settling a batch
    of deals): the users' e-mail choices in one read, the rows in one COPY; a dedupe key already used is
    skipped. The caller holds the locks of what its keys name (the batch's deals, the closing job), so no one
    else can write one of them between the check and the COPY."""
    now = clock.now()
    plans = [(one, rules.lookup(one["kind"])) for one in notices]
    choices = {
        (user_id, group): email
        for user_id, group, email in EmailPreference.objects.filter(
            user_id__in={one["user"].pk for one in notices},
            group__in={rule.group.key for _, rule in plans if rule.group.switchable},
        ).values_list("user_id", "group", "email")
    }
    used = set(Notification.objects.filter(dedupe_key__in=[one["dedupe_key"] for one in notices])
               .values_list("dedupe_key", flat=True))
    rows = []
    for one, rule in plans:
        if one["dedupe_key"] not in used:
            used.add(one["dedupe_key"])
            rows.append({**one, "created_at": now,
                         **_email_plan(rule, _wanted(rule.group, choices.get((one["user"].pk, rule.group.key))), now)})
    bulk.insert(Notification, rows)


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
