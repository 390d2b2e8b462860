"""Block and report links for the pages that show another user (profile, job, listing)."""

from django import template

from anshin.trust.blocks import has_blocked

register = template.Library()


@register.inclusion_tag("trust/_profile_actions.html", takes_context=True)
def trust_actions(context, person):
    """「ブロックする」/「ブロックを解除」 and 「通報する」 for a logged-in visitor who is someone else."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.pk == person.pk:
        return {"show": False}
    return {"show": True, "person": person, "blocked": has_blocked(user, person.pk), "request": request}


@register.simple_tag
def report_url(kind: str, subject_id) -> str:
    from django.urls import reverse
    from django.utils.http import urlencode

    return f"{reverse('trust:report_new')}?{urlencode({'subject': kind, 'id': subject_id})}"
