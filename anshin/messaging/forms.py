"""Forms parse input only; the size/type rules of attachments live in the service (one place)."""

from django import forms

from anshin import rules


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe); returns a list, possibly empty."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class MessageForm(forms.Form):
    body = forms.CharField(label="メッセージ", required=False, max_length=rules.MESSAGE_MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 3, "placeholder": "メッセージを入力"}))
    files = MultipleFileField(label="添付ファイル")

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not data.get("files"):
            raise forms.ValidationError("メッセージを入力するか、ファイルを添付してください。")
        return data


class PollForm(forms.Form):
    """Where the page is: the last message it shows, and the first of my messages it still shows as 未読."""

    after = forms.IntegerField(required=False, min_value=0)
    pending = forms.IntegerField(required=False, min_value=0)
