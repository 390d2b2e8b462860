"""Forms for listings and orders. They parse and type the input; the rules (price bounds, required hearing
answers, options of the listing, states) are the services'."""

from django import forms

from anshin import rules
from anshin.jobs.models import Category
from anshin.ledger.gateway import DECLINE_TOKEN
from anshin.messaging.forms import MultipleFileField
from anshin.orders.flow import CANCEL_REASONS
from anshin.orders.models import HearingQuestion

YEN_WIDGET = {"inputmode": "numeric", "step": "1"}
SORT_CHOICES = [("new", "新着順"), ("price_low", "価格の安い順"), ("price_high", "価格の高い順")]
CARD_CHOICES = [("tok_visa", "テストカード（承認）"), (DECLINE_TOKEN, "テストカード（拒否）")]


class ListingSearchForm(forms.Form):
    q = forms.CharField(label="キーワード", required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "例: ロゴ、翻訳、記事作成"}))
    category = forms.ChoiceField(label="カテゴリ", required=False,
                                 choices=[("", "すべてのカテゴリ"), *Category.choices])
    price_min = forms.IntegerField(label="価格（下限）", required=False, min_value=0,
                                   widget=forms.NumberInput(attrs={**YEN_WIDGET, "placeholder": "下限（円）"}))
    price_max = forms.IntegerField(label="価格（上限）", required=False, min_value=0,
                                   widget=forms.NumberInput(attrs={**YEN_WIDGET, "placeholder": "上限（円）"}))
    sort = forms.ChoiceField(label="並び順", required=False, choices=SORT_CHOICES)

    def search_args(self) -> dict:
        """Arguments for the search; invalid fields are dropped (the page shows their errors)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return {"q": data.get("q") or "", "category": data.get("category") or "",
                "price_min": data.get("price_min"), "price_max": data.get("price_max"),
                "sort": data.get("sort") or "new"}


# --- the listing form: fields, option rows, hearing-sheet question rows ----------------------------------


class ListingForm(forms.Form):
    title = forms.CharField(label="タイトル", max_length=100,
                            widget=forms.TextInput(attrs={"placeholder": "例: 商品写真の背景を白く切り抜きます"}))
    category = forms.ChoiceField(label="カテゴリ", choices=[("", "選択してください"), *Category.choices])
    description = forms.CharField(
        label="サービス内容", max_length=10_000,
        widget=forms.Textarea(
            attrs={"rows": 8, "placeholder": "提供する内容、納品形式、対応できないことなどを書いてください。"}))
    price = forms.IntegerField(label="価格（円・税込）", help_text=f"{rules.LISTING_MIN_PRICE:,}円以上",
                               widget=forms.NumberInput(attrs=YEN_WIDGET))
    delivery_days = forms.IntegerField(
        label="お届け日数", help_text=f"注文の承諾から納品までの日数（最大{rules.MAX_DELIVERY_DAYS}日）",
        widget=forms.NumberInput(attrs={"step": "1", "min": "1"}))
    included_revisions = forms.IntegerField(label="修正回数", initial=1,
                                            help_text=f"価格に含まれる修正（差し戻し）の回数（最大{rules.MAX_INCLUDED_REVISIONS}回）",
                                            widget=forms.NumberInput(attrs={"step": "1", "min": "0"}))


class OptionRowForm(forms.Form):
    title = forms.CharField(label="オプション名", max_length=100, required=False)
    price = forms.IntegerField(label="追加料金（円）", required=False, widget=forms.NumberInput(attrs=YEN_WIDGET))
    extra_days = forms.IntegerField(label="追加日数", required=False,
                                    widget=forms.NumberInput(attrs={"step": "1", "min": "0"}))

    def clean(self):
        data = super().clean()
        if data.get("title") and data.get("price") is None:
            self.add_error("price", "追加料金を入力してください。")
        if not data.get("title") and data.get("price") is not None:
            self.add_error("title", "オプション名を入力してください。")
        return data

    def row(self) -> dict | None:
        data = getattr(self, "cleaned_data", {})
        if not data.get("title"):
            return None
        return {"title": data["title"], "price": data["price"], "extra_days": data.get("extra_days") or 0}


class QuestionRowForm(forms.Form):
    kind = forms.ChoiceField(label="回答形式", choices=HearingQuestion.Kind.choices, required=False)
    text = forms.CharField(label="質問", max_length=300, required=False)
    choices = forms.CharField(label="選択肢（1行に1つ）", required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    example = forms.CharField(label="回答例", max_length=300, required=False)
    required = forms.BooleanField(label="必須", required=False)

    def clean(self):
        data = super().clean()
        choices = [c.strip() for c in (data.get("choices") or "").splitlines() if c.strip()]
        data["choice_list"] = choices
        if data.get("text"):
            if not data.get("kind"):
                self.add_error("kind", "回答形式を選択してください。")
            elif data["kind"] != HearingQuestion.Kind.TEXT and len(choices) < 2:
                self.add_error("choices", "選択式の質問には選択肢を2つ以上、1行に1つ入力してください。")
        return data

    def row(self) -> dict | None:
        data = getattr(self, "cleaned_data", {})
        if not data.get("text"):
            return None
        kind = data["kind"]
        return {"kind": kind, "text": data["text"],
                "choices": data["choice_list"] if kind != HearingQuestion.Kind.TEXT else [],
                "example": data.get("example") or "", "required": bool(data.get("required"))}


BLANK_OPTIONS = 2
BLANK_QUESTIONS = 3


# --- purchase: options, the hearing sheet, the test card ------------------------------------------------


def question_field(question: HearingQuestion) -> forms.Field:
    """One hearing-sheet question as a form field. Required answers are checked here and again by the service."""
    label = question.text
    message = {"required": "この質問は必須です。回答を入力してください。"}
    if question.kind == HearingQuestion.Kind.TEXT:
        return forms.CharField(label=label, required=question.required, max_length=2_000, error_messages=message,
                               widget=forms.Textarea(attrs={"rows": 3, "placeholder": question.example}))
    choices = [(c, c) for c in question.choices]
    if question.kind == HearingQuestion.Kind.SINGLE:
        return forms.ChoiceField(label=label, required=question.required, choices=choices, widget=forms.RadioSelect,
                                 error_messages={"required": "この質問は必須です。選択肢から1つ選んでください。"})
    return forms.MultipleChoiceField(label=label, required=question.required, choices=choices,
                                     widget=forms.CheckboxSelectMultiple,
                                     error_messages={"required": "この質問は必須です。1つ以上選んでください。"})


class PurchaseForm(forms.Form):
    options = forms.TypedMultipleChoiceField(label="オプション", required=False, coerce=int,
                                             widget=forms.CheckboxSelectMultiple,
                                             error_messages={"invalid_choice": "選択できないオプションです。"})
    card_token = forms.ChoiceField(label="お支払い方法", choices=CARD_CHOICES)

    def __init__(self, *args, listing, **kwargs):
        super().__init__(*args, **kwargs)
        self.listing = listing
        self.questions = list(listing.questions.all())
        self.fields["options"].choices = [(o.pk, o.title) for o in listing.options.all()]
        for q in self.questions:
            self.fields[f"q_{q.pk}"] = question_field(q)

    def question_fields(self):
        return [(q, self[f"q_{q.pk}"]) for q in self.questions]

    def answers(self) -> dict[int, str | list[str]]:
        """question id → the answer as the service takes it: text/single → str, multiple → [chosen, …]."""
        return {q.pk: self.cleaned_data.get(f"q_{q.pk}") or ([] if q.kind == HearingQuestion.Kind.MULTIPLE else "")
                for q in self.questions}


# --- order actions --------------------------------------------------------------------------------------


class DeliverForm(forms.Form):
    body = forms.CharField(label="納品メッセージ", max_length=rules.MESSAGE_MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(label="納品ファイル")


class RevisionForm(forms.Form):
    reason = forms.CharField(label="修正してほしい点", max_length=2_000, widget=forms.Textarea(attrs={"rows": 3}))


class DisputeForm(forms.Form):
    reason = forms.CharField(label="相談内容", max_length=2_000, widget=forms.Textarea(attrs={"rows": 3}))


class CancelRequestForm(forms.Form):
    reason = forms.ChoiceField(label="キャンセルの理由", choices=[])
    detail = forms.CharField(label="詳細", max_length=2_000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, side: str, state: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", "理由を選択してください"), *reason_choices(side, state)]
        self.fields["reason"].error_messages["invalid_choice"] = "この状態では選べない理由です。"


def reason_choices(side: str, state: str) -> list[tuple[str, str]]:
    return [(code, str(label)) for code, (label, states) in CANCEL_REASONS.get(side, {}).items() if state in states]


def form_errors(form: forms.Form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.extend(f"{label}: {e}" if label else e for e in errors)
    return " ".join(parts)
