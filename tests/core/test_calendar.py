"""Business days in Japan: weekends and public holidays (振替休日 and 国民の休日 included) do not count."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from anshin.core.calendar import add_business_days, is_business_day

TOKYO = ZoneInfo("Asia/Tokyo")


def at(day: date, hour: int = 15, minute: int = 30) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TOKYO)


def test_silver_week_2026_friday_plus_one_business_day_is_the_next_thursday():
    # 9/19 Sat, 9/20 Sun, 9/21 敬老の日, 9/22 国民の休日 (between two holidays), 9/23 秋分の日
    for day in (date(2026, 9, 21), date(2026, 9, 22), date(2026, 9, 23)):
        assert not is_business_day(day), day
    result = add_business_days(at(date(2026, 9, 18)), 1)
    assert result == at(date(2026, 9, 24))
    assert result.strftime("%A") == "Thursday"


@pytest.mark.parametrize(("start", "days", "expected"), [
    (date(2026, 9, 18), 0, date(2026, 9, 18)),       # zero days: the same moment
    (date(2026, 9, 18), 2, date(2026, 9, 25)),
    (date(2026, 9, 19), 1, date(2026, 9, 24)),       # starting on a Saturday
    (date(2026, 4, 28), 3, date(2026, 5, 7)),        # Golden Week: 4/29, 5/3-5/6 (5/6 振替休日)
    (date(2026, 12, 30), 1, date(2026, 12, 31)),     # year-end is not a public holiday
    (date(2027, 1, 8), 1, date(2027, 1, 12)),        # 1/11 成人の日 (second Monday)
    (date(2026, 3, 2), 5, date(2026, 3, 9)),         # an ordinary week
])
def test_add_business_days(start, days, expected):
    assert add_business_days(at(start), days) == at(expected)


def test_the_local_time_of_day_is_kept():
    result = add_business_days(at(date(2026, 9, 18), 23, 59), 1)
    assert (result.hour, result.minute, result.tzinfo) == (23, 59, TOKYO)


@pytest.mark.parametrize(("day", "business"), [
    (date(2026, 1, 1), False),   # 元日
    (date(2026, 2, 11), False),  # 建国記念の日
    (date(2026, 2, 23), False),  # 天皇誕生日
    (date(2026, 5, 6), False),   # 振替休日 for 5/3 (Sunday)
    (date(2026, 11, 3), False),  # 文化の日
    (date(2026, 11, 4), True),
    (date(2026, 9, 24), True),
    (date(2026, 9, 26), False),  # Saturday
])
def test_is_business_day(day, business):
    assert is_business_day(day) is business
