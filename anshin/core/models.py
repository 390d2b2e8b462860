from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class AuditEvent(models.Model):
    """Immutable: PostgreSQL and SQLite triggers refuse UPDATE and DELETE (see migration 0002)."""

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, db_index=False)  # led by the index below
    subject_id = models.BigIntegerField()
    action = models.CharField(max_length=64)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_role = models.CharField(max_length=16, blank=True)
    from_state = models.CharField(max_length=32, blank=True)
    to_state = models.CharField(max_length=32, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["subject_type", "subject_id", "created_at"])]

    def __str__(self):
        return f"{self.action} {self.from_state}→{self.to_state}"
