"""Last access: written at most once a minute per user, shown as relative time with the exact time."""

from datetime import datetime

from django.utils import timezone, translation
from django.utils.timesince import timesince

from anshin import rules
from anshin.accounts.models import Presence
from anshin.core import clock


def presence_touch(user, session=None) -> None:
    now = clock.now()
    if session is not None:
        last = session.get("_presence_at")
        if last and now.timestamp() - last < rules.PRESENCE_WRITE_EVERY.total_seconds():
            return
        session["_presence_at"] = now.timestamp()
    Presence.objects.update_or_create(user=user, defaults={"last_seen_at": now})


def last_seen(user) -> datetime | None:
    try:
        return user.presence.last_seen_at
    except Presence.DoesNotExist:
        return None


def relative(moment: datetime | None) -> str:
    """「約23時間前」 style text, or 「たった今」 under a minute."""
    if moment is None:
        return "記録なし"
    now = clock.now()
    if (now - moment).total_seconds() < 60:
        return "たった今"
    if translation.get_language() == "ja":
        amount = timesince(moment, now, depth=1)
    else:
        with translation.override("ja"):  # the 「約…前」 frame is Japanese whatever the page language
            amount = timesince(moment, now, depth=1)
    # Some Django catalogs put a (non-breaking) space between number and unit: 「23\xa0時間」 → 「23時間」.
    return f"約{amount.replace(chr(0xa0), '').replace(' ', '')}前"


def exact(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return timezone.localtime(moment).strftime("%Y/%m/%d %H:%M")
