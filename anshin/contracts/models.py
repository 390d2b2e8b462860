from django.conf import settings
from django.db import models

from anshin import rules
from anshin.contracts.flow import CONTRACT_FLOW, TERMINATION_FLOW
from anshin.core import clock
from anshin.core.flows import FlowModel


class Contract(FlowModel):
    """A fixed-price contract with one milestone (see docs/decisions.md)."""

    flow = CONTRACT_FLOW

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contracts_as_client",
                               db_index=False)  # led by the (client, -created_at) index
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contracts_as_worker",
                               db_index=False)  # led by the (worker, -created_at) index
    application = models.OneToOneField(
        "jobs.Application", null=True, blank=True, on_delete=models.PROTECT, related_name="contract"
    )
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

    # guards of the flow table ("" when the condition holds, else why not)
    def is_overdue(self) -> str:
        """3 days past the delivery date (Japan's calendar) without a delivery: day 3 after is still refused."""
        if clock.today() <= self.delivery_date + rules.OVERDUE_TERMINATION_AFTER:
            days = rules.OVERDUE_TERMINATION_AFTER.days
            return (
                f"納期（{self.delivery_date:%Y/%m/%d}）を{days}日過ぎても納品がない場合にのみ、"
                "発注者は契約を終了できます。"
            )
        return ""


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


class TerminationRequest(FlowModel):
    """契約途中終了リクエスト: either side proposes to end the contract early with a split of the escrow:
    `worker_amount` goes to the worker (minus the usual fee on that part), the rest back to the client."""

    flow = TERMINATION_FLOW

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="termination_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_as = models.CharField(max_length=16)  # client / worker / operator: who asked, by role
    worker_amount = models.PositiveIntegerField("受注者に支払う額")
    reason = models.TextField("理由", max_length=2_000)
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["contract", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["contract"], condition=models.Q(state="pending"), name="one_pending_termination_request"
            ),
        ]

    def __str__(self):
        return f"途中終了リクエスト #{self.pk}"

    def split(self, amount: int) -> dict:
        """The money of an agreement on a contract of `amount`: exact to the yen."""
        from anshin.core.money import tiered_fee

        fee = tiered_fee(self.worker_amount)
        return {
            "worker_amount": self.worker_amount,
            "fee": fee,
            "worker_net": self.worker_amount - fee,
            "refund": amount - self.worker_amount,
        }
