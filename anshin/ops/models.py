from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class QueueItem(models.Model):
    """Work for the operators (事務局) with a due time: disputes, nudge escalations, permits, reports…
    Recorded by the services that detect the need; the operations console (issue 4) works them off."""

    class Kind(models.TextChoices):
        DISPUTE = "dispute", "トラブル相談"
        NUDGE_ESCALATION = "nudge_escalation", "返信催促の未回答"

    class State(models.TextChoices):
        OPEN = "open", "未対応"
        CLOSED = "closed", "対応済み"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    subject_id = models.BigIntegerField()
    summary = models.CharField(max_length=300)
    payload = models.JSONField(default=dict, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dedupe_key = models.CharField(max_length=200, unique=True)
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["state", "due_at"]), models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self):
        return self.summary
