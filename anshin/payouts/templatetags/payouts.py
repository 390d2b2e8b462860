"""For pages outside the app that show withdrawal figures (the balance page): `{% payout_summary user as s %}`."""

from django import template

register = template.Library()


@register.simple_tag
def payout_summary(user) -> dict:
    from anshin.payouts.selectors import summary

    return summary(user) if user.is_authenticated else {}
