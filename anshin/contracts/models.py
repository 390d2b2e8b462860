from django.conf import settings
from django.db import models

from anshin.contracts.flow import CONTRACT_FLOW
from anshin.core.flows import FlowModel


class Contract(FlowModel):
    """A fixed-price contract with one milestone (see docs/decisions.md)."""

    flow = CONTRACT_FLOW

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contracts_as_client")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contracts_as_worker")
    application = models.OneToOneField("jobs.Application", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="contract")
    title = models.CharField("契約名", max_length=100)
    amount = models.PositiveIntegerField("契約金額（税込）")
    delivery_date = models.DateField("納期")
    created_at = models.DateTimeField()
    funded_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["client", "-created_at"]),
            models.Index(fields=["worker", "-created_at"]),
        ]

    @classmethod
    def party_q(cls, user):
        return models.Q(client=user) | models.Q(worker=user)

    def __str__(self):
        return self.title

    @property
    def ledger_ref(self) -> str:
        return f"contract:{self.pk}"

    def role_of(self, user):
        from anshin.core.flows import Actor

        if user.pk == self.client_id:
            return Actor.CLIENT
        if user.pk == self.worker_id:
            return Actor.WORKER
        return None


class Delivery(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="deliveries")
    body = models.TextField("納品メッセージ", max_length=10_000)
    links = models.TextField("納品物のURL", blank=True, help_text="1行に1つ")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "deliveries"

    @property
    def link_list(self) -> list[str]:
        return [line.strip() for line in self.links.splitlines() if line.strip()]
