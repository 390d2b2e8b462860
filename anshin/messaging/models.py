from django.conf import settings
from django.db import models


class Thread(models.Model):
    """One conversation per application and per contract; members are the parties."""

    class Kind(models.TextChoices):
        APPLICATION = "application", "応募"
        CONTRACT = "contract", "契約"
        ORDER = "order", "注文"
        SCOUT = "scout", "スカウト"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    application = models.OneToOneField(
        "jobs.Application", null=True, blank=True, on_delete=models.CASCADE, related_name="thread"
    )
    contract = models.OneToOneField(
        "contracts.Contract", null=True, blank=True, on_delete=models.CASCADE, related_name="thread"
    )
    order = models.OneToOneField("orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="thread")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.CASCADE, related_name="+")  # scouts
    subject = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    last_message_at = models.DateTimeField(db_index=True)
    # The latest message written by a person (not the system): tells who is waiting for whom.
    last_human_message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self):
        return self.subject

    @classmethod
    def party_q(cls, user):
        return models.Q(members__user=user)


class ThreadMember(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="thread_memberships")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["thread", "user"], name="one_membership")]
        indexes = [models.Index(fields=["user", "thread"])]


class Message(models.Model):
    """A message in a thread. Besides normal and system messages, three structured kinds (PRODUCT.md §4):

    - PROGRESS (進捗報告): `progress_percent` 0–100 and `next_date` = the next preview date; body = comment.
    - DELAY (遅延のお知らせ): `late_item` = what is late, `next_date` = the new expected date; body = reason.
    - ACK (確認しました): `next_date` = the date the sender promises to answer by; body = the standard sentence.

    `next_date` is always "the next date the sender commits to", whatever the kind."""

    class Kind(models.TextChoices):
        NORMAL = "normal", "メッセージ"
        SYSTEM = "system", "システム"
        PROGRESS = "progress", "進捗報告"
        DELAY = "delay", "遅延のお知らせ"
        ACK = "ack", "確認しました"

    DEAL_UPDATE_KINDS = (Kind.PROGRESS, Kind.DELAY)  # shown on the deal page's timeline too

    # Its own index stays though (thread, created_at, id) starts with it: without it PostgreSQL answers the
    # figures' "first human message of each thread" with a bitmap AND over the sender index, 180 s for a busy
    # person instead of 2 s (the first bench run after dropping it).
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.NORMAL)
    body = models.TextField(max_length=10_000)
    created_at = models.DateTimeField()
    progress_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    next_date = models.DateField(null=True, blank=True)
    late_item = models.CharField(max_length=100, blank=True)
    masked = models.BooleanField(default=False)  # sent with contact details replaced by ●●● (contact guard)
    caution = models.JSONField(default=list, blank=True)  # scam signals found: the recipients see 事務局からの注意

    class Meta:
        indexes = [
            models.Index(fields=["thread", "created_at", "id"]),
            models.Index(fields=["thread", "kind", "created_at"], name="msg_thread_kind"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress_percent__isnull=True)
                | models.Q(progress_percent__gte=0, progress_percent__lte=100),
                name="msg_progress_percent_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=["progress", "delay", "ack"]) | models.Q(next_date__isnull=False),
                name="msg_structured_kinds_have_a_date",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="progress") | models.Q(progress_percent__isnull=False),
                name="msg_progress_has_percent",
            ),
        ]

    def __str__(self):
        return self.body[:40]

    @property
    def is_deal_update(self) -> bool:
        return self.kind in self.DEAL_UPDATE_KINDS

    # Receipts and attachments as lists: `thread_messages` prefetches them into plain attributes (to_attr),
    # because a prefetch into `.receipts.all()` builds a QuerySet per message (the thread page's largest cost).
    @property
    def receipt_rows(self) -> list:
        rows = self.__dict__.get("prefetched_receipts")
        return list(self.receipts.all()) if rows is None else rows

    @property
    def files(self) -> list:
        rows = self.__dict__.get("prefetched_files")
        return list(self.attachments.all()) if rows is None else rows


class Nudge(models.Model):
    """返信催促: the waiting side asks the other side for a reply (PRODUCT.md §4).

    During an open contract or order the nudge arms an escalation timer: `due_at` (swept by `tick`) is the
    moment an operator queue item is recorded if the recipient still has not replied. `due_at` is cleared
    once that is decided (reply or escalation), so the sweeper never looks at settled nudges again;
    `escalate_at` keeps the planned time for the record."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="nudges")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    replied_at = models.DateTimeField(null=True, blank=True)
    escalate_at = models.DateTimeField(null=True, blank=True)  # planned; null outside a contract or order
    escalated_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)  # pending escalation (for `tick`)

    class Meta:
        indexes = [
            models.Index(fields=["thread", "sender", "-created_at"], name="nudge_thread_sender"),
            models.Index(fields=["thread", "recipient"], name="nudge_open_by_recipient",
                         condition=models.Q(replied_at__isnull=True)),
        ]

    def __str__(self):
        return f"nudge {self.pk} in thread {self.thread_id}"

    @classmethod
    def party_q(cls, user):
        return models.Q(sender=user) | models.Q(recipient=user)


class Receipt(models.Model):
    """Per recipient: when they read it (既読). The sender has no receipt for their own message."""

    # Both keys lead an index below: one_receipt (message, user) and (user, read_at).
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="receipts", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="one_receipt")]
        indexes = [models.Index(fields=["user", "read_at"])]


def attachment_path(instance, filename):
    return f"attachments/{instance.uploaded_by_id}/{instance.token}/{filename}"


class Attachment(models.Model):
    """A file on a message or a delivery. Served only through a party-checked view, never by URL guessing."""

    token = models.CharField(max_length=32, unique=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    delivery = models.ForeignKey(
        "contracts.Delivery", null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=255)
    name = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    content_type = models.CharField(max_length=100)
    created_at = models.DateTimeField()

    @classmethod
    def party_q(cls, user):
        return (
            models.Q(message__thread__members__user=user)
            | models.Q(delivery__contract__client=user)
            | models.Q(delivery__contract__worker=user)
        )
