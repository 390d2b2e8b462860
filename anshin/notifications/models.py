from django.conf import settings
from django.db import models


class Notification(models.Model):
    """The outbox and the in-app centre in one row: written in the same transaction as the event it tells
    about; `dedupe_key` makes repeats (a retried tick, a double click) harmless.

    E-mail (decided by `notify()` from the rules table and the user's preferences): `email_state` says where the
    row stands; `email_due_at` is when the outbox worker next looks at it (empty: never again)."""

    class EmailState(models.TextChoices):
        NONE = "", "メール対象外"
        PENDING = "pending", "送信待ち"
        SENT = "sent", "送信済み"
        OFF = "off", "設定でオフ"
        READ = "read", "既読のため送信せず"
        THROTTLED = "throttled", "同じスレッドの通知を1時間以内に送信済み"
        NO_ADDRESS = "no_address", "メールアドレスなし"
        FAILED = "failed", "送信失敗（再試行の上限）"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
                             db_index=False)  # led by the (user, …) indexes
    kind = models.CharField(max_length=48)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=200)  # unique: Meta (no LIKE index)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The message this tells about (unread-message e-mail: read check and one-per-thread throttle).
    message = models.ForeignKey("messaging.Message", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    email_state = models.CharField(max_length=16, choices=EmailState.choices, blank=True, default="")
    email_due_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dedupe_key"], name="notification_dedupe_key")]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["user", "read_at"]),
            models.Index(fields=["email_due_at"], condition=models.Q(email_due_at__isnull=False),
                         name="notification_email_due"),
        ]
        ordering = ["-created_at", "-id"]


class EmailPreference(models.Model):
    """A user's choice for one preference group of the rules table (`notifications.rules.GROUPS`). No row means
    the default: e-mail on. Groups that cannot be switched off ignore a stored `email=False`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    group = models.CharField(max_length=32)
    email = models.BooleanField(default=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "group"], name="one_email_preference")]


class EmailThrottle(models.Model):
    """When the last unread-message e-mail for one thread went to one user. The outbox worker locks this row
    while it decides, so two workers can never both mail the same thread within the hour."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    topic = models.CharField(max_length=64)  # "thread:<pk>"
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "topic"], name="one_email_throttle")]
