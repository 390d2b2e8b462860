import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from anshin.accounts.figures import figures_refresh_due
from anshin.core import clock, timers
from anshin.notifications import mailer
from anshin.notifications.management.commands.mailer import summary


class Command(BaseCommand):
    help = ("Settle every due timer once (deemed acceptance, lapses, reminders), refresh stale profile figures "
            "(unless --no-figures), send the e-mails that are due (the notification outbox, unless --no-mail) and "
            "print what was done.")

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=0, help="keep sweeping every N seconds (make run)")
        parser.add_argument("--no-mail", action="store_true",
                            help="leave the e-mail outbox to `manage.py mailer` (production)")
        parser.add_argument("--no-figures", action="store_true",
                            help="leave profile figures to `manage.py figures` (production: they can take seconds)")

    def handle(self, *args, loop: float, no_mail: bool = False, no_figures: bool = False, **options):
        while True:
            done = timers.sweep()
            for line in done:
                self.stdout.write(line)
            # profile figures changed since, or a day old: off the request path
            refreshed = 0 if no_figures else figures_refresh_due()
            if refreshed:
                self.stdout.write(f"figures: {refreshed} profile(s) refreshed")
            mailed = {} if no_mail else mailer.drain()  # after the sweep: the reminders it wrote go out now
            if mailed:
                self.stdout.write(f"mail: {summary(mailed)}")
            if not loop:
                self.stdout.write(
                    f"tick {timezone.localtime(clock.now()):%Y-%m-%d %H:%M:%S%z}: {len(done)} timer(s) settled"
                )
                return
            time.sleep(loop)
