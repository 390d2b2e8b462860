"""The forms parse input only; the rules (digits, katakana, the minimum, the balance) are the services'. A
refusal of the bank details comes back per field (`BankDetailsInvalid.errors`) and is shown beside each one."""

import unicodedata
import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from anshin import rules
from anshin.ops.forms import OpsForm, note_field
from anshin.payouts.models import AccountType, Withdrawal
from anshin.payouts.validation import HOLDER_MAX, NAME_MAX


class WithdrawalForm(forms.Form):
    amount = forms.CharField(
        label=_("出金額（円）"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                      "placeholder": f"{rules.WITHDRAWAL_MIN}"}),
    )
    request_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("request_key", uuid.uuid4().hex)  # a double submit asks only once

    def clean_amount(self) -> int:
        """12000, １２，０００, ¥12,000 and 12,000円 all read as 12000."""
        text = unicodedata.normalize("NFKC", self.cleaned_data["amount"])
        text = text.strip().removeprefix("¥").removeprefix("￥").removesuffix("円").replace(",", "").strip()
        if not text.isascii() or not text.isdigit():
            raise forms.ValidationError("出金額は円単位の整数（数字のみ）で入力してください。")
        return int(text)


class BankAccountForm(forms.Form):
    bank_name = forms.CharField(label=_("銀行名"), max_length=NAME_MAX * 2,
                                widget=forms.TextInput(attrs={"placeholder": "例: 安心銀行"}))
    bank_code = forms.CharField(label=_("銀行コード（4桁）"), max_length=16,
                                widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "0001"}))
    branch_name = forms.CharField(label=_("支店名"), max_length=NAME_MAX * 2,
                                  widget=forms.TextInput(attrs={"placeholder": "例: 本店営業部"}))
    branch_code = forms.CharField(label=_("支店コード（3桁）"), max_length=16,
                                  widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "001"}))
    account_type = forms.ChoiceField(label=_("口座種別"), choices=AccountType.choices, initial=AccountType.ORDINARY,
                                     widget=forms.RadioSelect)
    account_number = forms.CharField(
        label=_("口座番号（7桁以内の数字）"), max_length=16,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "1234567"}),
        help_text=_("7桁に満たない場合は先頭を0で埋めて登録します。"),
    )
    holder = forms.CharField(
        label=_("口座名義（カタカナ）"), max_length=HOLDER_MAX * 2,
        widget=forms.TextInput(attrs={"placeholder": "ヤマダ　ハナコ"}),
        help_text=_("通帳やキャッシュカードの表記どおり、カタカナで入力してください（半角カタカナも可）。"),
    )

    def add_service_errors(self, errors: dict[str, str]) -> None:
        for field, message in errors.items():
            self.add_error(field if field in self.fields else None, message)



# --- the operators' decisions (/ops/ item page); the note rules are the services' (note_required) -------------


class WithdrawalPayForm(OpsForm):
    slug = "pay"
    note = note_field()


class WithdrawalReverseForm(OpsForm):
    slug = "reverse"
    reason = forms.ChoiceField(label=_("差し戻しの理由（受注者に通知されます）"),
                               choices=Withdrawal.ReverseReason.choices)
    note = note_field()
