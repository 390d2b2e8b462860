"""The 「スカウトする」 block on a worker's profile: the viewer's open jobs this worker can be scouted for."""

from django import template

from anshin.jobs import selectors
from anshin.jobs.forms import ScoutForm

register = template.Library()


@register.inclusion_tag("jobs/_scout_form.html", takes_context=True)
def scout_form(context, person):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.pk == person.pk or not person.is_active:
        return {"show": False}
    jobs = list(selectors.scoutable_jobs(client=user, worker=person))
    if not jobs:
        return {"show": False}
    return {"show": True, "person": person, "jobs": jobs, "form": ScoutForm(initial={"worker": person.pk}),
            "request": request}
