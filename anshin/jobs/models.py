from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from anshin.core import clock
from anshin.core.flows import FlowModel
from anshin.jobs.flow import APPLICATION_FLOW, JOB_FLOW, SCOUT_FLOW, TEST_TASK_FLOW


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
            models.Index(fields=["client", "state", "-created_at"]),  # a client's open jobs (profile page)
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

    @property
    def deadline_end(self) -> datetime:
        """When applications stop: the end of the deadline day in Japan, i.e. 00:00 JST the next day."""
        return deadline_end(self.application_deadline)

    @property
    def until_deadline(self) -> timedelta:
        """The `open` Timer's duration (JOB_FLOW): from this entry into `open` to the end of the deadline day."""
        return self.deadline_end - self.state_entered_at

    @property
    def closed_by_deadline(self) -> bool:
        """Closed at or after the end of its deadline day: the clock closed it (a client's own close is earlier)."""
        return self.state == "closed" and self.state_entered_at >= self.deadline_end

    def reopen_refusal(self) -> str:
        """The `reopen` guard: a job past its deadline would close again at once; a new deadline comes first."""
        if self.deadline_end > clock.now():
            return ""
        return (f"応募期限（{self.application_deadline:%Y/%m/%d}）を過ぎています。"
                "募集を再開するには、先に「募集内容を編集する」から新しい応募期限を設定してください。")


def deadline_end(day) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), timezone.get_default_timezone())


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


def duration_label(delta: timedelta) -> str:
    """1日3時間, 5時間20分, 45分 — what a person reads on a running clock (rounded down to the minute)."""
    minutes = max(int(delta.total_seconds()) // 60, 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}日{hours}時間" if hours else f"{days}日"
    if hours:
        return f"{hours}時間{minutes}分" if minutes else f"{hours}時間"
    return f"{minutes}分"


class TestTask(FlowModel):
    """A test task on an application (one per application). The clock pauses while the worker's blocker
    question waits for the client: `remaining` holds the time left when the clock last (re)started or stopped;
    while `sent`, `due_at` = the moment it (re)started + `remaining` (the flow's Timer reads the field)."""

    __test__ = False  # not a pytest class, whatever its name

    flow = TEST_TASK_FLOW

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="test_task")
    instructions = models.TextField("課題の内容", max_length=5_000)
    material_links = models.TextField("資料のURL", blank=True)
    material_message = models.ForeignKey("messaging.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                         related_name="+")  # the message carrying the material files
    duration = models.DurationField("制限時間")
    remaining = models.DurationField()
    paused_at = models.DateTimeField(null=True, blank=True)
    blocker_question = models.TextField(blank=True)
    blocker_answer = models.TextField(blank=True)
    submission_body = models.TextField(blank=True)
    submission_links = models.TextField(blank=True)
    submission_message = models.ForeignKey("messaging.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                           related_name="+")  # the message carrying the submitted files
    submitted_at = models.DateTimeField(null=True, blank=True)
    evaluation_comment = models.TextField(blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(remaining__gte=timedelta(0)), name="test_task_remaining_ge_0"),
        ]

    @classmethod
    def party_q(cls, user):
        return models.Q(application__worker=user) | models.Q(application__job__client=user)

    def __str__(self):
        return f"テスト課題: {self.application}"

    @property
    def is_paused(self) -> bool:
        return self.state == "blocked"

    def time_left(self) -> timedelta | None:
        """Time left on the clock now: running while `sent`, frozen while `blocked`, None once finished."""
        if self.state == "sent":
            return max(self.due_at - clock.now(), timedelta(0))
        if self.state == "blocked":
            return self.remaining
        return None

    @property
    def clock_label(self) -> str:
        """「残り 1日3時間」 or 「時計停止中（残り 2日4時間）」 — both sides read the same words."""
        left = self.time_left()
        if left is None:
            return ""
        if self.state == "blocked":
            return f"時計停止中（残り {duration_label(left)}）"
        return f"残り {duration_label(left)}"

    @property
    def duration_label(self) -> str:
        return duration_label(self.duration)

    def link_list(self, field: str = "material_links") -> list[str]:
        return [line for line in getattr(self, field).splitlines() if line.strip()]

    @property
    def material_link_list(self) -> list[str]:
        return self.link_list("material_links")

    @property
    def submission_link_list(self) -> list[str]:
        return self.link_list("submission_links")


class Scout(FlowModel):
    """スカウト: a client invites a worker to one of their open jobs. One per job and worker."""

    flow = SCOUT_FLOW

    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="scouts")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="scouts")
    message = models.TextField("スカウトメッセージ", max_length=2_000)
    thread = models.OneToOneField("messaging.Thread", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="scout")
    application = models.OneToOneField(Application, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="scout")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "worker"], name="one_scout_per_job_and_worker")]
        indexes = [models.Index(fields=["worker", "-created_at"])]

    @classmethod
    def party_q(cls, user):
        return models.Q(worker=user) | models.Q(job__client=user)

    def __str__(self):
        return f"スカウト: {self.job} → {self.worker}"

    @property
    def client(self):
        return self.job.client
