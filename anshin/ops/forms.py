"""The console's forms parse input only; the rules (a note is required, its length, what each decision may
do) are the services'. The note is marked required for the browser too, but the server decides."""

from django import forms

from anshin import rules
from anshin.ops.services import ACCOUNT_ACTIONS

NOTE_LABEL = "内部メモ（当事者には表示されません）"


def note_field():
    return forms.CharField(
        label=NOTE_LABEL,
        required=False,  # checked by the service (note_required), whose message the page shows
        max_length=rules.OPS_NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "required": True, "maxlength": rules.OPS_NOTE_MAX_LENGTH}),
    )


class OpsForm(forms.Form):
    """Several decision forms share one page: each gets its own element ids (close_note, permit_note…)."""

    slug = "ops"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.slug}_%s")
        super().__init__(*args, **kwargs)


class CloseForm(OpsForm):
    slug = "close"
    RESOLUTIONS = [("done", "対応済み"), ("no_action", "問題なし（対応不要）")]

    resolution = forms.ChoiceField(label="結果", choices=RESOLUTIONS, initial="done")
    note = note_field()


class PermitDecisionForm(OpsForm):
    slug = "permit"
    decision = forms.ChoiceField(
        label="判断", choices=[("approve", "承認する"), ("deny", "否認する"), ("revoke", "承認を取り消す")]
    )
    note = note_field()


class ResolveForm(OpsForm):
    slug = "resolve"
    outcome = forms.ChoiceField(
        label="解決方法",
        choices=[
            ("release", "受注者に支払う（全額）"),
            ("refund", "発注者に返金する（全額）"),
            ("split", "分割する（受注者に支払う額を指定）"),
        ],
    )
    worker_amount = forms.IntegerField(
        label="受注者に支払う額（円・分割のとき）",
        required=False,
        min_value=0,
        max_value=rules.MAX_AMOUNT,
        widget=forms.NumberInput(attrs={"step": 1, "min": 0}),
    )
    note = note_field()


class MessageForm(OpsForm):
    slug = "message"
    body = forms.CharField(
        label="事務局としてのメッセージ（当事者に表示されます）",
        max_length=rules.MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    note = note_field()


class AccountActionForm(OpsForm):
    slug = "account"
    action = forms.ChoiceField(label="操作", choices=list(ACCOUNT_ACTIONS.items()))
    message = forms.CharField(
        label="ユーザーへのメッセージ（警告のとき・本人に届きます）",
        required=False,
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    note = note_field()


def form_errors(form: forms.Form) -> str:
    """All errors of a bound form in one Japanese line (field label: message)."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return " / ".join(parts)
