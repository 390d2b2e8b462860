from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from anshin.core.flows import FlowModel
from anshin.jobs.flow import APPLICATION_FLOW, JOB_FLOW


class Category(models.TextChoices):
    WRITING = "writing", _("ライティング")
    DESIGN = "design", _("デザイン")
    DEVELOPMENT = "development", _("システム開発")
    TRANSLATION = "translation", _("翻訳")
    VIDEO = "video", _("動画・写真")
    DATA = "data", _("データ入力・事務")
    MARKETING = "marketing", _("マーケティング")
    OTHER = "other", _("その他")


class DeclineReason(models.TextChoices):
    """Templated reasons, so a worker always hears why (and nobody has to write a hard message)."""

    FILLED = "filled", _("他の方に決定しました")
    BUDGET = "budget", _("ご提案の金額が予算と合いませんでした")
    SCHEDULE = "schedule", _("納期の条件が合いませんでした")
    SKILLS = "skills", _("求めるスキル・経験と異なりました")
    OTHER = "other", _("総合的に判断し、今回は見送らせていただきます")


class Job(FlowModel):
    flow = JOB_FLOW

    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs")
    title = models.CharField("タイトル", max_length=100)
    description = models.TextField("仕事の詳細", max_length=10_000)
    category = models.CharField("カテゴリ", max_length=20, choices=Category.choices)
    skills = models.CharField("求めるスキル", max_length=300, blank=True)
    budget_min = models.PositiveIntegerField("予算（下限）", null=True, blank=True)
    budget_max = models.PositiveIntegerField("予算（上限）")
    application_deadline = models.DateField("応募期限")
    delivery_date = models.DateField("希望納期", null=True, blank=True)
    hires = models.PositiveSmallIntegerField("募集人数", default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["state", "-created_at"]),
            models.Index(fields=["state", "application_deadline"]),
            models.Index(fields=["state", "category", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(budget_min__isnull=True) | models.Q(budget_min__lte=models.F("budget_max")),
                name="job_budget_range",
            )
        ]

    def __str__(self):
        return self.title

    @property
    def budget_label(self) -> str:
        if self.budget_min and self.budget_min != self.budget_max:
            return f"¥{self.budget_min:,} 〜 ¥{self.budget_max:,}"
        return f"¥{self.budget_max:,}"


class Application(FlowModel):
    flow = APPLICATION_FLOW

    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="applications")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications")
    message = models.TextField("応募メッセージ", max_length=5_000)
    amount = models.PositiveIntegerField("提案金額（税込）")
    estimated_date = models.DateField("完了予定日")
    decline_reason = models.CharField(max_length=20, choices=DeclineReason.choices, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "worker"], name="one_application_per_job")]

    @classmethod
    def party_q(cls, user):
        return models.Q(worker=user) | models.Q(job__client=user)

    def __str__(self):
        return f"{self.worker} → {self.job}"

    @property
    def client(self):
        return self.job.client
