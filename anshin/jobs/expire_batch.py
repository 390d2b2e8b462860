"""`tick`'s batch path for 募集終了: every job's deadline ends at midnight in Japan, so a day's expiring jobs all
fall due at 00:00 JST. Many jobs per transaction, with exactly the effects of the per-row path
(`services.job_settle_due`): state and timer, audit event, the client's notice and the waiting applicants'.

Claimed with `FOR UPDATE SKIP LOCKED` (PostgreSQL): two sweepers take disjoint batches, and a client closing
the job or setting a new deadline at the same instant either goes first (the claim no longer finds the job
due, or skips it) or waits and finds it closed."""

from collections import defaultdict

from django.db import transaction
from django.db.models import Count

from anshin.core import clock, flows, timers
from anshin.core.flows import Actor
from anshin.jobs.models import Application, Job
from anshin.jobs.services import WAITING, expiry_notices, expiry_payload
from anshin.notifications.services import notify_many

ACTION = "expire"


def jobs_expire_batch(limit: int) -> list[str]:
    """Close up to `limit` jobs whose deadline day has ended, in one transaction. Returns what was done, like
    the per-row path ("job 12: expire"); empty when none is due."""
    with transaction.atomic():
        jobs = list(
            timers.lock_for_update(Job.objects.select_related("client"))
            .filter(state="open", timer_action=ACTION, due_at__lte=clock.now())
            .order_by("due_at", "pk")[:limit]
        )
        if not jobs:
            return []
        flows.apply_many(jobs, ACTION, actor=Actor.SYSTEM, payload=expiry_payload)
        applications = Application.objects.filter(job_id__in=[job.pk for job in jobs]).order_by()
        applicants = dict(applications.values_list("job_id").annotate(Count("pk")))
        waiting = defaultdict(list)
        for application in applications.filter(state__in=WAITING).select_related("worker").order_by("pk"):
            waiting[application.job_id].append(application)
        notify_many([one for job in jobs
                     for one in expiry_notices(job, applicants.get(job.pk, 0), waiting[job.pk])])
    return [f"job {job.pk}: {ACTION}" for job in jobs]
