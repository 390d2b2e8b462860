"""Forms parse the input; the services (blocks, reports) decide what is allowed."""

from django import forms

from anshin import rules
from anshin.trust.models import Report


class ReportForm(forms.Form):
    category = forms.ChoiceField(label="通報の種類", choices=Report.Category.choices, widget=forms.RadioSelect)
    text = forms.CharField(
        label="通報の内容",
        max_length=rules.REPORT_TEXT_MAX_LENGTH,
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "placeholder": "何があったかを具体的に書いてください（例: LINEでの直接取引を持ちかけられた）。",
            }
        ),
        help_text="通報した相手にあなたの名前や通報の内容が伝わることはありません。",
    )
