from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from anshin.core.flows import FlowModel
from anshin.deals.flow import DATE_CHANGE_FLOW


class DateChangeRequest(FlowModel):
    """A proposal to move the delivery date of a deal (a Contract or an Order: the subject)."""

    flow = DATE_CHANGE_FLOW

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    subject_id = models.BigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    old_date = models.DateField("現在の納期")
    new_date = models.DateField("希望する納期")
    reason = models.TextField("理由", max_length=2_000)
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["subject_type", "subject_id", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id"],
                condition=models.Q(state="pending"),
                name="one_pending_date_change",
            ),
            models.CheckConstraint(condition=~models.Q(new_date=models.F("old_date")), name="date_change_moves"),
        ]

    def __str__(self):
        return f"{self.old_date} → {self.new_date}"
