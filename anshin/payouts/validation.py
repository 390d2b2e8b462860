"""Bank details as people type them, normalised to the 全銀 format: codes and numbers in ASCII digits
(全角 digits accepted), the account number zero-padded to 7 digits, the holder in full-width katakana
(半角 katakana accepted and widened, spaces collapsed to one full-width space). Every refusal names the field in
Japanese; nothing is saved unless every field passes."""

import re
import unicodedata

from anshin.core.errors import DomainError
from anshin.payouts.models import AccountType

NAME_MAX = 40
HOLDER_MAX = 40
# Full-width katakana (ァ–ヺ), the prolonged sound mark ー and the middle dot ・ (in some foreign names).
HOLDER_RE = re.compile(r"[\u30A1-\u30FA\u30FC\u30FB]+(\u3000[\u30A1-\u30FA\u30FC\u30FB]+)*")
KANA_RE = re.compile(r"[\u30A1-\u30FA]")
HIRAGANA_RE = re.compile(r"[\u3041-\u309F]")
LATIN_RE = re.compile(r"[A-Za-z]")

LABELS = {
    "bank_name": "銀行名", "bank_code": "銀行コード", "branch_name": "支店名", "branch_code": "支店コード",
    "account_type": "口座種別", "account_number": "口座番号", "holder": "口座名義",
}


class BankDetailsInvalid(DomainError):
    """One or more fields refused: `errors` maps each field to its Japanese message (forms show them beside
    the fields; the API lists them). 422 like any other input that fails its checks."""

    status = 422

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("invalid_bank_account", " / ".join(f"{LABELS[k]}: {v}" for k, v in errors.items()))

    def details(self) -> dict:
        return {"errors": [{"field": k, "message": v} for k, v in self.errors.items()]}


def _digits(value: str) -> str:
    """全角 → 半角; surrounding spaces dropped. Anything but digits is left for the caller to refuse."""
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def _code(value, width: int) -> tuple[str, str]:
    text = _digits(value)
    if not text:
        return "", "入力してください。"
    if not text.isascii() or not text.isdigit() or len(text) != width:
        return "", f"半角または全角の数字{width}桁で入力してください。"
    return text, ""


def _name(value) -> tuple[str, str]:
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    text = re.sub(r"\s+", " ", text)
    if not text:
        return "", "入力してください。"
    if len(text) > NAME_MAX:
        return "", f"{NAME_MAX}文字以内で入力してください。"
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        return "", "使用できない文字が含まれています。"
    return text, ""


def account_number_clean(value) -> tuple[str, str]:
    """1–7 digits, zero-padded on the left to 7 (how banks write shorter numbers); hyphens and spaces are not
    digits and are refused rather than guessed at."""
    text = _digits(value)
    if not text:
        return "", "入力してください。"
    if not text.isascii() or not text.isdigit():
        return "", "数字のみで入力してください（ハイフンや空白は不要です）。"
    if len(text) > 7:
        return "", "7桁以内の数字で入力してください。"
    return text.zfill(7), ""


def holder_clean(value) -> tuple[str, str]:
    """全角・半角カタカナ, 長音 and spaces → full-width katakana with single full-width spaces."""
    text = unicodedata.normalize("NFKC", str(value or ""))  # ｶﾞ → ガ, ｰ → ー, full-width space → space
    text = re.sub(r"\s+", "\u3000", text.strip())
    if not text:
        return "", "入力してください。"
    if len(text) > HOLDER_MAX:
        return "", f"{HOLDER_MAX}文字以内で入力してください。"
    if not HOLDER_RE.fullmatch(text) or not KANA_RE.search(text):
        if HIRAGANA_RE.search(text):
            return "", "カタカナで入力してください（ひらがなは使えません）。"
        if LATIN_RE.search(text):
            return "", "カタカナで入力してください（英字は使えません）。"
        return "", "カタカナで入力してください（漢字・英数字・記号は使えません。例: ヤマダ　ハナコ）。"
    return text, ""


def bank_details_clean(data: dict) -> dict:
    """The normalised details, or BankDetailsInvalid naming every field that failed."""
    cleaned: dict[str, str] = {}
    errors: dict[str, str] = {}
    checks = {
        "bank_name": _name,
        "bank_code": lambda v: _code(v, 4),
        "branch_name": _name,
        "branch_code": lambda v: _code(v, 3),
        "account_type": lambda v: (str(v), "") if str(v or "") in AccountType.values else ("", "選択してください。"),
        "account_number": account_number_clean,
        "holder": holder_clean,
    }
    for field, check in checks.items():
        value, error = check(data.get(field))
        if error:
            errors[field] = error
        else:
            cleaned[field] = value
    if errors:
        raise BankDetailsInvalid(errors)
    return cleaned
