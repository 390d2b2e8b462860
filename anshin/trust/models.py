"""Trust and safety records: contact permits (サービス外連絡申請), guard holds, blocks and reports."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

from anshin.core.flows import FlowModel
from anshin.trust.flow import PERMIT_FLOW


class ContactPermit(FlowModel):
    """Permission to exchange contact details in one thread, decided by an operator."""

    class Tool(models.TextChoices):
        CHATWORK = "chatwork", "Chatwork"
        SLACK = "slack", "Slack"
        ZOOM = "zoom", "Zoom"
        GOOGLE_MEET = "google_meet", "Google Meet"
        TEAMS = "teams", "Microsoft Teams"
        LINE = "line", "LINE"
        SKYPE = "skype", "Skype"
        DISCORD = "discord", "Discord"
        EMAIL = "email", "メール"
        PHONE = "phone", "電話"
        OTHER = "other", "その他"

    flow = PERMIT_FLOW

    thread = models.ForeignKey("messaging.Thread", on_delete=models.CASCADE, related_name="permits")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    tool = models.CharField(max_length=16, choices=Tool.choices)
    purpose = models.TextField(max_length=1000)
    decide_by = models.DateTimeField()  # the operators' SLA: 2 business days after the request
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    internal_note = models.TextField(blank=True)  # the operator's reason: never shown to the parties
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["thread", "state"]), models.Index(fields=["state", "decide_by"])]
        constraints = [
            models.UniqueConstraint(  # one live request or approval per thread at a time
                fields=["thread"], condition=models.Q(state__in=["pending", "approved"]), name="one_live_permit"
            )
        ]

    @classmethod
    def party_q(cls, user):
        return models.Q(thread__members__user=user)


class GuardHold(models.Model):
    """A text the contact guard refused (a held message, or a job / listing / profile that could not be saved).
    Only the kinds and the flagged fragments are kept, for the operators' risk panel."""

    class Surface(models.TextChoices):
        MESSAGE = "message", "メッセージ"
        JOB = "job", "仕事"
        LISTING = "listing", "出品サービス"
        PROFILE = "profile", "プロフィール"
        REVIEW = "review", "評価"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="guard_holds")
    surface = models.CharField(max_length=16, choices=Surface.choices)
    thread = models.ForeignKey("messaging.Thread", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kinds = models.JSONField(default=list)
    fragments = models.JSONField(default=list)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"])]


class Block(models.Model):
    """`blocker` no longer hears from `blocked`: no new messages, applications or orders between the two."""

    blocker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_made")
    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_received")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="one_block_per_pair"),
            models.CheckConstraint(condition=~models.Q(blocker=models.F("blocked")), name="no_self_block"),
        ]
        indexes = [models.Index(fields=["blocked", "blocker"])]


class Report(models.Model):
    """通報: a user reports a user, a message, a job or a listing to the operators."""

    class Category(models.TextChoices):
        OFF_PLATFORM = "off_platform", "外部連絡・直接取引への誘導"
        SCAM = "scam", "詐欺・不審な勧誘"
        NONPAYMENT = "nonpayment", "未払い・仮払い前の作業依頼"
        HARASSMENT = "harassment", "嫌がらせ・不適切な言動"
        INAPPROPRIATE = "inappropriate", "不適切な内容（仕事・出品）"
        SPAM = "spam", "スパム・宣伝"
        OTHER = "other", "その他"

    class State(models.TextChoices):
        OPEN = "open", "未対応"
        CLOSED = "closed", "対応済み"

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports_made")
    reported_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reports_received"
    )
    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)  # user, message, job or listing
    subject_id = models.BigIntegerField()
    category = models.CharField(max_length=16, choices=Category.choices)
    text = models.TextField(max_length=2000)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["reported_user", "created_at"])]
