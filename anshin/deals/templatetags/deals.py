from django import template

from anshin.deals import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def date_change_panel(context, deal):
    """`{% date_change_panel subject as dc %}`: the pending request, its buttons, whether to show the form."""
    return selectors.date_change_panel(deal=deal, user=context["request"].user)
