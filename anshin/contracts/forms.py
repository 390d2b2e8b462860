"""Forms parse input; the rules (amount bounds, dates, attachment limits, states) are the services'."""

from django import forms

from anshin import rules
from anshin.ledger.gateway import DECLINE_TOKEN
from anshin.messaging.forms import MultipleFileField


class OfferForm(forms.Form):
    title = forms.CharField(label="契約名", max_length=100, required=False)
    amount = forms.IntegerField(label="契約金額（税込・円）", widget=forms.NumberInput(attrs={"step": 1}))
    delivery_date = forms.DateField(label="納期", widget=forms.DateInput(attrs={"type": "date"}))


class FundForm(forms.Form):
    card_token = forms.ChoiceField(
        label="お支払い方法",
        choices=[("tok_visa", "テストカード（承認）"), (DECLINE_TOKEN, "テストカード（拒否）")],
    )


class DeliverForm(forms.Form):
    body = forms.CharField(
        label="納品メッセージ", max_length=rules.MESSAGE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4})
    )
    links = forms.CharField(
        label="納品物のURL（1行に1つ）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "https://"}),
    )
    files = MultipleFileField(label="納品ファイル")


class RevisionForm(forms.Form):
    reason = forms.CharField(label="修正してほしい点", max_length=2_000, widget=forms.Textarea(attrs={"rows": 3}))


class DisputeForm(forms.Form):
    reason = forms.CharField(label="相談内容", max_length=2_000, widget=forms.Textarea(attrs={"rows": 3}))


class TerminationForm(forms.Form):
    worker_amount = forms.IntegerField(
        label="受注者に支払う額（円）",
        min_value=0,
        max_value=rules.MAX_AMOUNT,
        widget=forms.NumberInput(attrs={"step": 1, "min": 0}),
        help_text="0円なら全額を発注者に返金します。",
    )
    reason = forms.CharField(label="途中終了したい理由", max_length=2_000, widget=forms.Textarea(attrs={"rows": 3}))


FORMS = {"fund": FundForm, "deliver": DeliverForm, "request_revision": RevisionForm, "open_dispute": DisputeForm}


def form_errors(form: forms.Form) -> str:
    """All errors of a bound form as one Japanese sentence list (field label: message)."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.extend(f"{label}: {e}" if label else e for e in errors)
    return " ".join(parts)
