from django import forms

from anshin.deals.services import REASON_MAX


class DateChangeForm(forms.Form):
    new_date = forms.DateField(label="希望する納期", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="理由", max_length=REASON_MAX, widget=forms.Textarea(attrs={"rows": 3}))
