"""Bank accounts (one per user, replaceable) and withdrawals (出金申請), each of which keeps a snapshot of the
bank details it was requested to, so replacing the account later never redirects money already asked for."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from anshin.core.flows import FlowModel
from anshin.payouts.flow import WITHDRAWAL_FLOW


class AccountType(models.TextChoices):
    ORDINARY = "ordinary", _("普通")
    CURRENT = "current", _("当座")
    SAVINGS = "savings", _("貯蓄")


class BankFields(models.Model):
    """The transfer details (全銀 format): codes and number are digits, the holder full-width katakana."""

    bank_name = models.CharField("銀行名", max_length=40)
    bank_code = models.CharField("銀行コード", max_length=4)
    branch_name = models.CharField("支店名", max_length=40)
    branch_code = models.CharField("支店コード", max_length=3)
    account_type = models.CharField("口座種別", max_length=16, choices=AccountType.choices)
    account_number = models.CharField("口座番号", max_length=7)
    holder = models.CharField("口座名義（カタカナ）", max_length=40)

    class Meta:
        abstract = True

    BANK_FIELDS = ("bank_name", "bank_code", "branch_name", "branch_code", "account_type", "account_number",
                   "holder")

    def bank_details(self) -> dict:
        return {name: getattr(self, name) for name in self.BANK_FIELDS}

    @property
    def masked_number(self) -> str:
        """****567: what the worker's lists show (the full number is on the bank account page and in /ops/)."""
        return "*" * (len(self.account_number) - 3) + self.account_number[-3:]

    @property
    def bank_line(self) -> str:
        return (f"{self.bank_name}（{self.bank_code}） {self.branch_name}（{self.branch_code}） "
                f"{self.get_account_type_display()} {self.account_number} {self.holder}")


class BankAccount(BankFields):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bank_account")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self):
        return f"{self.bank_name} {self.branch_name} {self.masked_number}"


class Withdrawal(BankFields, FlowModel):
    """One payout request. `amount` left the available balance for the pending account when it was made."""

    class ReverseReason(models.TextChoices):
        BANK_REJECTED = "bank_rejected", _("金融機関で振込が受け付けられませんでした")
        HOLDER_MISMATCH = "holder_mismatch", _("口座名義がご登録の情報と一致しませんでした")
        ACCOUNT_INVALID = "account_invalid", _("口座が存在しないか、解約されています")
        OTHER = "other", _("その他（事務局からの連絡をご確認ください）")

    flow = WITHDRAWAL_FLOW

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="withdrawals")
    amount = models.PositiveBigIntegerField()
    # The caller's key for this request (the form's hidden field, the API's `request_key`): a repeated submit
    # returns the first withdrawal instead of asking twice.
    request_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reverse_reason = models.CharField(max_length=32, blank=True, choices=ReverseReason.choices)  # told the worker
    internal_note = models.TextField(blank=True)  # the operator's note: never shown to the worker

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"]), models.Index(fields=["state", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="withdrawal_amount_positive"),
            models.UniqueConstraint(
                fields=["user", "request_key"], condition=~models.Q(request_key=""), name="withdrawal_request_key"
            ),
        ]

    def __str__(self):
        return f"出金申請 #{self.pk} ¥{self.amount:,}"

    @classmethod
    def party_q(cls, user):
        return models.Q(user=user)

    @property
    def ledger_ref(self) -> str:
        return f"withdrawal:{self.pk}"
