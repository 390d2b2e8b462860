import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from anshin.core import clock

UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_shift(text: str) -> timedelta:
    match = re.fullmatch(r"([+-])(\d+)([dhms])", text.strip())
    if not match:
        raise CommandError("Use +7d, +48h, +30m, -1d … (a sign, a number, one of d h m s).")
    sign, number, unit = match.groups()
    delta = timedelta(**{UNITS[unit]: int(number)})
    return -delta if sign == "-" else delta


class Command(BaseCommand):
    help = "Shift the shared demo clock (refused unless ANSHIN_ALLOW_TIME_TRAVEL=1). `reset` goes back to real time."

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser._negative_number_matcher = re.compile(r"^-\d+[dhms]?$")  # "-30m" is a value, not an option
        return parser

    def add_arguments(self, parser):
        parser.add_argument("shift", help="+7d, +48h, -30m or reset")

    def handle(self, *args, shift: str, **options):
        try:
            if shift == "reset":
                clock.travel(timedelta(0))
                clock.reset()
            else:
                clock.travel(parse_shift(shift))
        except PermissionError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"clock now {timezone.localtime(clock.now()):%Y-%m-%d %H:%M:%S%z} (offset {clock.offset()})")
