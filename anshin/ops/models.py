from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class QueueItem(models.Model):
    """Work for the operators (事務局) with a due time: disputes, nudge escalations, permits, reports…
    Recorded by the services that detect the need; the operations console (issue 4) works them off."""

    class Kind(models.TextChoices):
        PERMIT = "permit", "サービス外連絡申請"
        DISPUTE = "dispute", "トラブル相談"
        TERMINATION_ESCALATION = "termination_escalation", "途中終了の拒否からの相談"
        NUDGE_ESCALATION = "nudge_escalation", "返信催促の未回答"
        REPORT = "report", "通報"
        GUARD_FLAG = "guard_flag", "連絡先・詐欺の検知"
        WITHDRAWAL = "withdrawal", "出金申請"

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
    # The user the item is about (the reported user, the holder of the permit…): the console's risk panel.
    concerns = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(max_length=32, blank=True)
    note = models.TextField(blank=True)  # the operator's internal note on closing

    class Meta:
        indexes = [
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(fields=["kind", "state", "due_at"]),
        ]
        permissions = [("act", "事務局として操作する")]

    def __str__(self):
        return self.summary

    @property
    def is_overdue(self) -> bool:
        from anshin.core import clock

        return self.state == self.State.OPEN and self.due_at is not None and self.due_at < clock.now()

