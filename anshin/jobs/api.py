"""Jobs and applications API: search, post, edit, close/reopen; apply, list, shortlist, decline, withdraw."""

from datetime import date
from typing import Literal

from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import StrictInt

from anshin.accounts.api import UserBrief, UserOut
from anshin.core.api_auth import ERRORS, ActionOut, ErrorOut, IdPath, LocalDateTime, actions_out
from anshin.core.errors import NotFound
from anshin.core.flows import Actor
from anshin.jobs import selectors, services
from anshin.jobs.flow import APPLICATION_FLOW, JOB_FLOW
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
        return actions_out(JOB_FLOW.allowed(obj.state, _role(context["request"].auth, obj.client_id)))


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
