import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from anshin.core import clock
from anshin.notifications import mailer


def summary(done) -> str:
    return ", ".join(f"{count} {outcome}" for outcome, count in sorted(done.items()))


class Command(BaseCommand):
    help = ("Send the notification e-mails that are due (the outbox) once, or every N seconds with --loop. "
            "Safe to run on many machines at once (SKIP LOCKED on PostgreSQL).")

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=0, help="keep draining every N seconds (production)")

    def handle(self, *args, loop: float, **options):
        while True:
            done = mailer.drain()
            if done or not loop:
                self.stdout.write(f"mailer {timezone.localtime(clock.now()):%Y-%m-%d %H:%M:%S%z}: "
                                  f"{summary(done) or 'nothing due'}")
            if not loop:
                return
            time.sleep(loop)
