"""Business days in Japan: weekends and public holidays (振替休日 included) are not business days."""

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from django.utils import timezone


@lru_cache(maxsize=16)
def _jp_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("JP", years=year)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _jp_holidays(day.year)


def add_business_days(start: datetime, days: int) -> datetime:
    """The same Tokyo time `days` business days later (the start day itself never counts). Days are counted
    on the Japanese calendar: 08:00 JST on a Friday is still Friday, though UTC says Thursday."""
    current = timezone.localtime(start) if timezone.is_aware(start) else start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_business_day(current.date()):
            remaining -= 1
    return current
