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
    class Kind(models.TextChoices):
        NORMAL = "normal", "メッセージ"
        SYSTEM = "system", "システム"

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.NORMAL)
    body = models.TextField(max_length=10_000)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["thread", "created_at", "id"])]

    def __str__(self):
        return self.body[:40]


class Receipt(models.Model):
    """Per recipient: when they read it (既読). The sender has no receipt for their own message."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
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
