"""Forms parse input; the rules (1–5, one review per side, the deadline, contact details) are the service's."""

from django import forms
from django.utils.translation import gettext_lazy as _

from anshin import rules
from anshin.reviews.models import AXES

STARS = [(n, "★" * n + "☆" * (5 - n)) for n in range(5, 0, -1)]


def _stars(label):
    return forms.TypedChoiceField(label=label, choices=STARS, coerce=int, widget=forms.RadioSelect)


class ReviewForm(forms.Form):
    skill = _stars(_("スキル"))
    quality = _stars(_("クオリティ"))
    schedule = _stars(_("スケジュール"))
    communication = _stars(_("コミュニケーション"))
    partnership = _stars(_("パートナーシップ"))
    comment = forms.CharField(
        label=_("コメント"),
        max_length=rules.REVIEW_COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("取引を通じて感じたことを具体的に書いてください。外部の連絡先は書けません。"),
    )

    def ratings(self) -> dict[str, int]:
        return {field: self.cleaned_data[field] for field, _label in AXES}


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("返信"), max_length=rules.REVIEW_COMMENT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


def form_errors(form: forms.Form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.extend(f"{label}: {e}" if label else e for e in errors)
    return " ".join(parts)
