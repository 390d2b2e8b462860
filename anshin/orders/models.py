from django.conf import settings
from django.db import models

from anshin import rules
from anshin.core import clock
from anshin.core.flows import FlowModel
from anshin.jobs.models import Category
from anshin.orders.flow import CANCEL_REASONS, CANCEL_REQUEST_FLOW, LISTING_FLOW, ORDER_FLOW


class Listing(FlowModel):
    """A service for sale: fixed price, options, delivery days, included revisions, a hearing sheet."""

    flow = LISTING_FLOW

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="listings")
    title = models.CharField("タイトル", max_length=100)
    description = models.TextField("サービス内容", max_length=10_000)
    category = models.CharField("カテゴリ", max_length=20, choices=Category.choices)
    price = models.PositiveIntegerField("価格（税込）")
    delivery_days = models.PositiveSmallIntegerField("お届け日数")
    included_revisions = models.PositiveSmallIntegerField("修正回数", default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["state", "-created_at"]),
            models.Index(fields=["state", "category", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=rules.LISTING_MIN_PRICE), name="listing_min_price")
        ]

    def __str__(self):
        return self.title


class ListingOption(models.Model):
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="options")
    title = models.CharField("オプション名", max_length=100)
    price = models.PositiveIntegerField("追加料金")
    extra_days = models.PositiveSmallIntegerField("追加日数", default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class HearingQuestion(models.Model):
    """One question of the hearing sheet (ヒアリング) the buyer answers at purchase."""

    class Kind(models.TextChoices):
        TEXT = "text", "自由記述"
        SINGLE = "single", "単一選択"
        MULTIPLE = "multiple", "複数選択"

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.CharField("質問", max_length=300)
    choices = models.JSONField("選択肢", default=list, blank=True)  # for single / multiple
    example = models.CharField("回答例", max_length=300, blank=True)
    required = models.BooleanField("必須", default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class Order(FlowModel):
    """A purchase of a listing. Prices, days and revisions are copied at purchase: editing the listing later
    changes nothing for orders already placed."""

    flow = ORDER_FLOW

    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders_as_buyer")
    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders_as_seller")
    title = models.CharField(max_length=100)
    options = models.JSONField(default=list, blank=True)  # [{"title", "price", "extra_days"}] as bought
    subtotal = models.PositiveIntegerField()  # price + options: what the seller's fee is taken from
    buyer_fee = models.PositiveIntegerField()  # 5.5% on top, paid by the buyer
    total = models.PositiveIntegerField()  # subtotal + buyer_fee: what the buyer paid into escrow
    delivery_days = models.PositiveSmallIntegerField()  # listing days + option days
    included_revisions = models.PositiveSmallIntegerField()
    revisions_used = models.PositiveSmallIntegerField(default=0)
    delivery_date = models.DateField(null=True, blank=True)  # acceptance + delivery_days
    created_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["buyer", "-created_at"]), models.Index(fields=["seller", "-created_at"])]

    def __str__(self):
        return self.title

    @classmethod
    def party_q(cls, user):
        return models.Q(buyer=user) | models.Q(seller=user)

    @property
    def ledger_ref(self) -> str:
        return f"order:{self.pk}"

    def role_of(self, user):
        from anshin.core.flows import Actor

        if user.pk == self.buyer_id:
            return Actor.CLIENT
        if user.pk == self.seller_id:
            return Actor.WORKER
        return None

    # guards of the flow table
    def revisions_left(self) -> str:
        if self.revisions_used >= self.included_revisions:
            return f"修正依頼は{self.included_revisions}回までです（このサービスに含まれる回数を使い切りました）。"
        return ""

    def is_overdue(self) -> str:
        if self.delivery_date is None or clock.today() <= self.delivery_date + rules.OVERDUE_TERMINATION_AFTER:
            days = rules.OVERDUE_TERMINATION_AFTER.days
            return f"お届け予定日を{days}日過ぎても納品がない場合にのみ、取引を終了できます。"
        return ""


class HearingAnswer(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="answers")
    question = models.CharField(max_length=300)  # the question as it was asked
    kind = models.CharField(max_length=16, choices=HearingQuestion.Kind.choices)
    answer = models.JSONField(default=list)  # text → [text]; choices → [chosen, …]
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class OrderDelivery(models.Model):
    """A 正式な納品. Its files ride on a message the seller posts in the order thread (`message`), so they are
    served like any thread attachment (party-checked) and the delivery also shows in the conversation."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="deliveries")
    body = models.TextField("納品メッセージ", max_length=10_000)
    message = models.OneToOneField(
        "messaging.Message", null=True, blank=True, on_delete=models.PROTECT, related_name="order_delivery"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    @property
    def attachments(self):
        """The delivered files (a list; prefetch `message__attachments` when reading many)."""
        return list(self.message.attachments.all()) if self.message_id else []


class CancelRequest(FlowModel):
    flow = CANCEL_REQUEST_FLOW

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="cancel_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=32)
    detail = models.TextField(max_length=2_000, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(state="pending"), name="one_pending_cancel_request"
            )
        ]

    @property
    def side(self) -> str:
        """Who asked: "buyer" or "seller"."""
        return "buyer" if self.requested_by_id == self.order.buyer_id else "seller"

    @property
    def reason_label(self) -> str:
        """The reason in the active language."""
        label = CANCEL_REASONS.get(self.side, {}).get(self.reason)
        return str(label[0]) if label else self.reason
