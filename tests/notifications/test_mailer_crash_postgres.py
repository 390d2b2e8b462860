"""A mail worker killed between "the server took the mail" and "marked sent" loses no mail and sends it again
at most once, with the same Message-ID (so the receiving side can drop the copy).

The worker runs as a real separate process (`manage.py mailer`) against the same PostgreSQL test database and
a real SMTP server on loopback. The server stores the first message and holds its reply; the test SIGKILLs
the worker then. Every wait has a timeout, so a broken run fails instead of hanging CI."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction

from anshin.notifications import mailer
from anshin.notifications.models import Notification
from anshin.notifications.services import notify
from tests.notifications.smtp import smtp_server

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WAIT = 60  # seconds, for anything that should take well under one


def worker_env(port: int) -> dict:
    db = connection.settings_dict
    url = (f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@{db['HOST'] or '127.0.0.1'}:"
           f"{db['PORT'] or 5432}/{db['NAME']}")
    env = {k: v for k, v in os.environ.items() if k not in ("ANSHIN_ALLOW_TIME_TRAVEL", "DJANGO_DEBUG")}
    env.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="anshin.settings",
               EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1",
               EMAIL_PORT=str(port), EMAIL_TIMEOUT=str(WAIT), PYTHONUNBUFFERED="1")
    return env


def mailer_command() -> list[str]:
    return [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "mailer"]


def wait_until_unlocked(pk: int) -> None:
    """PostgreSQL rolls the killed worker's transaction back (releasing the row) once it sees the socket close."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with transaction.atomic():
            if Notification.objects.select_for_update(skip_locked=True).filter(pk=pk).exists():
                return
        time.sleep(0.1)
    raise AssertionError("the killed worker's row lock was never released")


def test_killed_worker_resends_once_with_the_same_message_id(worker, client_user):
    first = notify(user=worker, kind="contract.deliver", title="「ロゴデザイン」納品されました",
                   body="検収してください。", url="/contracts/1/", dedupe_key="crash:first")
    second = notify(user=client_user, kind="order.purchase", title="「バナー制作」購入されました",
                    body="注文に返答してください。", url="/orders/2/", dedupe_key="crash:second")

    with smtp_server() as (_host, port, mailbox):
        env = worker_env(port)
        mailbox.hold_next = True
        process = subprocess.Popen(mailer_command(), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + WAIT
            while not mailbox.got_one.wait(0.1):
                if process.poll() is not None:  # it ended without sending: show why
                    raise AssertionError(process.stderr.read().decode()[-3000:])
                assert time.monotonic() < deadline, "the worker never delivered the first mail"
            process.send_signal(signal.SIGKILL)  # the server has the mail; the worker never hears "250"
            process.wait(WAIT)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(WAIT)
            mailbox.release.set()
        assert process.returncode == -signal.SIGKILL
        assert len(mailbox.received) == 1

        wait_until_unlocked(first.pk)
        first.refresh_from_db()
        assert first.emailed_at is None and first.email_state == Notification.EmailState.PENDING  # not lost
        second.refresh_from_db()
        assert second.emailed_at is None

        again = subprocess.run(mailer_command(), env=env, capture_output=True, text=True, timeout=WAIT)
        assert again.returncode == 0, again.stderr
        assert "2 sent" in again.stdout

        third = subprocess.run(mailer_command(), env=env, capture_output=True, text=True, timeout=WAIT)
        assert third.returncode == 0, third.stderr
        assert "nothing due" in third.stdout

        messages = mailbox.messages()

    ids = [m["Message-ID"] for m in messages]
    assert len(messages) == 3  # the first mail twice, the second once, nothing more
    assert ids.count(mailer.message_id(first)) == 2
    assert ids.count(mailer.message_id(second)) == 1
    copies = [m for m in messages if m["Message-ID"] == mailer.message_id(first)]
    assert copies[0].get_body(("plain",)).get_content() == copies[1].get_body(("plain",)).get_content()
    for row in (first, second):
        row.refresh_from_db()
        assert row.email_state == Notification.EmailState.SENT and row.emailed_at is not None
