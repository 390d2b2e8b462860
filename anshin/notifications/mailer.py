"""The e-mail outbox worker (ARCHITECTURE rule 6): sends the notifications whose `email_due_at` has come,
through Django's mail backend (console in `make run`, SMTP in production).

One row at a time, each in its own transaction: lock the row (SKIP LOCKED on PostgreSQL, so several workers
share the work), look again at whether it should still go (preferences, unread, the one-per-hour rule), send,
mark it sent, commit. The row stays locked while the mail is handed to the server, so no other worker sends it
meanwhile; a worker killed after the server took the mail but before the commit leaves the row due, and the
next run sends it again — at most one extra copy, with the same Message-ID so receivers can drop it."""

import hashlib
import logging
import smtplib
from collections import Counter
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from anshin import rules as numbers
from anshin.core import clock, timers
from anshin.messaging.models import Receipt
from anshin.notifications import rules
from anshin.notifications.models import EmailThrottle, Notification
from anshin.notifications.services import email_wanted

logger = logging.getLogger(__name__)
State = Notification.EmailState


# --- the mail ---------------------------------------------------------------------------------------------

def message_id(notification: Notification) -> str:
    """The same for every attempt at the same row: a copy sent again after a crash is recognisable."""
    digest = hashlib.sha256(notification.dedupe_key.encode()).hexdigest()[:16]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "anshin.example"
    return f"<notification-{notification.pk}.{digest}@{domain}>"


def site_link(path: str) -> str:
    """An absolute link to a page of this site; anything but a local path leads to the notification centre."""
    if not path.startswith("/") or path.startswith("//"):
        path = reverse("notifications:list")
    return settings.ANSHIN_SITE_URL.rstrip("/") + path


def render(notification: Notification) -> EmailMultiAlternatives:
    """Subject, plain text and HTML from notifications/email/<template>/ (Japanese)."""
    rule = rules.lookup(notification.kind)
    context = {
        "n": notification,
        "user": notification.user,
        "rule": rule,
        "link": site_link(notification.url),
        "settings_link": site_link(reverse("notifications:settings")),
        "site_link": site_link("/"),
    }
    folder = f"notifications/email/{rule.template}"
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"{folder}/subject.txt", context).split())
        text = render_to_string(f"{folder}/body.txt", context)
        html = render_to_string(f"{folder}/body.html", context)
    mail = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[notification.user.email],
        headers={"Message-ID": message_id(notification), "Auto-Submitted": "auto-generated"},
    )
    mail.attach_alternative(html, "text/html")
    return mail


# --- the worker -------------------------------------------------------------------------------------------

def drain(*, batch: int = numbers.EMAIL_BATCH_SIZE) -> Counter:
    """Send every e-mail due now, in batches; returns how many rows ended how ("sent", "retry", "read", …)."""
    done: Counter = Counter()
    backend = get_connection()
    try:
        for pk in timers.due_pks(Notification.objects.all(), "email_due_at", batch):
            outcome = deliver(pk, backend=backend)
            if outcome:
                done[outcome] += 1
    finally:
        backend.close()
    return done


def deliver(pk: int, *, backend=None) -> str | None:
    """Send one due row (or decide it is not to be sent) and commit. None when it is not due or another
    worker holds it."""
    with transaction.atomic():
        notification = (
            timers.lock_for_update(Notification.objects.select_related("user", "message"))
            .filter(pk=pk, email_due_at__lte=clock.now())
            .first()
        )
        if notification is None:
            return None
        rule = rules.lookup(notification.kind)
        throttle = None
        skip = _skip(notification, rule)
        if skip is None and rule.email == rules.UNREAD:
            throttle = _throttle_locked(notification)
            last = throttle.last_sent_at
            if last is not None and last > clock.now() - numbers.UNREAD_MESSAGE_EMAIL_EVERY:
                skip = State.THROTTLED
        if skip is not None:
            notification.email_state, notification.email_due_at = skip, None
            notification.save(update_fields=["email_state", "email_due_at"])
            return str(skip) or "none"
        notification.email_attempts += 1
        try:
            sent = (backend or get_connection()).send_messages([render(notification)])
            if not sent:
                raise smtplib.SMTPException("the mail backend did not send the message")
        except Exception as error:  # noqa: BLE001 - any failure of the mail server is retried, never a crash
            return _failed(notification, error, backend)
        notification.email_state, notification.email_due_at = State.SENT, None
        notification.emailed_at = clock.now()
        notification.email_error = ""
        notification.save(update_fields=["email_state", "email_due_at", "emailed_at", "email_error",
                                         "email_attempts"])
        if throttle is not None:
            throttle.last_sent_at = notification.emailed_at
            throttle.save(update_fields=["last_sent_at"])
        return "sent"


def _skip(notification: Notification, rule: rules.Rule) -> str | None:
    """Why this row is not to be mailed after all (the state to record), or None: send it."""
    user = notification.user
    if rule.email == rules.NEVER:
        return State.NONE
    if not user.email:
        return State.NO_ADDRESS
    if not email_wanted(user=user, group=rule.group):
        return State.OFF
    if rule.email == rules.UNREAD:
        if notification.read_at is not None:
            return State.READ
        if notification.message_id and Receipt.objects.filter(
            message_id=notification.message_id, user=user, read_at__isnull=False
        ).exists():
            return State.READ
    return None


def _throttle_locked(notification: Notification) -> EmailThrottle:
    """The (user, thread) throttle row, created if new, locked until this row's transaction ends."""
    if notification.message_id:
        topic = f"thread:{notification.message.thread_id}"
    else:
        topic = (notification.url or f"kind:{notification.kind}")[:64]
    EmailThrottle.objects.bulk_create([EmailThrottle(user_id=notification.user_id, topic=topic)],
                                      ignore_conflicts=True)
    return EmailThrottle.objects.select_for_update().get(user_id=notification.user_id, topic=topic)


def _failed(notification: Notification, error: Exception, backend) -> str:
    """Keep the row for a later attempt (1, 2, 4… minutes), or give up after the last one or when the server
    refuses the address for good."""
    if backend is not None:
        try:
            backend.close()  # the next mail opens a fresh connection
        except Exception:  # noqa: BLE001
            pass
    notification.email_error = f"{type(error).__name__}: {error}"[:300]
    permanent = isinstance(error, smtplib.SMTPRecipientsRefused)
    if permanent or notification.email_attempts >= rules.EMAIL_MAX_ATTEMPTS:
        notification.email_state, notification.email_due_at = State.FAILED, None
        outcome = "failed"
    else:
        notification.email_due_at = clock.now() + rules.backoff(notification.email_attempts)
        outcome = "retry"
    notification.save(update_fields=["email_state", "email_due_at", "email_error", "email_attempts"])
    logger.warning("notification %s: e-mail %s (attempt %s): %s", notification.pk, outcome,
                   notification.email_attempts, notification.email_error)
    return outcome
