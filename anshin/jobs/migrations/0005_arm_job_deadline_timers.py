"""Open jobs get the timer JOB_FLOW now arms on `open`: due at the end of the deadline day (00:00 JST the next
day), action `expire`. Jobs already past their deadline are not closed here: the next `tick` closes them through
the flow, so each gets its audit event and its client the notification."""

from datetime import datetime, time, timedelta

from django.db import migrations
from django.utils import timezone


def forwards(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    tz = timezone.get_default_timezone()
    open_jobs = Job.objects.filter(state="open")
    for day in open_jobs.order_by().values_list("application_deadline", flat=True).distinct():
        end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), tz)
        open_jobs.filter(application_deadline=day).update(due_at=end, timer_action="expire", remind_at=None)


def backwards(apps, schema_editor):
    apps.get_model("jobs", "Job").objects.filter(timer_action="expire").update(due_at=None, timer_action="")


class Migration(migrations.Migration):
    dependencies = [("jobs", "0004_client_open_jobs_index")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
