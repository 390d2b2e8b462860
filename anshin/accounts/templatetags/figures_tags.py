"""Profile figures in templates: `{% load figures_tags %}`.

- `{% figure_info "response_rate" %}` → an ⓘ mark whose tooltip (and visually hidden text, for screen
  readers) is the figure's definition (`anshin.accounts.figures.DEFINITIONS`)
- `{{ delay|duration }}` → 「3時間20分」 or 「—」
- `{% rating_chart figures label %}`, `{% reply_chart figures label %}` → the inline SVG charts
"""

from django import template
from django.utils.html import format_html

from anshin.accounts import charts
from anshin.accounts.figures import DEFINITIONS, duration_label

register = template.Library()


@register.simple_tag
def figure_info(key: str):
    text = DEFINITIONS[key]
    return format_html(
        '<span class="figure-info" tabindex="0" title="{}" data-definition="{}">'
        '<span aria-hidden="true">ⓘ</span><span class="visually-hidden">{}</span></span>',
        text, key, text,
    )


@register.filter
def duration(value):
    return duration_label(value)


@register.simple_tag
def rating_chart(figures, label: str = "評価の分布"):
    return charts.rating_distribution(figures.rating_distribution, label=label)


@register.simple_tag
def reply_chart(figures, label: str = "返信時間の分布"):
    return charts.reply_histogram(figures.reply_histogram, label=label)
