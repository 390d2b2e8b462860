"""Double-entry ledger in integer yen. Entries are immutable and balanced; balances are derived per account
and cached on the account row, which is locked while posting so concurrent postings serialise."""

from django.db import models


class Account(models.Model):
    code = models.CharField(max_length=64, unique=True)  # e.g. "escrow:contract:12", "worker:3", "revenue"
    name = models.CharField(max_length=128)
    user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts"
    )
    balance = models.BigIntegerField(default=0)
    allow_negative = models.BooleanField(default=False)  # only the payment gateway's clearing account

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0) | models.Q(allow_negative=True), name="ledger_account_not_negative"
            )
        ]

    def __str__(self):
        return self.code


class JournalEntry(models.Model):
    idempotency_key = models.CharField(max_length=128)  # unique: Meta (no LIKE index)
    kind = models.CharField(max_length=32)  # fund, release, refund, ...
    memo = models.CharField(max_length=255, blank=True)
    ref = models.CharField(max_length=64, blank=True)  # "contract:12"; indexed in Meta (no LIKE index)
    payload_hash = models.CharField(max_length=64)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "journal entries"
        constraints = [models.UniqueConstraint(fields=["idempotency_key"], name="journal_entry_idempotency_key")]
        indexes = [models.Index(fields=["ref"], name="journal_entry_ref")]

    def __str__(self):
        return f"{self.kind} {self.idempotency_key}"


class Posting(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings",
                                db_index=False)  # led by the (account, entry) index
    amount = models.BigIntegerField()  # + increases the account's balance, − decreases it

    class Meta:
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_posting_nonzero")]
        indexes = [models.Index(fields=["account", "entry"])]
