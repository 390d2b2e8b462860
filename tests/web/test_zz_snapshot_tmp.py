# TEMPORARY (helper i18n): snapshot of rendered pages in Japanese, removed after use.
import os, re, pathlib
from datetime import datetime, timezone as tz
import pytest, time_machine
from django.test import Client
from tests import factories
from anshin.messaging import services as messaging

OUT = pathlib.Path(os.environ.get("SNAP_DIR", "/tmp/i18nwork/snap"))

def c(user=None, **kw):
    cl = Client(**kw)
    if user: cl.force_login(user)
    return cl

@pytest.mark.django_db
def test_snapshot(client_user, worker, stranger, make_user):
    OUT.mkdir(parents=True, exist_ok=True)
    with time_machine.travel(datetime(2026, 3, 2, 1, 0, tzinfo=tz.utc), tick=False):
        ct = factories.contract(client_user, worker, state="delivered")
        app = ct.application if hasattr(ct, "application") else None
        other = factories.application(client_user, stranger)
        messaging.message_send(thread=other.thread, sender=stranger, body="こんにちは")
        third = factories.application(client_user, make_user("w3", display_name="三人目"), job=other.job)
        from anshin.jobs import services as jobs
        jobs.application_transition(application_id=third.pk, user=client_user, action="decline", reason="budget")
        pages = {
            "home": (None, "/"), "home_q": (None, "/?q=zzz"),
            "job_anon": (None, f"/jobs/{other.job.pk}/"),
            "job_client": (client_user, f"/jobs/{other.job.pk}/"),
            "job_worker": (stranger, f"/jobs/{other.job.pk}/"),
            "job_new": (worker, f"/jobs/{other.job.pk}/"),
            "contract_c": (client_user, f"/contracts/{ct.pk}/"),
            "contract_w": (worker, f"/contracts/{ct.pk}/"),
            "contracts": (worker, "/contracts/"),
            "inbox_c": (client_user, "/messages/"),
            "inbox_s": (stranger, "/messages/"),
            "thread": (stranger, f"/messages/{other.thread.pk}/"),
            "thread_c": (client_user, f"/messages/{ct.thread.pk}/"),
            "applicants": (client_user, f"/jobs/{other.job.pk}/applicants/"),
            "application": (client_user, f"/applications/{other.pk}/"),
            "my_apps": (stranger, "/applications/"),
            "profile": (client_user, f"/users/{client_user.pk}/"),
            "balance": (worker, "/balance/"),
            "edit": (worker, "/settings/profile/"),
            "notifications": (worker, "/notifications/"),
            "post": (client_user, "/jobs/new/"), "job_edit": (client_user, f"/jobs/{other.job.pk}/edit/"), "poll": (stranger, f"/messages/{other.thread.pk}/poll/?after=0"), "app_w": (stranger, f"/applications/{other.pk}/"), "declined": (make_user("w3b") and client_user, f"/applications/{third.pk}/"), "profile_w": (client_user, f"/users/{worker.pk}/"),
            "offer": (client_user, f"/applications/{other.pk}/offer/"),
        }
        from django.urls import reverse
        for name, (user, url) in pages.items():
            r = c(user).get(url)
            body = r.content.decode()
            body = re.sub(r'(csrfmiddlewaretoken" value=")[^"]+', r'\1X', body)
            body = re.sub(r'("X-CSRFToken": ")[^"]+', r'\1X', body)
            (OUT / f"{name}.html").write_text(f"{r.status_code} {url}\n" + body)
