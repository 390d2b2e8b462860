import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from anshin.accounts.figures import figures_refresh_due
from anshin.core import clock


class Command(BaseCommand):
    help = ("Compute again the profile-figure snapshots that are stale or old, once, or every N seconds with "
            "--loop. In production it runs beside `tick --no-figures`: a very busy person's figures take seconds "
            "to compute, and timers must never wait for them.")

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=0, help="keep refreshing every N seconds (production)")

    def handle(self, *args, loop: float, **options):
        while True:
            refreshed = figures_refresh_due()
            if refreshed or not loop:
                self.stdout.write(f"figures {timezone.localtime(clock.now()):%Y-%m-%d %H:%M:%S%z}: "
                                  f"{refreshed} profile(s) refreshed")
            if not loop:
                return
            time.sleep(loop if not refreshed else 0)  # a backlog is worked off without pausing
