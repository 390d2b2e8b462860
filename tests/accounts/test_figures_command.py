"""Profile figures are refreshed by their own process in production (`manage.py figures`), so a very busy
person's figures never hold up the clock: `tick --no-figures` settles timers and leaves stale snapshots alone."""

from io import StringIO

import time_machine
from django.core.management import call_command

from anshin.accounts.figures import figures_of
from anshin.accounts.models import FiguresSnapshot
from anshin.messaging.services import message_send
from tests.accounts.test_figures import NOW, thread


def test_tick_without_figures_leaves_stale_snapshots_to_the_figures_command(worker, make_user):
    with time_machine.travel(NOW, tick=False):
        t = thread(make_user("a"), worker)
        figures_of(worker)  # a fresh snapshot
        message_send(thread=t, sender=worker, body="よろしくお願いします")  # marks it stale
        assert FiguresSnapshot.objects.get(user=worker).stale

        out = StringIO()
        call_command("tick", "--no-mail", "--no-figures", stdout=out)
        assert FiguresSnapshot.objects.get(user=worker).stale
        assert "figures" not in out.getvalue()

        out = StringIO()
        call_command("figures", stdout=out)
        assert not FiguresSnapshot.objects.get(user=worker).stale
        assert "profile(s) refreshed" in out.getvalue()
