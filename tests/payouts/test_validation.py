"""Bank details as people type them: full-width digits and half-width katakana are accepted and normalised
(全銀 format), everything else is refused field by field with a Japanese message, and nothing is saved."""

import pytest

from anshin.payouts import services
from anshin.payouts.models import BankAccount
from anshin.payouts.validation import BankDetailsInvalid, account_number_clean, holder_clean
from tests.payouts.conftest import BANK


@pytest.mark.parametrize(("typed", "saved"), [
    ("ヤマダ　ハナコ", "ヤマダ　ハナコ"),
    ("ﾔﾏﾀﾞ ﾊﾅｺ", "ヤマダ　ハナコ"),  # half-width katakana with a voiced mark, a half-width space
    ("  ヤマダ   ハナコ  ", "ヤマダ　ハナコ"),  # spaces collapsed and trimmed
    ("ｻﾄｳ ｹﾝｰ", "サトウ　ケンー"),  # half-width 長音
    ("スズキ・ジョン", "スズキ・ジョン"),
    ("ヴィクトリア", "ヴィクトリア"),
    ("タナカ", "タナカ"),
])
def test_holder_in_katakana_is_normalised_to_full_width(typed, saved):
    assert holder_clean(typed) == (saved, "")


@pytest.mark.parametrize(("typed", "word"), [
    ("山田花子", "カタカナ"),
    ("やまだ はなこ", "ひらがな"),
    ("YAMADA HANAKO", "英字"),
    ("ヤマダ1", "カタカナ"),
    ("ー", "カタカナ"),  # a long mark alone is not a name
    ("", "入力"),
    ("ア" * 41, "40文字"),
])
def test_holder_other_than_katakana_is_refused(typed, word):
    value, error = holder_clean(typed)
    assert value == "" and word in error


@pytest.mark.parametrize(("typed", "saved"), [
    ("1234567", "1234567"), ("１２３４５６７", "1234567"), ("123456", "0123456"), ("1", "0000001"),
])
def test_account_number_is_digits_zero_padded_to_seven(typed, saved):
    assert account_number_clean(typed) == (saved, "")


@pytest.mark.parametrize("typed", ["12345678", "123-4567", "12 34567", "abc", "", "١٢٣"])
def test_account_number_other_than_up_to_seven_digits_is_refused(typed):
    value, error = account_number_clean(typed)
    assert value == "" and error


def test_full_width_codes_are_accepted_and_stored_as_ascii(worker):
    account = services.bank_account_save(user=worker, data={**BANK, "bank_code": "０００５", "branch_code": "１２３"})
    account.refresh_from_db()
    assert (account.bank_code, account.branch_code) == ("0005", "123")


def test_every_wrong_field_is_named_and_nothing_is_saved(worker):
    wrong = {"bank_name": " ", "bank_code": "123", "branch_name": "渋谷支店", "branch_code": "12a",
             "account_type": "fixed", "account_number": "12345678", "holder": "Yamada"}
    with pytest.raises(BankDetailsInvalid) as refused:
        services.bank_account_save(user=worker, data=wrong)
    errors = refused.value.errors
    assert set(errors) == {"bank_name", "bank_code", "branch_code", "account_type", "account_number", "holder"}
    assert "4桁" in errors["bank_code"] and "3桁" in errors["branch_code"] and "7桁" in errors["account_number"]
    assert "銀行コード" in refused.value.message and refused.value.status == 422
    assert not BankAccount.objects.filter(user=worker).exists()


def test_one_account_per_user_replaced_in_place(worker):
    first = services.bank_account_save(user=worker, data=BANK)
    second = services.bank_account_save(user=worker, data={**BANK, "bank_name": "みらい銀行", "bank_code": "0002"})
    assert first.pk == second.pk
    assert BankAccount.objects.filter(user=worker).count() == 1
    assert BankAccount.objects.get(user=worker).bank_name == "みらい銀行"
