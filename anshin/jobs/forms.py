"""Forms parse and type the input (integers, dates, choices); the services decide what is allowed."""

from datetime import timedelta

from django import forms

from anshin import rules
from anshin.jobs.models import Category, DeclineReason
from anshin.messaging.forms import MultipleFileField

SORT_CHOICES = [("new", "新着順"), ("deadline", "締切が近い順")]

# Integer yen: a number input that refuses decimals in the browser too.
YEN_WIDGET = {"inputmode": "numeric", "step": "1", "placeholder": "例: 30000"}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class JobSearchForm(forms.Form):
    q = forms.CharField(
        label="キーワード",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "例: 写真、翻訳、WordPress"}),
    )
    category = forms.ChoiceField(
        label="カテゴリ", required=False, choices=[("", "すべてのカテゴリ"), *Category.choices]
    )
    budget_min = forms.IntegerField(
        label="予算（下限）",
        required=False,
        min_value=0,
        widget=forms.NumberInput(attrs={**YEN_WIDGET, "placeholder": "下限（円）"}),
    )
    budget_max = forms.IntegerField(
        label="予算（上限）",
        required=False,
        min_value=0,
        widget=forms.NumberInput(attrs={**YEN_WIDGET, "placeholder": "上限（円）"}),
    )
    sort = forms.ChoiceField(label="並び順", required=False, choices=SORT_CHOICES)

    def search_args(self) -> dict:
        """Arguments for `job_search`; invalid fields are dropped (the page shows their errors)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return {
            "q": data.get("q") or "",
            "category": data.get("category") or "",
            "budget_min": data.get("budget_min"),
            "budget_max": data.get("budget_max"),
            "sort": data.get("sort") or "new",
        }


class JobForm(forms.Form):
    title = forms.CharField(
        label="タイトル", max_length=100, widget=forms.TextInput(attrs={"placeholder": "例: 記事に写真を挿入する業務"})
    )
    category = forms.ChoiceField(label="カテゴリ", choices=[("", "選択してください"), *Category.choices])
    description = forms.CharField(
        label="仕事の詳細",
        max_length=10_000,
        widget=forms.Textarea(
            attrs={"rows": 10, "placeholder": "依頼の背景、作業内容、納品形式などを具体的に書いてください。"}
        ),
    )
    skills = forms.CharField(
        label="求めるスキル", max_length=300, required=False, help_text="カンマ区切り（例: WordPress, 画像編集）"
    )
    budget_min = forms.IntegerField(
        label="予算の下限（円・税込）",
        required=False,
        help_text="固定額の場合は空欄にしてください。",
        widget=forms.NumberInput(attrs=YEN_WIDGET),
    )
    budget_max = forms.IntegerField(label="予算（円・税込）", widget=forms.NumberInput(attrs=YEN_WIDGET))
    application_deadline = forms.DateField(label="応募期限", widget=DateInput())
    delivery_date = forms.DateField(label="希望納期", required=False, widget=DateInput())
    hires = forms.IntegerField(label="募集人数", initial=1, widget=forms.NumberInput(attrs={"step": "1", "min": "1"}))

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["skills"] = data.get("skills") or ""
        return data


class ApplyForm(forms.Form):
    message = forms.CharField(
        label="応募メッセージ",
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "自己紹介、実績、進め方、質問などを書いてください。"}),
    )
    amount = forms.IntegerField(label="提案金額（円・税込）", widget=forms.NumberInput(attrs=YEN_WIDGET))
    estimated_date = forms.DateField(label="完了予定日", widget=DateInput())


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(label="見送りの理由", choices=[("", "理由を選択"), *DeclineReason.choices])


# --- test tasks and scouting ----------------------------------------------------------------------------------

class TestTaskForm(forms.Form):
    """The client's test task: instructions, materials (URLs and files) and the time allowed (days + hours)."""

    __test__ = False

    instructions = forms.CharField(
        label="課題の内容", max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 5,
                                     "placeholder": "作業内容、提出形式、評価のポイントなどを書いてください。"}),
    )
    links = forms.CharField(label="資料のURL（1行に1つ）", required=False,
                            widget=forms.Textarea(attrs={"rows": 2, "placeholder": "https://"}))
    files = MultipleFileField(label="資料ファイル")
    duration_days = forms.IntegerField(label="制限時間（日）", min_value=0, max_value=rules.TEST_TASK_MAX_DURATION.days,
                                       initial=3, widget=forms.NumberInput(attrs={"step": "1"}))
    duration_hours = forms.IntegerField(label="制限時間（時間）", min_value=0, max_value=23, initial=0,
                                        required=False, widget=forms.NumberInput(attrs={"step": "1"}))

    def duration(self) -> timedelta:
        data = self.cleaned_data
        return timedelta(days=data["duration_days"], hours=data.get("duration_hours") or 0)


class BlockerForm(forms.Form):
    question = forms.CharField(
        label="質問（回答があるまで時計が止まります）", max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 3,
                                     "placeholder": "例: 資料が見つかりません。共有フォルダの場所を教えてください。"}),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(label="回答（送ると時計が再開します）", max_length=5_000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class SubmitForm(forms.Form):
    body = forms.CharField(label="提出メッセージ", max_length=rules.MESSAGE_MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 3}))
    links = forms.CharField(label="提出物のURL（1行に1つ）", required=False,
                            widget=forms.Textarea(attrs={"rows": 2, "placeholder": "https://"}))
    files = MultipleFileField(label="提出ファイル")


class EvaluateForm(forms.Form):
    result = forms.ChoiceField(label="評価", choices=[("pass", "合格"), ("fail", "不合格")], widget=forms.RadioSelect)
    comment = forms.CharField(label="コメント（任意）", max_length=2_000, required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))


TEST_TASK_FORMS = {"blocker": BlockerForm, "answer": AnswerForm, "submit": SubmitForm, "evaluate": EvaluateForm}


class ScoutForm(forms.Form):
    worker = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**53)
    job = forms.IntegerField(label="スカウトする仕事", min_value=1, max_value=2**53)
    message = forms.CharField(
        label="スカウトメッセージ", max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 4,
                                     "placeholder": "ぜひご応募ください。プロフィールの実績を拝見しました。"}),
    )


def form_errors(form: forms.Form) -> str:
    """All errors of a bound form as one Japanese sentence list (field label: message)."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.extend(f"{label}: {e}" if label else e for e in errors)
    return " ".join(parts)
