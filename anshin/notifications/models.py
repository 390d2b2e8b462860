from django.conf import settings
from django.db import models


class Notification(models.Model):
    """The outbox and the in-app centre in one row: written in the same transaction as the event it tells
    about; `dedupe_key` makes repeats (a retried tick, a double click) harmless. E-mail delivery reads
    rows with `emailed_at` empty (issue 5)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=48)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"]), models.Index(fields=["user", "read_at"])]
        ordering = ["-created_at", "-id"]
