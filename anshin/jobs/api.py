"""Jobs and applications API: search, post, edit, close/reopen; apply, list, shortlist, decline, withdraw;
test tasks (send, blocker question and answer, submit, evaluate) and scouts."""

from datetime import date, timedelta
from typing import Literal

from django.urls import reverse
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import StrictInt

from anshin.accounts.api import UserBrief, UserOut
from anshin.core.api_auth import ERRORS, MAX_ID, ActionOut, ErrorOut, IdPath, LocalDateTime, actions_out
from anshin.core.errors import NotFound
from anshin.core.flows import Actor
from anshin.jobs import selectors, services
from anshin.jobs.flow import APPLICATION_FLOW, JOB_FLOW, SCOUT_FLOW, TEST_TASK_FLOW, TEST_TASK_FORM_ACTIONS
from anshin.jobs.models import Category, DeclineReason, Job

router = Router(tags=["jobs"])

MAX_BUDGET_FILTER = 10**12
CategoryValue = Literal[tuple(Category.values)]  # type: ignore[valid-type]
DeclineValue = Literal[tuple(DeclineReason.values)]  # type: ignore[valid-type]


class Pagination(LimitOffsetPagination):
    """limit/offset, bounded so a typo cannot ask the database for everything."""

    class Input(Schema):
        limit: int = Field(20, ge=1, le=100)
        offset: int = Field(0, ge=0, le=100_000)


# --- jobs -----------------------------------------------------------------------------------------------

class JobFilter(Schema):
    q: str = Field("", max_length=200, description="タイトル・詳細・スキルの部分一致（空白区切りでAND）")
    category: CategoryValue | Literal[""] = ""  # type: ignore[valid-type]
    budget_min: int | None = Field(None, ge=0, le=MAX_BUDGET_FILTER)
    budget_max: int | None = Field(None, ge=0, le=MAX_BUDGET_FILTER)
    sort: Literal["new", "deadline"] = "new"


class JobListOut(Schema):
    id: int
    title: str
    category: str
    category_label: str = Field(..., alias="get_category_display")
    skills: str
    budget_min: int | None
    budget_max: int
    budget_label: str
    application_deadline: date
    delivery_date: date | None
    hires: int
    state: str
    state_label: str
    client: UserBrief
    application_count: int
    created_at: LocalDateTime


class JobOut(JobListOut):
    description: str
    allowed_actions: list[ActionOut]

    @staticmethod
    def resolve_allowed_actions(obj, context):
        return actions_out(JOB_FLOW.allowed(obj.state, _role(context["request"].auth, obj.client_id), obj))


class JobIn(Schema):
    title: str = Field(..., max_length=100)
    description: str = Field(..., max_length=10_000)
    category: CategoryValue  # type: ignore[valid-type]
    skills: str = Field("", max_length=300)
    budget_min: StrictInt | None = None
    budget_max: StrictInt
    application_deadline: date
    delivery_date: date | None = None
    hires: StrictInt = 1


class JobPatch(Schema):
    title: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=10_000)
    category: CategoryValue | None = None  # type: ignore[valid-type]
    skills: str | None = Field(None, max_length=300)
    budget_min: StrictInt | None = None
    budget_max: StrictInt | None = None
    application_deadline: date | None = None
    delivery_date: date | None = None
    hires: StrictInt | None = None


def _role(user, client_id: int, worker_id: int | None = None) -> list[Actor]:
    if user.pk == client_id:
        return [Actor.CLIENT]
    if worker_id is not None and user.pk == worker_id:
        return [Actor.WORKER]
    return [Actor.OPERATOR] if user.is_operator else []


def _job_detail(job_id: int) -> Job:
    job = selectors.job_search(include_closed=True).filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    return job


@router.get("/jobs", response=list[JobListOut], summary="仕事を探す")
@paginate(Pagination)
def list_jobs(request, filters: Query[JobFilter]):
    return selectors.job_search(**filters.dict())


@router.post("/jobs", response={201: JobOut, **ERRORS}, summary="仕事を投稿する")
def create_job(request, payload: JobIn):
    job = services.job_create(user=request.auth, **payload.dict())
    return Status(201, _job_detail(job.pk))


@router.get("/jobs/{job_id}", response={200: JobOut, **ERRORS}, summary="仕事の詳細")
def get_job(request, job_id: int = IdPath()):
    return _job_detail(job_id)


@router.patch("/jobs/{job_id}", response={200: JobOut, **ERRORS}, summary="仕事を編集する（発注者のみ）")
def update_job(request, payload: JobPatch, job_id: int = IdPath()):
    services.job_update(job_id=job_id, user=request.auth, **payload.dict(exclude_unset=True))
    return _job_detail(job_id)


@router.post("/jobs/{job_id}/actions/{action}", response={200: JobOut, **ERRORS},
             summary="募集を終了・再開する（close / reopen）")
def job_action(request, job_id: int = IdPath(), action: str = Path(..., max_length=32)):
    services.job_transition(job_id=job_id, user=request.auth, action=action)
    return _job_detail(job_id)


# --- applications ---------------------------------------------------------------------------------------

class JobRef(Schema):
    id: int
    title: str


class ApplicationIn(Schema):
    message: str = Field(..., max_length=5_000)
    amount: StrictInt
    estimated_date: date


class ApplicationOut(Schema):
    id: int
    job: JobRef
    worker: UserOut
    message: str
    amount: int
    estimated_date: date
    state: str
    state_label: str
    decline_reason: str
    decline_reason_label: str = Field(..., alias="get_decline_reason_display")
    created_at: LocalDateTime
    thread_id: int | None
    allowed_actions: list[ActionOut]

    @staticmethod
    def resolve_allowed_actions(obj, context):
        roles = _role(context["request"].auth, obj.job.client_id, obj.worker_id)
        return actions_out(APPLICATION_FLOW.allowed(obj.state, roles), form_actions={"decline", "offer"})

    @staticmethod
    def resolve_thread_id(obj):
        thread = getattr(obj, "thread", None)
        return thread.pk if thread else None


class ApplicationDetailOut(ApplicationOut):
    contract_id: int | None

    @staticmethod
    def resolve_contract_id(obj):
        contract = getattr(obj, "contract", None)
        return contract.pk if contract else None


class ReasonIn(Schema):
    reason: DeclineValue | Literal[""] = Field("", description="decline の理由")  # type: ignore[valid-type]


@router.post("/jobs/{job_id}/applications", response={201: ApplicationDetailOut, **ERRORS, 429: ErrorOut},
             summary="仕事に応募する")
def apply(request, payload: ApplicationIn, job_id: int = IdPath()):
    application = services.application_create(job_id=job_id, user=request.auth, **payload.dict())
    return Status(201, selectors.application_get(application_id=application.pk, user=request.auth))


@router.get("/jobs/{job_id}/applications", response={200: list[ApplicationOut], **ERRORS},
            summary="応募者一覧（発注者のみ）")
def job_applications(request, job_id: int = IdPath()):
    user = request.auth
    job = Job.objects.filter(pk=job_id).first()
    if job is None or (job.client_id != user.pk and not user.is_operator):
        raise NotFound()
    return selectors.job_applicants(job=job).select_related("job")


@router.get("/applications", response=list[ApplicationOut], summary="自分の応募一覧")
@paginate(Pagination)
def my_applications(request):
    return selectors.applications_for(user=request.auth).select_related("worker__presence")


@router.get("/applications/{application_id}", response={200: ApplicationDetailOut, **ERRORS},
            summary="応募の詳細（当事者のみ）")
def get_application(request, application_id: int = IdPath()):
    return selectors.application_get(application_id=application_id, user=request.auth)


@router.post("/applications/{application_id}/actions/{action}", response={200: ApplicationDetailOut, **ERRORS},
             summary="候補に入れる・外す・見送る・辞退する")
def application_action(request, payload: ReasonIn | None = None, application_id: int = IdPath(),
                       action: str = Path(..., max_length=32)):
    services.application_transition(application_id=application_id, user=request.auth, action=action,
                                    reason=payload.reason if payload else "")
    return selectors.application_get(application_id=application_id, user=request.auth)


# --- test tasks -----------------------------------------------------------------------------------------------

class TestTaskIn(Schema):
    instructions: str = Field(..., max_length=5_000)
    duration_minutes: StrictInt = Field(..., description="制限時間（分）。60分以上、rules.TEST_TASK_MAX_DURATION以内")
    links: list[str] = Field(default_factory=list, max_length=20, description="資料のURL")


class BlockerIn(Schema):
    question: str = Field(..., max_length=2_000)


class AnswerIn(Schema):
    answer: str = Field(..., max_length=5_000)


class SubmissionIn(Schema):
    body: str = Field(..., max_length=10_000)
    links: list[str] = Field(default_factory=list, max_length=20)


class EvaluationIn(Schema):
    result: Literal["pass", "fail"]
    comment: str = Field("", max_length=2_000)


class AttachmentOut(Schema):
    name: str
    size: int
    url: str

    @staticmethod
    def resolve_url(obj):
        return reverse("messaging:attachment", args=[obj.token])


class TestTaskOut(Schema):
    application_id: int
    state: str
    state_label: str
    instructions: str
    material_links: list[str] = Field(..., alias="material_link_list")
    materials: list[AttachmentOut]
    duration_minutes: int
    due_at: LocalDateTime | None
    paused: bool = Field(..., alias="is_paused")
    paused_at: LocalDateTime | None
    remaining_seconds: int | None
    clock_label: str
    blocker_question: str
    blocker_answer: str
    submission_body: str
    submission_links: list[str] = Field(..., alias="submission_link_list")
    submitted_at: LocalDateTime | None
    evaluation_comment: str
    created_at: LocalDateTime
    allowed_actions: list[ActionOut]

    @staticmethod
    def resolve_materials(obj):
        return list(obj.material_message.attachments.all()) if obj.material_message_id else []

    @staticmethod
    def resolve_duration_minutes(obj):
        return int(obj.duration.total_seconds() // 60)

    @staticmethod
    def resolve_remaining_seconds(obj):
        left = obj.time_left()
        return None if left is None else int(left.total_seconds())

    @staticmethod
    def resolve_allowed_actions(obj, context):
        app = obj.application
        roles = _role(context["request"].auth, app.job.client_id, app.worker_id)
        return actions_out(TEST_TASK_FLOW.allowed(obj.state, roles), form_actions=TEST_TASK_FORM_ACTIONS)


def _test_task(request, application_id: int):
    return selectors.test_task_get(application_id=application_id, user=request.auth)


@router.get("/applications/{application_id}/test-task", response={200: TestTaskOut, **ERRORS},
            summary="テスト課題（当事者のみ）")
def get_test_task(request, application_id: int = IdPath()):
    return _test_task(request, application_id)


@router.post("/applications/{application_id}/test-task", response={201: TestTaskOut, **ERRORS},
             summary="テスト課題を送る（発注者のみ）")
def send_test_task(request, payload: TestTaskIn, application_id: int = IdPath()):
    services.test_task_send(application_id=application_id, user=request.auth, instructions=payload.instructions,
                            duration=timedelta(minutes=payload.duration_minutes), links="\n".join(payload.links))
    return Status(201, _test_task(request, application_id))


@router.post("/applications/{application_id}/test-task/blocker", response={200: TestTaskOut, **ERRORS},
             summary="質問して時計を止める（応募者）")
def report_blocker(request, payload: BlockerIn, application_id: int = IdPath()):
    services.test_task_report_blocker(application_id=application_id, user=request.auth, question=payload.question)
    return _test_task(request, application_id)


@router.post("/applications/{application_id}/test-task/answer", response={200: TestTaskOut, **ERRORS},
             summary="質問に回答して時計を再開する（発注者）")
def answer_blocker(request, payload: AnswerIn, application_id: int = IdPath()):
    services.test_task_answer_blocker(application_id=application_id, user=request.auth, answer=payload.answer)
    return _test_task(request, application_id)


@router.post("/applications/{application_id}/test-task/submission", response={200: TestTaskOut, **ERRORS},
             summary="テスト課題を提出する（応募者）")
def submit_test_task(request, payload: SubmissionIn, application_id: int = IdPath()):
    services.test_task_submit(application_id=application_id, user=request.auth, body=payload.body,
                              links="\n".join(payload.links))
    return _test_task(request, application_id)


@router.post("/applications/{application_id}/test-task/evaluation", response={200: TestTaskOut, **ERRORS},
             summary="テスト課題を評価する（発注者: pass / fail）")
def evaluate_test_task(request, payload: EvaluationIn, application_id: int = IdPath()):
    services.test_task_evaluate(application_id=application_id, user=request.auth, result=payload.result,
                                comment=payload.comment)
    return _test_task(request, application_id)


# --- scouts ---------------------------------------------------------------------------------------------------

class ScoutIn(Schema):
    job_id: int = Field(..., ge=1, le=MAX_ID)
    worker_id: int = Field(..., ge=1, le=MAX_ID)
    message: str = Field(..., max_length=2_000)


class ScoutOut(Schema):
    id: int
    job: JobRef
    client: UserBrief
    worker: UserBrief
    message: str
    state: str
    state_label: str
    thread_id: int | None
    application_id: int | None
    created_at: LocalDateTime
    allowed_actions: list[ActionOut]

    @staticmethod
    def resolve_client(obj):
        return obj.job.client

    @staticmethod
    def resolve_allowed_actions(obj, context):
        user = context["request"].auth
        roles = [Actor.WORKER] if user.pk == obj.worker_id else _role(user, obj.job.client_id)
        # `apply` is done by applying to the job (POST /api/jobs/{id}/applications), not here
        return actions_out([t for t in SCOUT_FLOW.allowed(obj.state, roles) if t.action != "apply"])


class ScoutFilter(Schema):
    box: Literal["received", "sent"] = Field("received", description="received: 届いたスカウト、sent: 送ったスカウト")


@router.get("/scouts", response=list[ScoutOut], summary="スカウト一覧（届いた・送った）")
@paginate(Pagination)
def list_scouts(request, filters: Query[ScoutFilter]):
    if filters.box == "sent":
        return selectors.scouts_sent(user=request.auth)
    return selectors.scouts_for(user=request.auth)


@router.post("/scouts", response={201: ScoutOut, **ERRORS}, summary="ワーカーを募集中の仕事にスカウトする")
def send_scout(request, payload: ScoutIn):
    scout = services.scout_send(user=request.auth, job_id=payload.job_id, worker_id=payload.worker_id,
                                message=payload.message)
    return Status(201, selectors.scout_get(scout_id=scout.pk, user=request.auth))


@router.get("/scouts/{scout_id}", response={200: ScoutOut, **ERRORS}, summary="スカウトの詳細（当事者のみ）")
def get_scout(request, scout_id: int = IdPath()):
    return selectors.scout_get(scout_id=scout_id, user=request.auth)


@router.post("/scouts/{scout_id}/decline", response={200: ScoutOut, **ERRORS}, summary="スカウトを辞退する（ワーカー）")
def decline_scout(request, scout_id: int = IdPath()):
    selectors.scout_get(scout_id=scout_id, user=request.auth)  # 404 for non-parties before anything else
    services.scout_decline(scout_id=scout_id, user=request.auth)
    return selectors.scout_get(scout_id=scout_id, user=request.auth)
