"""Forms parse input only; the size/type rules of attachments live in the service (one place)."""

from django import forms

from anshin import rules
from anshin.trust.models import ContactPermit


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
    # 「連絡先を伏せて送信する」 after a hold: the button of the held panel carries it (never a visible field)
    mask_contacts = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not data.get("files"):
            raise forms.ValidationError("メッセージを入力するか、ファイルを添付してください。")
        return data


class PollForm(forms.Form):
    """Where the page is: the last message it shows, and the first of my messages it still shows as 未読."""

    after = forms.IntegerField(required=False, min_value=0)
    pending = forms.IntegerField(required=False, min_value=0)


class OlderForm(forms.Form):
    """「以前のメッセージを表示」: the first message the page shows; older ones come next."""

    before = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class ProgressForm(forms.Form):
    percent = forms.IntegerField(label="進捗（%）", min_value=0, max_value=100,
                                 error_messages={"required": "進捗（%）を入力してください。",
                                                 "invalid": "進捗は0〜100の整数で入力してください。",
                                                 "min_value": "進捗は0〜100の整数で入力してください。",
                                                 "max_value": "進捗は0〜100の整数で入力してください。"},
                                 widget=forms.NumberInput(attrs={"min": 0, "max": 100, "step": 5}))
    next_date = forms.DateField(label="次回のプレビュー予定日", widget=DateInput(),
                                error_messages={"required": "次回のプレビュー予定日を入力してください。",
                                                "invalid": "次回のプレビュー予定日を日付で入力してください。"})
    comment = forms.CharField(label="コメント（任意）", required=False, max_length=2_000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class DelayForm(forms.Form):
    late_item = forms.CharField(label="遅れている作業", max_length=100,
                                error_messages={"required": "遅れている作業を入力してください。"})
    new_date = forms.DateField(label="新しい見込み日", widget=DateInput(),
                               error_messages={"required": "新しい見込み日を入力してください。",
                                               "invalid": "新しい見込み日を日付で入力してください。"})
    reason = forms.CharField(label="理由", max_length=2_000, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": "理由を入力してください。"})


class AckForm(forms.Form):
    reply_by = forms.DateField(label="返信予定日", widget=DateInput(),
                               error_messages={"required": "返信予定日を入力してください。",
                                               "invalid": "返信予定日を日付で入力してください。"})


class PermitForm(forms.Form):
    """サービス外連絡申請: which tool and what for (the service checks the rest)."""

    TOOL_REQUIRED = "利用するツールを選んでください。"
    PURPOSE_TOO_LONG = f"利用目的は{rules.PERMIT_PURPOSE_MAX_LENGTH:,}文字以内で入力してください。"

    tool = forms.ChoiceField(label="利用するツール", choices=[("", "選択してください"), *ContactPermit.Tool.choices],
                             error_messages={"required": TOOL_REQUIRED, "invalid_choice": TOOL_REQUIRED})
    purpose = forms.CharField(
        label="利用目的", max_length=rules.PERMIT_PURPOSE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "例: 週1回のZoom定例ミーティングで進捗を確認するため"}),
        error_messages={"required": "利用目的を入力してください。", "max_length": PURPOSE_TOO_LONG})
