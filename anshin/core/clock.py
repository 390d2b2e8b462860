"""The only source of "now". Time travel (demos, acceptance tests) shifts it by an offset kept in a file,
so the web server and the tick process agree; production never reads the file."""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

_cache: dict = {"mtime": None, "offset": timedelta(0)}


def offset() -> timedelta:
    if not settings.ANSHIN_ALLOW_TIME_TRAVEL:
        return timedelta(0)
    path = settings.ANSHIN_CLOCK_FILE
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return timedelta(0)
    if mtime != _cache["mtime"]:
        text = path.read_text().strip() or "0"
        _cache.update(mtime=mtime, offset=timedelta(seconds=float(text)))
    return _cache["offset"]


def now() -> datetime:
    return timezone.now() + offset()


def today() -> date:
    """Today in Japan (Asia/Tokyo): before 09:00 JST the UTC date is still yesterday."""
    return timezone.localdate(now())


def travel(by: timedelta) -> timedelta:
    """Shift the shared clock; returns the new total offset."""
    if not settings.ANSHIN_ALLOW_TIME_TRAVEL:
        raise PermissionError("Time travel is disabled (set ANSHIN_ALLOW_TIME_TRAVEL=1, never in production).")
    total = offset() + by
    path = settings.ANSHIN_CLOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(str(total.total_seconds()))
    _cache.update(mtime=path.stat().st_mtime_ns, offset=total)  # this process sees it at once, whatever the mtime
    return total


def reset() -> None:
    settings.ANSHIN_CLOCK_FILE.unlink(missing_ok=True)
    _cache.update(mtime=None, offset=timedelta(0))
