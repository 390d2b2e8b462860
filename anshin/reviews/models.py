from django.conf import settings
from django.db import models
from django.db.models import Q

AXES = (  # field, label (PRODUCT.md §5)
    ("skill", "スキル"),
    ("quality", "クオリティ"),
    ("schedule", "スケジュール"),
    ("communication", "コミュニケーション"),
    ("partnership", "パートナーシップ"),
)


class ReviewWindow(models.Model):
    """The 14 days after a deal completes or ends, one per deal. Its timer (`due_at`, swept by `tick`) closes
    the window and reveals what was written; `revealed_at` is set then, or as soon as both sides submitted."""

    contract = models.OneToOneField(
        "contracts.Contract", null=True, blank=True, on_delete=models.CASCADE, related_name="review_window"
    )
    order = models.OneToOneField(
        "orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="review_window"
    )
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")  # or buyer
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")  # or seller
    opened_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    revealed_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)  # = closes_at until revealed
    remind_at = models.DateTimeField(null=True, blank=True, db_index=True)  # to whoever has not written yet

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(contract__isnull=False, order__isnull=True) | Q(contract__isnull=True, order__isnull=False),
                name="review_window_one_deal",
            ),
        ]

    @classmethod
    def party_q(cls, user):
        return Q(client=user) | Q(worker=user)

    def role_of(self, user) -> str:
        """"client" | "worker" | "" — the side `user` took in the deal (buyer = client, seller = worker)."""
        if user.pk == self.client_id:
            return "client"
        if user.pk == self.worker_id:
            return "worker"
        return ""

    def counterpart(self, user):
        return self.worker if user.pk == self.client_id else self.client

    @property
    def deal(self):
        return self.contract if self.contract_id else self.order

    @property
    def deal_title(self) -> str:
        return self.deal.title

    @property
    def deal_url(self) -> str:
        return f"/contracts/{self.contract_id}/" if self.contract_id else f"/orders/{self.order_id}/"

    @property
    def url(self) -> str:
        return f"/reviews/{self.pk}/"

    @property
    def is_revealed(self) -> bool:
        return self.revealed_at is not None


class Review(models.Model):
    """One side's review of the other after a deal. Double-blind: nobody but its author may see it until the
    window is revealed (`window.revealed_at`)."""

    class Role(models.TextChoices):
        CLIENT = "client", "発注者"  # the author was the client (buyer) and reviews the worker
        WORKER = "worker", "受注者"

    window = models.ForeignKey(ReviewWindow, on_delete=models.CASCADE, related_name="reviews")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_written")
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_received")
    author_role = models.CharField(max_length=8, choices=Role.choices)
    skill = models.PositiveSmallIntegerField("スキル")
    quality = models.PositiveSmallIntegerField("クオリティ")
    schedule = models.PositiveSmallIntegerField("スケジュール")
    communication = models.PositiveSmallIntegerField("コミュニケーション")
    partnership = models.PositiveSmallIntegerField("パートナーシップ")
    comment = models.TextField("コメント", max_length=2_000)
    submitted_at = models.DateTimeField()
    reply = models.TextField("返信", max_length=2_000, blank=True)  # one public reply, by the subject
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["window", "author"], name="one_review_per_side"),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{field}__gte": 1, f"{field}__lte": 5}), name=f"review_{field}_1_5"
                )
                for field, _ in AXES
            ),
        ]
        indexes = [models.Index(fields=["subject", "-submitted_at"])]

    @property
    def stars(self) -> float:
        """The review's overall score: the mean of the five axes."""
        return sum(getattr(self, field) for field, _ in AXES) / len(AXES)
