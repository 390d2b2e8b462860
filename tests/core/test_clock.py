"""The shared demo clock: `manage.py timetravel` shifts `clock.now()` for demos and acceptance tests, and is
refused unless ANSHIN_ALLOW_TIME_TRAVEL is on (never in production)."""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from anshin.core import clock

START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


@pytest.fixture
def frozen():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def travel(shift: str) -> str:
    out = StringIO()
    # "--" so that argparse takes a backward shift such as -30m for a value, not an option
    call_command("timetravel", "--", shift, stdout=out)
    return out.getvalue()


def test_time_travel_is_refused_unless_allowed(settings, frozen):
    settings.ANSHIN_ALLOW_TIME_TRAVEL = False
    with pytest.raises(CommandError, match="ANSHIN_ALLOW_TIME_TRAVEL"):
        travel("+7d")
    assert not settings.ANSHIN_CLOCK_FILE.exists()
    assert clock.now() == START
    with pytest.raises(PermissionError):
        clock.travel(timedelta(days=1))


def test_a_leftover_clock_file_is_ignored_when_time_travel_is_off(settings, frozen):
    settings.ANSHIN_CLOCK_FILE.write_text(str(timedelta(days=30).total_seconds()))
    settings.ANSHIN_ALLOW_TIME_TRAVEL = False
    assert clock.offset() == timedelta(0)
    assert clock.now() == START


def test_time_travel_shifts_now_when_allowed(settings, frozen):
    settings.ANSHIN_ALLOW_TIME_TRAVEL = True
    out = travel("+7d")
    assert clock.offset() == timedelta(days=7)
    assert clock.now() == START + timedelta(days=7)
    assert "clock now 2026-04-08 10:00:00+0900" in out
    frozen.shift(timedelta(hours=1))  # real time keeps running under the offset
    assert clock.now() == START + timedelta(days=7, hours=1)


def test_shifts_add_up_and_reset_goes_back_to_real_time(settings, frozen):
    settings.ANSHIN_ALLOW_TIME_TRAVEL = True
    travel("+7d")
    travel("+48h")
    travel("-30m")
    travel("+15s")
    assert clock.offset() == timedelta(days=9, minutes=-30, seconds=15)
    assert clock.now() == START + clock.offset()
    travel("reset")
    assert clock.offset() == timedelta(0)
    assert clock.now() == START
    assert not settings.ANSHIN_CLOCK_FILE.exists()


def test_another_process_sees_the_shift_through_the_file(settings, frozen):
    """The web server and `tick` agree: the offset lives in a file, re-read when it changes."""
    settings.ANSHIN_ALLOW_TIME_TRAVEL = True
    settings.ANSHIN_CLOCK_FILE.write_text(str(timedelta(days=3).total_seconds()))
    assert clock.now() == START + timedelta(days=3)


@pytest.mark.parametrize("shift", ["7d", "+7", "+7w", "+1.5d", "tomorrow", " "])
def test_a_malformed_shift_is_refused(settings, shift):
    settings.ANSHIN_ALLOW_TIME_TRAVEL = True
    with pytest.raises(CommandError, match=r"\+7d"):
        travel(shift)
    assert clock.offset() == timedelta(0)
