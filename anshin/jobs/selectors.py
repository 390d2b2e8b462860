"""Reading jobs: list with Japanese substring search, filters, sort; an applicant list for the client."""

from django.db.models import Count, Q

from anshin.core import clock
from anshin.core.access import get_for_party
from anshin.jobs.models import Application, Job

SORTS = {"new": ("-created_at", "-id"), "deadline": ("application_deadline", "-id")}


def job_search(*, q: str = "", category: str = "", budget_min: int | None = None, budget_max: int | None = None,
               sort: str = "new", include_closed: bool = False):
    """Substring search on title and description (Japanese has no word breaks, so no stemming)."""
    jobs = Job.objects.select_related("client").annotate(application_count=Count("applications"))
    if not include_closed:
        jobs = jobs.filter(state="open", application_deadline__gte=clock.today())
    for word in q.split()[:5]:
        jobs = jobs.filter(Q(title__icontains=word) | Q(description__icontains=word) | Q(skills__icontains=word))
    if category:
        jobs = jobs.filter(category=category)
    if budget_min is not None:
        jobs = jobs.filter(budget_max__gte=budget_min)
    if budget_max is not None:
        jobs = jobs.filter(Q(budget_min__lte=budget_max) | Q(budget_min__isnull=True, budget_max__lte=budget_max))
    return jobs.order_by(*SORTS.get(sort, SORTS["new"]))


def job_applicants(*, job: Job):
    return job.applications.select_related("worker", "worker__presence", "thread").order_by("-created_at")


def applications_for(*, user):
    """The worker's own applications."""
    return (Application.objects.filter(worker=user).select_related("job", "job__client", "thread")
            .order_by("-created_at"))


def application_get(*, application_id: int, user) -> Application:
    return get_for_party(Application.objects.select_related("job", "job__client", "worker", "thread"), user,
                         pk=application_id)
