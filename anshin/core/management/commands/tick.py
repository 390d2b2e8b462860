import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from anshin.core import clock, timers


class Command(BaseCommand):
    help = "Settle every due timer once (deemed acceptance, lapses, reminders) and print what was done."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=0, help="keep sweeping every N seconds (make run)")

    def handle(self, *args, loop: float, **options):
        while True:
            done = timers.sweep()
            for line in done:
                self.stdout.write(line)
            if not loop:
                self.stdout.write(
                    f"tick {timezone.localtime(clock.now()):%Y-%m-%d %H:%M:%S%z}: {len(done)} timer(s) settled"
                )
                return
            time.sleep(loop)
