"""Reading jobs: list with Japanese substring search, filters, sort; an applicant list for the client."""

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from anshin import rules
from anshin.core import clock
from anshin.core.access import get_for_party
from anshin.core.errors import NotFound
from anshin.core.search import substring_search
from anshin.jobs.models import Application, Job, Scout, TestTask

SORTS = {"new": ("-created_at", "-id"), "deadline": ("application_deadline", "-id")}


def job_search(*, q: str = "", category: str = "", budget_min: int | None = None, budget_max: int | None = None,
               sort: str = "new", include_closed: bool = False):
    """Substring search on title and description (Japanese has no word breaks, so no stemming). Each job
    carries `application_count`, a correlated subquery, and its `client` is prefetched: both then cost only for
    the rows of the page (a JOIN would run for every match before the sort and LIMIT)."""
    jobs = with_application_count(Job.objects.prefetch_related("client"))
    if not include_closed:
        jobs = jobs.filter(state="open", application_deadline__gte=clock.today())
    jobs = substring_search(jobs, q, ("title", "description", "skills"))
    if category:
        jobs = jobs.filter(category=category)
    if budget_min is not None:
        jobs = jobs.filter(budget_max__gte=budget_min)
    if budget_max is not None:
        jobs = jobs.filter(Q(budget_min__lte=budget_max) | Q(budget_min__isnull=True, budget_max__lte=budget_max))
    return jobs.order_by(*SORTS.get(sort, SORTS["new"]))


def with_application_count(jobs):
    """Each job with `application_count`, a correlated subquery: it runs for the rows of the page only, where a
    JOIN + GROUP BY would count the applications of every matching job before the LIMIT."""
    applications = (Application.objects.filter(job=OuterRef("pk")).order_by().values("job")
                    .annotate(n=Count("pk")).values("n"))
    return jobs.annotate(application_count=Coalesce(Subquery(applications, output_field=IntegerField()), 0))


def open_jobs_of(client, limit: int = 20) -> list[Job]:
    """A client's jobs still taking applications, newest first (the profile page)."""
    jobs = Job.objects.filter(client=client, state="open", application_deadline__gte=clock.today())
    return list(with_application_count(jobs).order_by("-created_at", "-id")[:limit])


def job_applicants(*, job: Job):
    """The client's applicant list, each with its test task (if any). Test tasks whose due time has come are
    settled first (a batch; the sweeper does the rest), so nobody sees a clock that has already run out."""
    _settle_due_test_tasks(TestTask.objects.filter(application__job=job))
    return job.applications.select_related("worker", "worker__presence", "thread", "test_task").order_by(
        "-created_at")


def attach_figures(objects, *, person: str, to: str, compute: bool = True) -> list:
    """Set `obj.<to>` to the profile figures (anshin.accounts.figures) of `obj.<person>` for each object — the
    figures next to names in lists, for the whole page in a fixed number of queries. Returns the objects.
    `compute=False`: stored snapshots only (see `figures_for`)."""
    from anshin.accounts.figures import figures_for

    objects = list(objects)
    figures = figures_for((getattr(obj, f"{person}_id") for obj in objects), compute=compute)
    for obj in objects:
        setattr(obj, to, figures[getattr(obj, f"{person}_id")])
    return objects


def _settle_due_test_tasks(queryset) -> None:
    from anshin.jobs.services import test_task_settle_due

    for pk in list(queryset.filter(due_at__lte=clock.now()).values_list("pk", flat=True)[: rules.TICK_BATCH_SIZE]):
        test_task_settle_due(pk)


def applications_for(*, user):
    """The worker's own applications."""
    return (Application.objects.filter(worker=user).select_related("job", "job__client", "thread")
            .order_by("-created_at"))


APPLICATION_RELATED = ("job", "job__client", "worker", "thread", "test_task")


def application_get(*, application_id: int, user) -> Application:
    """One application for a party (404 otherwise), its test task settled if its due time has come."""
    application = get_for_party(Application.objects.select_related(*APPLICATION_RELATED), user, pk=application_id)
    task = test_task_of(application)
    if task is not None and task.due_at and task.due_at <= clock.now():
        _settle_due_test_tasks(TestTask.objects.filter(pk=task.pk))
        application = get_for_party(Application.objects.select_related(*APPLICATION_RELATED), user,
                                    pk=application_id)
    return application


def test_task_of(application: Application) -> TestTask | None:
    return getattr(application, "test_task", None)  # reverse one-to-one: missing raises, getattr gives None


def test_task_get(*, application_id: int, user) -> TestTask:
    """The test task of an application, for its parties only (404 for anyone else, or when there is none)."""
    task = test_task_of(application_get(application_id=application_id, user=user))
    if task is None:
        raise NotFound("この応募にはテスト課題がありません。")
    return task


def scouts_for(*, user):
    """Scouts I received (as a worker), newest first."""
    return (Scout.objects.filter(worker=user).select_related("job", "job__client", "worker", "thread", "application")
            .order_by("-created_at", "-id"))


def scouts_sent(*, user):
    """Scouts I sent (as a client), newest first."""
    return (Scout.objects.filter(job__client=user).select_related("job", "job__client", "worker", "worker__presence",
                                                                  "thread", "application")
            .order_by("-created_at", "-id"))


def scout_get(*, scout_id: int, user) -> Scout:
    return get_for_party(Scout.objects.select_related("job", "job__client", "worker", "thread", "application"),
                         user, pk=scout_id)


def scout_pending(*, job: Job, user) -> Scout | None:
    """The scout waiting for this worker on this job (shown on the job page)."""
    if not user.is_authenticated:
        return None
    return Scout.objects.filter(job=job, worker=user, state="sent").select_related("thread").first()


def scoutable_jobs(*, client, worker):
    """The client's open jobs the worker has neither been scouted for nor applied to (the profile's form)."""
    return (
        Job.objects.filter(client=client, state="open", application_deadline__gte=clock.today())
        .exclude(scouts__worker=worker)
        .exclude(applications__worker=worker)
        .order_by("-created_at")[:50]
    )
