"""Template helpers shared by every page: `{% load anshin %}`.

- `{{ amount|yen }}` → ¥12,000
- `{{ moment|relative }}` → 約23時間前 (from the Anshin clock), `{{ moment|exact }}` → 2026/07/19 10:31 (Asia/Tokyo)
- `{% last_access user %}` → the user's last access as relative time with the exact time on hover, or 非公開
"""

from django import template
from django.utils.html import format_html

from anshin.accounts import presence
from anshin.core.money import yen as _yen

register = template.Library()


@register.filter
def yen(amount):
    if amount is None or amount == "":
        return ""
    try:
        return _yen(int(amount))
    except (TypeError, ValueError):
        return ""


@register.filter
def relative(moment):
    return presence.relative(moment)


@register.filter
def exact(moment):
    return presence.exact(moment)


@register.simple_tag
def last_access(user):
    """`<span title="2026/07/19 10:31">約23時間前</span>`, or 「非公開」 when the user hides it."""
    if user.hide_last_access:
        return format_html('<span class="last-access">{}</span>', "非公開")
    moment = presence.last_seen(user)
    if moment is None:
        return format_html('<span class="last-access">{}</span>', "記録なし")
    return format_html(
        '<time class="last-access" datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        presence.exact(moment),
        presence.relative(moment),
    )


@register.filter
def signed_yen(amount):
    """+¥27,000 / −¥3,000 for ledger histories."""
    if amount is None or amount == "":
        return ""
    amount = int(amount)
    return f"+{_yen(amount)}" if amount > 0 else f"−{_yen(-amount)}" if amount < 0 else _yen(0)


@register.filter
def days_left(day):
    """For a deadline date: 「あと3日」, 「今日まで」 or 「締切済み」 (from the Anshin clock, Asia/Tokyo)."""
    if not day:
        return ""
    from django.utils import timezone

    from anshin.core import clock

    today = timezone.localtime(clock.now()).date()
    delta = (day - today).days
    if delta < 0:
        return "締切済み"
    if delta == 0:
        return "今日まで"
    return f"あと{delta}日"


@register.filter
def split_skills(text):
    """「WordPress, 画像編集、翻訳」 → ["WordPress", "画像編集", "翻訳"]."""
    return [s.strip() for s in (text or "").replace("、", ",").split(",") if s.strip()]
