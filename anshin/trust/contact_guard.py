"""Contact guard (PRODUCT.md §6): finds off-platform contact details and scam signals in a text.

A pure function — no database, no settings — so messages, job and listing texts and profiles share it, and
`manage.py guard_eval` and `bench/` measure exactly what production runs.

How it works:
1. normalise: runs of the characters that need it (全角/半角 forms, circled digits, zero-width and keycap marks,
   dingbat digits) go through a `str.translate` table and NFKC; everything else is left as is. Offsets back
   into the original text are computed only when something was found (`_OffsetMap`).
2. gate: every detector has a few literal "gate" words; two regex passes over a trie of all of them tell which
   detectors can possibly match (`_GateWords`). A text that opens none is clean and costs only these passes.
3. detectors (`_DETECTORS`, run in table order) on the normalised text: phone-number runs (ASCII, 漢数字,
   spelled-out digits, any dash), e-mail addresses (also アットマーク/(at)/ドット…), invite and meeting links,
   tool names followed by an ID or an exchange intent, SNS + DM, and scam phrases. Pattern tables carry a one-line
   comment per row. Patterns scanned over whole texts are written so that `re` can skip to candidate characters
   (see "writing patterns that scan fast").
"Soft" findings (an intent phrase rather than an identifier) are dropped when their clause refuses or
reports the thing (「LINE交換はできません」, 「〜と言われても」); identifiers are never dropped.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import partial
from itertools import starmap
from operator import itemgetter

# fmt: off
CONTACT_KINDS = ("email", "phone", "line", "chatwork", "skype", "discord", "slack", "telegram", "whatsapp",
                 "wechat", "meeting_url", "sns_dm", "other")
# fmt: on
# fmt: off
SCAM_KINDS = ("leave_platform", "fee_evasion", "work_before_escrow", "bank_or_id", "everyone_does_it",
              "upfront_payment")
# fmt: on


@dataclass(frozen=True, slots=True)
class Span:
    start: int  # offsets into the original text (not the normalised one)
    end: int
    kind: str  # one of CONTACT_KINDS or SCAM_KINDS


@dataclass(frozen=True, slots=True)
class GuardResult:
    contacts: tuple[Span, ...] = ()
    scams: tuple[Span, ...] = ()

    @property
    def contact(self) -> bool:
        return bool(self.contacts)

    @property
    def scam(self) -> bool:
        return bool(self.scams)


# --- writing patterns that scan fast ------------------------------------------------------------------------
# `re` jumps straight to the candidate characters of a pattern only when the pattern starts with a literal, a
# case-sensitive character class, or alternatives that each start with a literal. A leading lookbehind, (?i:…),
# optional group or repeat makes it attempt a full match at every position, several times slower on a paragraph.
# So the patterns scanned over whole texts start with their first character and check "not after …" right behind
# it — ラ(?<![ァ-ヴー]ラ) is (?<![ァ-ヴー])ラ — and `_ci` spells out the first letter of case-insensitive words:
# _ci("line", not_after="[A-Za-z]") is (?<![A-Za-z])(?i:line) written as
# L(?<![A-Za-z]L)(?i:ine)|l(?<![A-Za-z]l)(?i:ine). Such a rewrite changes how fast a pattern runs, never what it
# matches (same alternatives, tried in the same order).

_FOLDS = {"i": "iIİı", "k": "kKK", "s": "sSſ"}  # (?i:i) (?i:k) (?i:s) also match U+0130/0131, U+212A, U+017F


def _lead(first: str, not_after: str) -> str:
    """`(?<!not_after)first` written first-character-first; `first` and `not_after` match one character each."""
    return f"{first}(?<!{not_after}{first})"


def _ci(*words: str, not_after: str = "", then: str = "") -> str:
    """`(?<!not_after)(?i:word|word…)then` as alternatives that each start with a literal (the first letter in each
    of its cases, as many as (?i:) matches), in the same order, so re can skip to candidate letters."""
    alternatives = []
    for word in words:
        first, rest = word[0].lower(), word[1:]
        for letter in _FOLDS.get(first, first + first.upper() if first.isalpha() else first):
            start = _lead(letter, not_after) if not_after else letter
            alternatives.append(f"{start}(?i:{rest}){then}")
    return "|".join(alternatives)


def _each(*words: str, then: str) -> str:
    """(?:word|word…)then written as alternatives that each start with a literal: word then|word then|…"""
    return "|".join(word + then for word in words)


def _trie(words) -> str:
    """A regex matching any of `words` (literals), written as a trie: the longest word at a position wins."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def branches(node: dict) -> list[str]:
        return [re.escape(char) + pattern(child) for char, child in sorted(node.items()) if char]

    def pattern(node: dict) -> str:
        alternatives = branches(node)
        if not alternatives:
            return ""
        body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
        return f"(?:{body})?" if "" in node else body

    return "|".join(branches(trie))


# --- normalisation ------------------------------------------------------------------------------------------
# NFKC over a whole Japanese message is slow (~60µs when it holds a few 全角 brackets), so only runs of the
# characters that need it are normalised, each run once (cached).

_DROP = "\u00ad\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f\u20e3"  # soft hyphen, zero-width, var. sel., keycap
_DINGBAT_DIGITS = {
    **{0x2776 + i: str(i + 1) for i in range(9)},  # ❶..❾
    **{0x2780 + i: str(i + 1) for i in range(9)},  # ➀..➈
    **{0x278A + i: str(i + 1) for i in range(9)},  # ➊..➒
    **{0x24F5 + i: str(i + 1) for i in range(9)},  # ⓵..⓽
    0x24FF: "0",  # ⓿
}
_TRANSLATE = {**{ord(c): None for c in _DROP}, **_DINGBAT_DIGITS}
# characters NFKC changes that matter here (全角/半角 forms, circled and super-/subscript digits, odd spaces,
# ℡, one-dot leader, small forms) plus the ones dropped or mapped above
_SPECIAL_CHAR = (
    "[\u00a0\u00ad\u00b2\u00b3\u00b9\u2000-\u200d\u2024\u2060\u2070-\u209f\u2121\u2150-\u218f"
    "\u2460-\u24ff\u2776-\u2793\u3000\u3200-\u33ff\ufe0e\ufe0f\ufe50-\ufe6f\ufeff\uff01-\uffef"
    "\u20e3]"
)
_SPECIAL = re.compile(_SPECIAL_CHAR + _SPECIAL_CHAR + "*")  # a run: [...]+ written so that re skips to its start
_RUN_CACHE: dict[str, str] = {}


def _normalise_run(run: str) -> str:
    out = _RUN_CACHE.get(run)
    if out is None:
        out = unicodedata.normalize("NFKC", run.translate(_TRANSLATE))
        if len(run) <= 8 and len(_RUN_CACHE) < 20_000:  # brackets, ！, short 全角 words recur
            _RUN_CACHE[run] = out
    return out


def _normalise(text: str) -> str:
    if text.isascii():
        return text
    return _SPECIAL.sub(_normalise_match, text)


def _normalise_match(m: re.Match, cached=_RUN_CACHE.get) -> str:
    """_normalise_run for a match, the cache looked up first: most runs (brackets, ！) are cached, and a lookup is
    cheaper than a call."""
    run = m.group()
    return cached(run) or _normalise_run(run)


def _class_chars(char_class: str):
    """The chars of a "[…]" class written as literal chars and ranges (like _SPECIAL_CHAR)."""
    body, i = char_class[1:-1], 0
    while i < len(body):
        if body[i + 1 : i + 2] == "-" and i + 2 < len(body):
            yield from map(chr, range(ord(body[i]), ord(body[i + 2]) + 1))
            i += 3
        else:
            yield body[i]
            i += 1


def _becomes_one_ascii_char(char: str) -> bool:
    out = unicodedata.normalize("NFKC", char.translate(_TRANSLATE))
    return len(out) == 1 and out.isascii()


# Special chars that do not simply become one ASCII char (０ → 0, （ → (, ① → 1, U+3000 → space do). A run made of
# the others normalises char by char — NFKC leaves ASCII as it is and nothing composes with it — so a text with none
# of these has its offsets unchanged by normalisation (and no char that _OffsetMap.span must step over).
_RESHAPING = re.compile(
    "[" + "".join(char for char in _class_chars(_SPECIAL_CHAR) if not _becomes_one_ascii_char(char)) + "]"
)


class _OffsetMap:
    """Maps normalised offsets back to the original text. Built once per text, and only when there is a hit."""

    def __init__(self, text: str, norm: str):
        self.identity = text == norm or not _RESHAPING.search(text)  # offsets are the same in both
        self.text, self.length = text, len(text)
        if self.identity:
            return
        starts: list[int] = []
        ends: list[int] = []
        pos = 0
        for m in _SPECIAL.finditer(text):
            starts.extend(range(pos, m.start()))
            ends.extend(range(pos + 1, m.start() + 1))
            i, stop = m.start(), m.end()
            while i < stop:  # align the run piece by piece: NFKC may compose chars (ｾﾞ → ゼ)
                for k in (1, 2, 3, 4):
                    piece = _normalise_run(text[i : i + k])
                    if norm.startswith(piece, len(starts)):
                        break
                else:
                    piece, k = norm[len(starts) : len(starts) + 1], 1  # cannot happen; keep going one by one
                starts.extend([i] * len(piece))
                ends.extend([i + k] * len(piece))
                i += k
            pos = stop
        starts.extend(range(pos, len(text)))
        ends.extend(range(pos + 1, len(text) + 1))
        self.starts, self.ends = starts, ends

    def span(self, start: int, end: int, kind: str) -> Span:
        if self.identity:
            return Span(start, end, kind)
        original_end = self.ends[end - 1]
        while original_end < self.length and self.text[original_end] in _DROP:
            original_end += 1  # keep a keycap's trailing U+FE0F U+20E3 inside the span
        return Span(self.starts[start], original_end, kind)


# --- phone numbers ------------------------------------------------------------------------------------------

# fmt: off
_KANJI_DIGITS = {"〇": "0", "零": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7",
                 "八": "8", "九": "9"}
# fmt: on
# fmt: off
_SPELLED_DIGITS = {
    "ぜろ": "0", "ゼロ": "0", "れい": "0", "レイ": "0", "まる": "0", "マル": "0", "zero": "0",
    "いち": "1", "イチ": "1", "one": "1",
    "に": "2", "にー": "2", "ニ": "2", "ニー": "2", "two": "2",
    "さん": "3", "サン": "3", "three": "3",
    "よん": "4", "ヨン": "4", "し": "4", "シ": "4", "four": "4",
    "ご": "5", "ごー": "5", "ゴ": "5", "ゴー": "5", "five": "5",
    "ろく": "6", "ロク": "6", "six": "6",
    "なな": "7", "ナナ": "7", "しち": "7", "シチ": "7", "seven": "7",
    "はち": "8", "ハチ": "8", "eight": "8",
    "きゅう": "9", "キュウ": "9", "きゅー": "9", "キュー": "9", "く": "9", "ク": "9", "nine": "9",
}
# fmt: on
_DIGIT = "[0-9〇零一二三四五六七八九]"
_DASH = "\\-ー‐‑‒–—―−⁃˗─━⸺⸻﹘﹣~〜"  # every hyphen, dash, long mark and wave dash
_NUM_SEP = rf"[\s{_DASH}.\/*_()\[\]「」『』【】,、・の]"
# a run of digits (ASCII, 全角 after NFKC, 漢数字) starting with 0 or +81, separated by at most 3 separator chars
# (separators and digits are different chars, so there is one way to read a run: no backtracking, ++ and {0,3}+)
_PHONE_RUN = re.compile(rf"[0〇零](?<![0-9〇零一二三四五六七八九].)(?:{_NUM_SEP}{{0,3}}+{_DIGIT}){{9,}}+")
_PHONE_INTL = re.compile(rf"\+ ?8 ?1(?:{_NUM_SEP}{{0,3}}+{_DIGIT}){{8,}}+")  # +81 90-1234-5678
# any digit word, the longest one at a position first (as the words sorted longest first would, but as a trie:
# re tries one branch per char rather than every word)
_WORD = _trie(_SPELLED_DIGITS)
# a run of spelled-out digits (ぜろきゅうぜろ…, ゼロハチゼロ…, zero nine zero…) starting with a zero word
_PHONE_WORDS = re.compile(
    rf"(?:ぜろ|ゼロ|れい|レイ|まる|マル|Zero|zero)(?:[\s{_DASH}、,・.の]{{0,3}}(?i:{_WORD})){{9,}}"
)
_WORD_TOKEN = re.compile(rf"(?i:{_WORD})")
_SEQUENTIAL = "0123456789"
# a reference number label right before the digits: 注文番号 / 会員番号 / 案件ID / 商品コード / #
_REF_LABEL = re.compile(  # (?i:番号|ID|コード|No\.?|#|シリアル|JAN|ISBN|型番)\s*[:：]?\s*$
    "(?:番号|コード|#|シリアル|型番|" + _ci("id", r"no\.?", "jan", "isbn") + r")\s*[:：]?\s*$"
)
_PHONE_LABEL = re.compile(f"電話|携帯|ケータイ|連絡|{_ci('tel', 'fax')}")  # (?i:電話|携帯|ケータイ|TEL|FAX|連絡)


def _is_phone(digits: str) -> bool:
    """A plausible Japanese phone number (10 digits landline/0120, 11 digits mobile/IP/0800)."""
    if len(digits) == 11:
        return digits[:3] in ("050", "070", "080", "090") or digits.startswith("0800")
    if len(digits) == 10:
        return digits[1] != "0" and digits[:3] not in ("050", "070", "080", "090") and digits != _SEQUENTIAL
    return False


def _national(digits: str, intl: bool) -> str:
    """+81 90… → 090… (also when written +81 090…)."""
    if not intl:
        return digits
    return digits[2:] if digits[2:3] == "0" else "0" + digits[2:]


def _spelled_groups(run: str) -> list[tuple[str, int]]:
    """[(digits of the group, end offset in run)] — a group is digit words not separated by anything."""
    groups, last_end = [], -1
    for m in _WORD_TOKEN.finditer(run):
        value = _SPELLED_DIGITS.get(m.group().lower(), m.group())
        if groups and m.start() == last_end:
            groups[-1] = (groups[-1][0] + value, m.end())
        else:
            groups.append((value, m.end()))
        last_end = m.end()
    return groups


_DIGITS = re.compile(_DIGIT + _DIGIT + "*")  # [digits]+, written so that re skips to its start
# every digit has an entry: a char missing from a translate table costs a caught KeyError
_TO_ASCII = str.maketrans({**{digit: digit for digit in "0123456789"}, **_KANJI_DIGITS})


def _numeric_groups(run: str) -> list[tuple[str, int]]:
    """The same for digits (ASCII or 漢数字): each unbroken stretch of digits is a group (one regex match)."""
    return [(m.group().translate(_TO_ASCII), m.end()) for m in _DIGITS.finditer(run)]


_NOT_DIGIT = re.compile(f"[^{_DIGIT[1:]}")


def _numeric_digits(run: str) -> str:
    """All the digits of a run, in ASCII: what joining its _numeric_groups gives, without building the groups
    (most runs are a whole number or no number at all, and never need them)."""
    digits = _NOT_DIGIT.sub("", run)
    return digits if digits.isascii() else digits.translate(_TO_ASCII)


def _spelled_digits(run: str) -> str:
    """What joining _spelled_groups gives (every digit word's digits, in order), without building the groups."""
    return "".join([_SPELLED_DIGITS.get(word.lower(), word) for word in _WORD_TOKEN.findall(run)])


_NUM_SEP_RE = re.compile(_NUM_SEP)


def _min_group(index: int, intl: bool, min_group: int) -> int:
    """Group sizes a phone prefix may have: 03 / 81 first, then 90 after +81, then ≥ min_group (not 01/05、01/12)."""
    if index == 0:
        return 1 if intl else 2
    if index == 1 and intl:
        return 1
    return min_group


def _phone_end(run: str, digits: str, groups_of, intl: bool, min_group: int) -> int | None:
    """Length of the run prefix that is a phone number, or None. The whole run first (`digits`: all its digits);
    when it is too long (a number followed by other digits: 「090-1234-5678、10時以降」), a prefix of whole groups
    (`groups_of(run)`, only built then) of ≥3 digits."""
    if _is_phone(_national(digits, intl)):
        return len(run)
    longest = 13 if intl else 11  # +81 adds two digits
    if len(digits) <= longest:
        return None
    groups = groups_of(run)
    total = 0
    for index, (group, end) in enumerate(groups):
        if len(group) < _min_group(index, intl, min_group):
            return None
        total += len(group)
        if index and _is_phone(_national(digits[:total], intl)):
            return end
        if total > longest:
            return None
    return None


_NUMERIC = ((_PHONE_RUN, _numeric_digits, _numeric_groups, 3), (_PHONE_INTL, _numeric_digits, _numeric_groups, 3))
_SPELLED = ((_PHONE_WORDS, _spelled_digits, _spelled_groups, 3),)


def _phone_spans(norm: str, runs=_NUMERIC):
    for run_re, digits_of, groups_of, min_group in runs:
        if run_re is _PHONE_INTL and "+" not in norm:
            continue  # most texts: cheaper than a regex call that finds nothing
        for m in run_re.finditer(norm):
            start, run = m.start(), m.group()
            if run_re is _PHONE_RUN and _preceded_by_digits(norm, start):
                continue
            intl = run.startswith("+")
            length = _phone_end(run, digits_of(run), groups_of, intl, min_group)
            if length is None:
                continue
            end = start + length
            if end < len(norm) and norm[end].isascii() and norm[end].isalpha():
                continue  # 0123-4567-89AB: a serial, not a number
            before = norm[max(0, start - 14) : start]
            if _REF_LABEL.search(before) and not _PHONE_LABEL.search(before):
                continue  # 注文番号 0123456789
            yield start, end, "phone"


def _preceded_by_digits(norm: str, start: int) -> bool:
    """True when the run continues a longer number to the left (2026-01-05, 1,000)."""
    i, seps = start - 1, 0
    while i >= 0 and seps <= 3:
        c = norm[i]
        if c.isdigit() or c in _KANJI_DIGITS:
            return True
        if not _NUM_SEP_RE.match(c):
            return False
        i, seps = i - 1, seps + 1
    return False


# --- pattern tables -------------------------------------------------------------------------------------------
# A row: (kind, soft, gates, regex[, needs[, lead_in]]). A row's regex only runs when one of its gates (lower-case
# literals) occurs in the lower-cased normalised text; one pass finds the gates of every row at once (see gates
# below). Soft rows are intents, dropped in a refusing clause; the others are identifiers. `needs`, for a few costly
# rows, is a cheap regex that every match of the row contains: the row's regex runs only where it is found.
# `lead_in`, a char class: every match has only such chars between its start and its first `needs` hit, so each
# search starts at the run of them right before the next hit (an address's local part before its @) instead of
# trying every word of the text.

# top-level domains and webmail providers, case-insensitive: (?i:com|net|…) written with _ci (re checks the first
# letters of literal alternatives quickly, not those of (?i:…) ones)
# fmt: off
_TLD = "(?:" + _ci(
    "com", "net", "org", "jp", "info", "biz", "io", "co", "me", "dev", "app", "studio", "design", "xyz", "tokyo",
    "site", "online", "tech", "cloud", "ai", "us", "uk", "cn", "kr", "tw", "de", "fr", "mobi", "email", "work", "page",
    "blog", "shop", "store", "link", "life", "world", "art", "global", "asia", "ne", "or", "ac", "ad", "gr", "lg", "ed",
    "go",
) + ")"
_PROVIDERS = "(?:" + _ci(
    "gmail", "googlemail", "yahoo", "ymail", "outlook", "hotmail", "icloud", "docomo", "ezweb", "softbank", "nifty",
    "msn", "aol", "protonmail", "biglobe", "ocn", "excite", "rakuten",
) + ")"
# fmt: on
_PROVIDER_GATES = (
    "gmail",
    "yahoo",
    "ymail",
    "outlook",
    "hotmail",
    "icloud",
    "docomo",
    "ezweb",
    "softbank",
    "nifty",
    "msn",
    "aol",
    "proton",
    "biglobe",
    "ocn",
    "excite",
    "rakuten",
)


def _local(not_after: str) -> str:
    r"""The local part of an address, not continuing a longer word: (?<![…])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63},
    taken whole ({0,63}+, no backtracking): what must follow it (_AT, or \s+dot) never starts with one of its chars,
    so giving chars back could not make a match, only cost time on every word."""
    return _lead("[A-Za-z0-9]", not_after) + r"[A-Za-z0-9._%+\-]{0,63}+"


_AT = (
    r"(?:\s*@\s*|\s*(?:\((?:at|a)\)|\[(?:at|a)\]|<at>|\{at\}|[\[(]?(?:アットマーク|あっとまーく|アット|あっと)[\])]?)\s*"
    r"|\s+at\s+)"
)
_DOT = r"(?:\s*[.。]\s*|\s*(?:\(dot\)|\[dot\]|<dot>|\{dot\}|[\[(]?(?:ドット|どっと)[\])]?)\s*|\s+dot\s+)"
# a domain label, taken whole (?>…): what follows a label in the patterns (_DOT, _AT) never starts with one of its
# chars, so a shorter label could not make a match, only cost time
_LABEL = r"(?>[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)"
_HANDLE = r"[A-Za-z0-9][A-Za-z0-9_.\-#]*[A-Za-z0-9]"
_HANDLE_MARKED = r"(?=[A-Za-z0-9_.\-#]*[0-9_.\-#])[A-Za-z0-9][A-Za-z0-9_.\-#]*[A-Za-z0-9]"  # with a digit or _.-#
_EMAIL_GATES = ("@", "at", "アット", "あっと", "(a)", "[a]")
# a host name label and its dot in a link (abc.zoom.us): [\w\-]+\. taken whole (++), as '.' is not one of [\w\-] —
# giving chars back could not make a match. Japanese text is \w too, so tried at every char of a sentence it costs
# quadratic time: rows using it are scanned with _finditer_from_run_starts.
_HOST_LABEL = r"[\w\-]++\."
# what every _AT contains (its \s+at\s+ as at(?<=\sat)\s, to start with a literal)
_AT_MARK = r"@|\((?:at|a)\)|\[(?:at|a)\]|<at>|\{at\}|アット|あっと|at(?<=\sat)\s"
# what an address has before its _AT_MARK: the local part, "\s+dot\s+label"s, and _AT's \s* and [ or ( (「(アット)」)
_BEFORE_AT_MARK = r"[A-Za-z0-9._%+\-\s\[(]"
_ASK = r"(?:教えて|お伝え|伺|聞かせ|交換|いただけ)"

_CONTACT_ROWS = [
    # an e-mail address, also with アットマーク/(at)/[dot]/ドット and spaces: tanaka (at) gmail [dot] com
    (
        "email",
        False,
        _EMAIL_GATES,
        _local(r"[A-Za-z0-9._%+\-]")
        + rf"(?:\s+dot\s+{_LABEL}){{0,4}}{_AT}{_LABEL}(?:{_DOT}{_LABEL}){{0,4}}{_DOT}{_TLD}(?![A-Za-z0-9\-:])",
        _AT_MARK,
        _BEFORE_AT_MARK,
    ),
    # a webmail provider without its domain: takahashi.r@gmail
    (
        "email",
        False,
        _EMAIL_GATES,
        _local(r"[A-Za-z0-9._%+\-@/]") + rf"{_AT}{_PROVIDERS}(?![A-Za-z0-9])",
        _AT_MARK,
        _BEFORE_AT_MARK,
    ),
    # a webmail address with a stand-in symbol: suzuki★gmail.com
    (
        "email",
        False,
        _PROVIDER_GATES,
        _lead("[A-Za-z0-9]", r"[A-Za-z0-9._%+\-@/]") + r"[A-Za-z0-9._%+\-]*[^\sA-Za-z0-9@、。/]\s?"
        r"(?i:gmail|yahoo|outlook|hotmail|icloud)\s?\.\s?(?i:com|co\.jp|jp|ne\.jp)(?![A-Za-z0-9])",
        _ci("gmail", "yahoo", "outlook", "hotmail", "icloud", then=r"\s?\."),
    ),
    # letters spaced one by one: y a m a d a @ g m a i l . c o m
    (
        "email",
        False,
        ("@",),
        r"[A-Za-z0-9._\-] (?:[A-Za-z0-9._\-] ){1,39}"  # (?:[A-Za-z0-9._\-] ){2,40}, the first one written out
        r"[A-Za-z0-9._\-]? ?@ ?(?:[A-Za-z0-9\-] ?){2,40}(?:\. ?(?:[A-Za-z] ?){2,10}){1,4}",
        r"[A-Za-z0-9._\-] [A-Za-z0-9._\-] ",
    ),
    # an account name addressed with 宛て when mail is the subject: Gmail… aoki.m.1985 宛てに
    (
        "email",
        False,
        ("宛",),
        r"(?i:mail|メール|アドレス|メアド)[^。！？!?\n]{0,30}?(?<![A-Za-z0-9._\-])[A-Za-z][A-Za-z0-9._\-]{3,}\s*宛"
        r"|(?<![A-Za-z0-9._\-])[A-Za-z][A-Za-z0-9._\-]{3,}\s*宛(?=[^。！？!?\n]*(?i:mail|メール|アドレス|メアド))",
    ),
    # LINE add-friend links: line.me/ti/p/…, line.me/R/ti/p/@…, lin.ee/…
    ("line", False, ("line.me", "lin.ee"), _ci(r"line\.me/(?:R/)?ti/p/\S+", r"lin\.ee/\w+", r"page\.line\.me/\S+")),
    # Chatwork contact pages (not the product pages /ja/ /en/ /service…)
    (
        "chatwork",
        False,
        ("chatwork.com",),
        _ci(
            r"chatwork\.com/(?!(?:ja|en|zh|ko|vi|service|features|pricing|login|signup|blog|news|help|security|company|"
            r"plan)\b)[\w.\-]{3,}"
        ),
    ),
    # Skype invites and live: IDs
    (
        "skype",
        False,
        ("skype.com", "live:"),
        _ci(r"join\.skype\.com/\w+") + "|" + _ci(r"live:\.?[\w.\-]{3,}", not_after="(?i:[A-Za-z])"),
    ),
    # Discord invites
    ("discord", False, ("discord",), _ci(r"discord(?:app)?\.(?:gg|com/invite)/[\w\-]+")),
    # Discord name#1234 tags (not PR#1234 / Ticket#2048)
    (
        "discord",
        False,
        ("#",),
        # (?<![A-Za-z0-9_.])(?!(?i:pr|…)#)[A-Za-z][\w.]{1,31}#…, letter first; (?<=(?!…).) looks ahead from the
        # letter's own position; {1,31}+ as '#' is not one of [\w.]
        _lead("[A-Za-z]", "[A-Za-z0-9_.]")
        + r"(?<=(?!(?i:pr|mr|ticket|issue|no|bug|case|order|item|id|ref|task|story|inv|page|ver|v|rev|sprint|step|"
        r"phase)#).)[\w.]{1,31}+#\d{4}(?![0-9])",
    ),
    # Slack workspace invites
    ("slack", False, ("slack.com",), rf"(?i:join\.slack\.com/\S+|{_HOST_LABEL}slack\.com/(?:shared_invite|join)\S*)"),
    # Telegram links
    (
        "telegram",
        False,
        ("t.me", "telegram."),
        _ci(r"t\.me/[\w+]{3,}", not_after=r"(?i:[\w.])") + "|" + _ci(r"telegram\.(?:me|dog)/\w+"),
    ),
    # WhatsApp links
    (
        "whatsapp",
        False,
        ("wa.me", "whatsapp.com"),
        _ci(r"wa\.me/\d+", r"chat\.whatsapp\.com/\w+", r"api\.whatsapp\.com/send\S*"),
    ),
    # WeChat links
    ("wechat", False, ("wechat.com", "weixin"), _ci(r"u\.wechat\.com/\S+", r"weixin\.qq\.com/\S+")),
    # meeting rooms: Zoom, Meet, Teams, Whereby, Jitsi, Calendly, Webex
    (
        "meeting_url",
        False,
        ("zoom.us", "meet.google", "teams.", "whereby", "meet.jit", "calendly", "webex"),
        rf"(?i:(?:{_HOST_LABEL})?zoom\.us/(?:j|my|s|w|wc)/[\w.?=&%\-/]+|meet\.google\.com/[a-z]{{3}}-[a-z]{{4}}-[a-z]{{3}}|"
        r"teams\.microsoft\.com/l/meetup-join\S*|teams\.live\.com/meet/\S+|whereby\.com/[\w\-]+|meet\.jit\.si/[\w\-]+|"
        rf"calendly\.com/[\w\-]+|{_HOST_LABEL}webex\.com/(?:meet|join|[\w\-]+/j\.php)\S*)",
        _ci(
            r"zoom\.us/",
            r"meet\.google\.com/",
            r"teams\.microsoft\.com/l/meetup-join",
            r"teams\.live\.com/meet/",
            r"whereby\.com/",
            r"meet\.jit\.si/",
            r"calendly\.com/",
        )
        + r"|\.(?i:webex\.com/)",
        r"[\w\-.]",  # a host name's labels and dots before its zoom.us/…
    ),
    # a meeting ID read out: ミーティングID 123 4567 8901
    (
        "meeting_url",
        False,
        ("ミーティング", "会議", "meeting"),
        # (?i:ミーティング\s?ID|会議\s?ID|meeting\s?id|ミーティング番号)…
        r"(?:ミーティング\s?(?i:ID)|会議\s?(?i:ID)|"
        + _ci(r"meeting\s?id")
        + r"|ミーティング番号)\s*[:：]?\s*\d[\d\s\-]{8,}",
    ),
    # other messengers' links: Messenger, KakaoTalk open chat, Signal
    (
        "other",
        False,
        ("m.me", "kakao", "signal.me"),
        _ci(r"m\.me/[\w.]+", not_after=r"(?i:[\w.])") + "|" + _ci(r"open\.kakao\.com/\S+", r"signal\.me/\S+"),
    ),
    # asking for the phone number: 電話番号を教えて, 携帯の番号を教えてもらえれば
    (
        "phone",
        True,
        ("電話", "携帯", "ケータイ"),
        rf"(?:電話|携帯|ケータイ)(?:[^。！？!?\n]{{0,10}}?番号)?(?:を|は)?[^。！？!?\n]{{0,4}}?(?:{_ASK}|送って)",
    ),
    # moving to the phone: 電話で説明したい
    ("phone", True, ("電話", "通話"), r"(?:電話|通話)で[^。！？!?\n]{0,4}?(?:話|説明|連絡|相談|打ち合わせ)"),
    # asking for an SNS account: インスタやってますか / インスタのアカウント教えて
    (
        "sns_dm",
        True,
        ("インスタ", "instagram", "ツイッター", "twitter", "tiktok", "x"),
        f"(?:インスタ|ツイッター|{_ci('instagram', 'twitter', 'tiktok')}|{_lead('X', '[A-Za-z0-9]')}(?![A-Za-z0-9]))"
        r"(?:の)?(?:アカウント|ID)?(?:を|は)?(?:やって(?:ます|る|たら)|教えて|交換)",
    ),
    # asking for the e-mail address: メールアドレスを教えて, Gmailアドレス, メアド教えて
    (
        "email",
        True,
        ("メール", "メアド", "gmail", "アドレス"),
        f"(?:メールアドレス|メアド|{_ci('gmail(?:アドレス)?')}|アドレス)" + rf"(?:を|は)?[^。！？!?\n]{{0,3}}?{_ASK}",
    ),
    # asking to exchange contact details: 連絡先を交換, 連絡先（メールか電話）を教えて
    ("other", True, ("連絡先",), r"連絡先[^。！？!?\n]{0,10}?(?:交換|教えて|お伝えください|伺|いただけ)"),
]

# tool names (English ones also spaced out: L I N E, C h a t w o r k) and what follows them
_SP = r"[ ・.]?"
_END = r"(?=ID|[^A-Za-z]|$)"  # end of an English name (LINEID counts)


def _spaced(word: str, then: str = "") -> str:
    """(?<![A-Za-z])(?i:l[ ・.]?i[ ・.]?n[ ・.]?e)(?=ID|[^A-Za-z]|$)then, written to scan fast."""
    return _ci(_SP.join(word), not_after="[A-Za-z]", then=_END + then)


def _word(*words: str, then: str = "") -> str:
    """(?<![A-Za-z])(?i:word|word…)(?![A-Za-z])then: English names as whole words, written to scan fast."""
    return _ci(*words, not_after="[A-Za-z]", then="(?![A-Za-z])" + then)


_TOOLS = [
    (
        "line",
        ("line", "l i", "l・i", "l.i", "ライン", "ラ イ", "ラ・イ", "らいん", "ら い", "ら・い", "緑のアプリ"),
        _spaced("line", then=r"(?:\s?(?i:works))?")
        + f"|{_lead('ラ', '[ァ-ヴー]')}[ ・]?イ[ ・]?ン(?![ァ-ヴー])"
        + f"|{_lead('ら', '[ぁ-ゖ]')}[ ・]?い[ ・]?ん|緑のアプリ",
    ),
    (
        "chatwork",
        ("chat", "c h", "c・h", "チャットワーク", "チャワ"),
        _spaced("chatwork") + f"|チャットワーク|{_lead('チ', '[ァ-ヴー]')}ャワ(?![ァ-ヴー])",
    ),
    ("skype", ("skype", "s k", "s・k", "スカイプ"), _spaced("skype") + "|スカイプ"),
    (
        "discord",
        ("discord", "d i", "d・i", "ディスコ"),
        _spaced("discord") + f"|ディスコード|{_lead('デ', '[ァ-ヴー]')}ィスコ(?![ァ-ヴー])",
    ),
    ("slack", ("slack", "スラック"), _spaced("slack") + "|スラック"),
    ("telegram", ("telegram", "テレグラム"), _spaced("telegram") + "|テレグラム"),
    (
        "whatsapp",
        ("whatsapp", "what's", "what s", "ワッツアップ"),
        _word("what'?s ?app") + "|ワッツアップ",
    ),
    (
        "wechat",
        ("wechat", "we chat", "ウィーチャット", "微信"),
        _word("we ?chat") + "|ウィーチャット|微信",
    ),
    (
        "meeting_url",
        ("zoom", "ズーム", "meet", "ミート", "teams", "チームズ", "webex", "ウェベックス"),
        _word("zoom", "google ?meet", "teams", "webex")
        + f"|{_lead('ズ', '[ァ-ヴー]')}ーム(?![ァ-ヴー])|グーグルミート|{_lead('チ', '[ァ-ヴー]')}ームズ|ウェベックス",
    ),
    (
        "other",
        ("メッセンジャー", "messenger", "kakao", "カカオ", "signal", "viber", "chat", "チャット"),
        _ci("facebook ?", then="メッセンジャー")  # (?i:facebook ?)?メッセンジャー
        + "|メッセンジャー|"
        + _word("messenger", "kakao ?talk", "google ?chat", "viber")
        + f"|{_lead('S', '[A-Za-z]')}ignal(?![A-Za-z])|カカオトーク|Googleチャット|グーグルチャット",
    ),
]
_OFFICIAL_LINE = re.compile(r"公式(?:LINE|ライン)(?=\s*(?:で|に|へ|を|\(|（))", re.I)  # 公式LINEで案件をご紹介

_ID_WORD = r"(?:ID|アイディ|あいでぃー?|アカウント|ユーザー名|ユーザーネーム|名前|ネーム|name)"
_AFTER_TOOL = [
    # an ID after the name: LINE ID: tanaka0123 / ラインID→yamada_design / LINEのIDは sato_k
    (False, rf"\s*(?:の)?\s*(?i:{_ID_WORD})\s*(?:は|:|→|=|-)?\s*@?{_HANDLE}"),
    # an ID-like handle after a separator: ライン：kenta.0707 / Telegram: @crypto_tanaka
    (False, rf"\s*(?:は|:|→|=)\s*@?{_HANDLE_MARKED}"),
    # an @handle after the name: Telegram @fast_jobs_jp
    (False, r"\s+@[A-Za-z0-9_][A-Za-z0-9_.]{2,}"),
    # a handle in brackets: LINE(yamada_k) / テレグラム(@fukugyo_boss)
    (False, rf"\s*[(（]\s*@?{_HANDLE_MARKED}\s*[)）]"),
    # moving the talk there: LINEで連絡しましょう / Chatworkのほうで / チャットワークに招待します
    (
        True,
        r"\s*[)）]?\s*(?:の(?:ほう|方)|のグループ|グループ|サーバー|ワークスペース)?\s*(?:で|に|へ)(?:も|は)?"
        r"[^。！？!?\n]{0,10}?(?:連絡|やり取り|やりとり|話|通話|お伝え|伝え|送って|送ります|送るので|お送り|お願い|"
        r"詳しく|説明|面接|面談|打ち合わせ|打合せ|顔合わせ|会議|ミーティング|画面共有|メッセージ|返事|返信|進め|"
        r"続き|続け|取引|契約|直接|招待|参加|入って|DM|相談|紹介|報告|行い|やって|やりま|しませんか|しましょう|"
        r"移|切り替え|つなが|繋が|登録|フォロー|申請|グループ)",
    ),
    # exchanging or having an account: ライン交換 / LINEやってますか / ﾗｲﾝ教えて / LINEの方が
    (
        True,
        r"\s*(?:を)?(?:交換|教えて|追加(?!機能)|やって(?:ます|る|たら|い|ない)|やってる|友だち追加|友達追加|フレンド|の(?:ほう|方)が)",
    ),
    # its ID/QR/link asked or sent: チャットワークIDを教えて / LINEのQRコードを送る / Google Meetのリンクを送ります
    (
        True,
        rf"\s*(?:の)?\s*(?:(?i:{_ID_WORD})|QRコード|QR|リンク|URL|招待リンク|連絡先|グループ|サーバー|ワークスペース)"
        r"(?:を|は|も|に)?[^。！？!?\n]{0,8}?(?:教えて|送|交換|お伝え|共有|貼|ください|読み取|追加|申請|招待|入って|参加)",
    ),
]

# SNS + DM: a DM ask needs an SNS name, an @handle or a profile link in the same sentence
_AT_HANDLE = _lead("@", r"[A-Za-z0-9._%+\-]") + "[A-Za-z0-9_][A-Za-z0-9_.]{1,29}"  # @handle, not in an address
_SNS_SITES = (r"instagram\.com", r"twitter\.com", r"x\.com", r"tiktok\.com", r"facebook\.com")
_SNS_CONTEXT = re.compile(
    f"{_lead('X', '[A-Za-z0-9]')}(?![A-Za-z0-9])"
    f"|{_ci('twitter', 'instagram', 'insta', 'facebook', 'tiktok', 'threads')}"
    f"|ツイッター|インスタ|フェイスブック|ティックトック|スレッズ|{_AT_HANDLE}|"
    + _ci(*(site + "/" for site in _SNS_SITES), not_after=r"(?i:[\w.\-])")
)
_SNS_HANDLE = re.compile(  # a profile link (not a post, reel, … page) or an @handle
    _ci(
        *(site + r"/(?!(?:p|reel|explore|hashtag|intl|share|hc)/)@?[\w.]+(?!/)" for site in _SNS_SITES),
        not_after=r"(?i:[\w.\-])",
    )
    + f"|{_AT_HANDLE}"
)
_DM_ASK = re.compile(
    f"(?:{_ci('dm')})"  # (?i:DM)
    r"(?:(?:を|で|に|から)?(?:ご|お)?(?:ください|して(?!い)|します|しま|お願い|送っ|送り|ちょうだい|くれ)"
    r"|(?:で|に|から|にて)(?:ご|お)?(?:話|やり取り|やりとり|続き|返事|返信|連絡|送)|(?:で|にて)(?=[。！!?\n]|$))"
)
_SNS_WITH_HANDLE = re.compile(
    f"(?:{_ci('twitter', 'instagram', 'insta', 'tiktok')}|ツイッター|インスタ|{_ci('x')})"
    r"\s*[(（:：]\s*@[A-Za-z0-9_.]{2,}[)）]?"
)
# once a message is known to carry contact details, any "ID: xxx" in it is one too (LINEで…。ID: tanaka77)
_LOOSE_ID = re.compile(  # (?<![A-Za-z])(?:ID|アイディ|あいでぃー?)…
    f"(?:{_lead('I', '[A-Za-z]')}D|{_lead('ア', '[A-Za-z]')}イディ|{_lead('あ', '[A-Za-z]')}いでぃー?)"
    rf"\s*(?:は|:|→|=)?\s*@?{_HANDLE}"
)

# fmt: off
_BANK_OR_ID = ("口座番号", "口座情報", "銀行口座", "振込先", "キャッシュカード", "暗証番号", "ネットバンキング",
               "ログインid", "通帳", "パスワード", "免許証", "マイナンバー", "保険証", "パスポート", "身分証", "住民票",
               "在留カード", "クレジットカード", "カード番号", "本人確認書類")
# fmt: on
# fmt: off
_PAY_TO_WORK = ("登録料", "教材", "研修費", "保証金", "入会金", "初期費用", "サポート費", "マニュアル", "専用ツール",
                "会費", "受講料", "手付金", "事務手数料", "紹介料")
# fmt: on

_SCAM_ROWS = [
    # doing the deal outside: サイト外で直接お取引 / ランサーズ外でやり取り / 外で続けましょう
    (
        "leave_platform",
        True,
        ("外で", "そとで"),
        r"(?:外|そと)で(?:の)?(?:直接)?(?:お?取引|やり取り|やりとり|契約|お願い|続け|結び直|継続|連絡|話|進め)",
    ),
    # bypassing the platform: 通さずに / 介さずに / 経由せず
    ("leave_platform", True, ("通さ", "介さ", "経由せ"), r"(?:通さ|介さ|経由せ)(?:ず|ない)"),
    # a direct deal or payment: 直接契約に切り替えませんか / 直接お支払いします / 直接お振込みで
    (
        "leave_platform",
        True,
        ("直接",),
        r"直接(?:の)?(?:ほうが|方が|契約|取引|お取引|やり取り|やりとり|お?支払|お?振り?込|ご?依頼|お願い|やり|させて|連絡|お仕事|仕事)",
    ),
    # another app or tool: 別のチャットアプリで連絡を / 外部のツールでやり取り
    (
        "leave_platform",
        True,
        ("アプリ", "ツール", "チャット", "連絡手段", "サービス", "sns"),
        r"(?:別の|外部の?|他の|ほかの)(?:チャット)?(?:アプリ|ツール|チャット|連絡手段|サービス|SNS)で"
        r"[^。！？!?\n]{0,6}?(?:連絡|やり取り|やりとり|話|取引|契約)",
    ),
    # hiding from the operator, ignoring the terms: 運営に見られない / 規約は気にしなくて
    (
        "leave_platform",
        True,
        ("運営に", "事務局に", "バレ", "ばれ", "規約は気に"),
        r"運営に(?:は)?(?:内緒|秘密|黙って|言わず)|事務局に(?:は)?(?:内緒|秘密|黙って|言わず)"
        r"|運営に(?:見られ|バレ|ばれ|知られ)ない|バレない(?:ように|ところ)|ばれない(?:ように|ところ)|規約は気にし(?:なくて|ないで)",
    ),
    # skipping the fee: 手数料がもったいない / 手数料分を上乗せ / 手数料を引かれないように
    (
        "fee_evasion",
        True,
        ("手数料", "利用料"),
        r"(?:手数料|利用料)(?:分)?(?:が|を|は|も)?[^。！？!?\n]{0,3}?(?:もったいな|かからな|かからず|浮|節約|なしで|無しで|"
        r"払いたくな|払わな|取られ|損|上乗せ|入らな|引かれな|回避|だけ単価|抜き)",
    ),
    # paying outside the contract: 報酬の一部は別でお振込み / 残りは直接払います
    (
        "fee_evasion",
        True,
        ("一部は", "残りは", "差額は"),
        r"(?:一部|残り|差額)は(?:別で|別途|直接)(?:お?振り?込|払|お?支払)",
    ),
    # work before escrow: 仮払い前に作業を / 仮払い前ですが先に着手 / 仮払い前から作業
    (
        "work_before_escrow",
        True,
        ("仮払",),
        r"仮払い?(?:の)?前(?:に|ですが|でも|だけど|から|なのに)[^。！？!?\n]{0,10}?(?:作業|着手|始め|開始|進め|納品|書|送)",
    ),
    # escrow postponed or skipped: 仮払いは来週 / 仮払いなしで / 仮払いは少し待って / 仮払いは作業完了後に
    (
        "work_before_escrow",
        True,
        ("仮払",),
        r"仮払い?(?:の手続き)?(?:は|を|が)?(?:来週|来月|後で|あとで|後ほど|後日|なし|無し|少し待って|待って|作業完了後|"
        r"納品後|完了後|まとめて|できていな|できていません|遅れ)",
    ),
    # pay after seeing the work: 支払いは納品を見てから / 報酬は後払い / 良ければ仮払いします
    (
        "work_before_escrow",
        True,
        ("支払", "報酬", "契約", "良ければ", "よければ", "気に入"),
        _each(  # (?:お?支払い?|報酬|契約)(?:は)?(?:後で|…)
            "お支払い?",
            "支払い?",
            "報酬",
            "契約",
            then=r"(?:は)?(?:後で|あとで|後ほど|後日|納品を見てから|見てから|後払い|後で結ぶ|あとで結ぶ)",
        )
        + "|"
        + _each("良ければ", "よければ", "気に入ったら", "気に入れば", then=r"(?:仮払い|お?支払|契約)"),
    ),
    # before the contract: 契約前ですが今日から着手
    ("work_before_escrow", True, ("契約",), r"契約(?:の)?前(?:ですが|でも|だけど|なのに)"),
    # work now, pay later: 先に作業を進めてください / 先にテスト納品 / 先に全部納品して
    (
        "work_before_escrow",
        True,
        ("先に",),
        r"先に[^。！？!?\n、]{0,6}?(?:作業|着手|納品|原稿|記事)[^。！？!?\n]{0,6}?"
        r"(?:ください|して|始め|進め|お願い|もらえ|いただけ|もらって)",
    ),
    # bank or identity documents asked for: 口座番号を教えて / 免許証の写真を送って / 暗証番号を確認させて
    (
        "bank_or_id",
        True,
        _BANK_OR_ID,
        r"(?i:口座番号|口座情報|銀行口座|通帳|振込先|キャッシュカード|暗証番号|ネットバンキング|ログインID|パスワード|免許証|"
        r"マイナンバー|保険証|パスポート|身分証|住民票|在留カード|クレジットカード|カード番号|本人確認書類)"
        r"(?:(?!運営|事務局|サイト|設定画面)[^。！？!?\n]){0,14}?(?:(?:教えて|送って|添付して|アップして|提出して|撮影して|確認させて)(?!い[まる])|"
        r"お送り(?:ください|いただ|願)|"
        r"必要です|必要になります|お知らせください|ご連絡ください|をください|記入して|入力して)",
    ),
    # everyone else does it: 他の人はもう始めています / ほかのワーカーさんはみんな / 他の方もそうしています
    (
        "everyone_does_it",
        True,
        ("他の", "ほかの"),
        r"(?:他|ほか)の(?:みなさん|皆さん|みんな|人|方|ライター|ワーカー|受注者|メンバー|クリエイター|デザイナー|フリーランス)(?:さん|さま|様)?"
        r"(?:の方々|たち|達)?(?:は|も)[^。！？!?\n]{0,8}?(?:もう|すでに|既に|みんな|全員|問題なく|そうして|了承|OK)",
    ),
    # みんなやっている / 皆さん仮払い前から / みなさん直接契約 / 業界では普通 / あなただけです
    (
        "everyone_does_it",
        True,
        ("みんな", "みなさん", "皆", "全員", "業界", "普通", "当たり前", "あなただけ"),
        _each(
            "みんな",
            "みなさん",
            "皆さん",
            "皆様",
            "全員",
            then=r"(?:が|も)?(?:やって|して(?:い)?る|そうして|直接|仮払い前|了承|問題なく|OKして)",
        )
        + r"|業界では(?:普通|当たり前|常識)|普通のことです|当たり前のことです|あなただけ(?:です|ですよ)",
    ),
    # paying to get work: 登録料を振り込んで / 教材を購入してください / 保証金として1万円をお預かり
    (
        "upfront_payment",
        True,
        _PAY_TO_WORK,
        r"(?:登録料|教材|研修費|保証金|入会金|初期費用|サポート費|マニュアル|専用ツール|会費|受講料|手付金|事務手数料|紹介料)"
        r"[^。！？!?\n]{0,16}?(?:お?振り?込|お?支払いを?お願い|購入して|購入していただ|購入が必要|が必要です|お預かり|を先に)",
    ),
]

# refusing, reporting or complying in the same clause: the intent is not one
_REFUSAL = re.compile(
    r"でき(?:ません(?!か)|かね|ない(?!で?しょうか|か))|お断り|断っ|禁止|控え|ません(?!か|でしょう)|応じられ|お受けでき|"
    r"対象外|危険|やめ|違反|通報|不要|遠慮|しないで|しないよう|ないように|いけな|ダメ|だめ|とのこと|言われ|聞かれ|"
    r"承認後|承認され|仮払い後|仮払いを確認|確認後|確認でき次第|済ませ|拒否|リスク|気をつけ|詐欺|"
    r"運営(?:にのみ|のみ|だけ)|事務局(?:にのみ|のみ|だけ)"
)
_CLAUSE_END = re.compile(r"[。！？!?\n、,]")
_UP_TO_CLAUSE_END = re.compile(r".*[。！？!?\n、,]", re.S)  # greedy: ends right after the last clause end
_CLAUSE_LOOKBACK, _SENTENCE_LOOKBACK = 80, 200  # chars; keeps long texts linear
_SENTENCE_END = re.compile(r"[。！？!?\n]")
_UP_TO_SENTENCE_END = re.compile(r".*[。！？!?\n]", re.S)


# --- detectors -------------------------------------------------------------------------------------------------


def _refused(norm: str, start: int, end: int) -> bool:
    """The clause around a soft finding refuses or reports it (text outside the finding itself)."""
    lookback = max(0, start - _CLAUSE_LOOKBACK)
    last_end = _UP_TO_CLAUSE_END.match(norm, lookback, start)
    clause_start = last_end.end() if last_end else lookback
    after = _CLAUSE_END.search(norm, end)
    clause_end = after.start() if after else len(norm)
    return bool(_REFUSAL.search(norm, clause_start, start) or _REFUSAL.search(norm, end, clause_end))


def _sentence(norm: str, start: int, end: int) -> tuple[int, int]:
    lookback = max(0, start - _SENTENCE_LOOKBACK)
    last_end = _UP_TO_SENTENCE_END.match(norm, lookback, start)
    tail = _SENTENCE_END.search(norm, end)
    return last_end.end() if last_end else lookback, tail.start() if tail else len(norm)


class _AfterTool:
    """What follows a tool name: the first of `rows` that matches there, unless it is an intent refused in its
    clause — then the next ones. One regex call finds the first: (row0)|(row1)|… , `lastindex` tells which."""

    def __init__(self, rows: list[tuple[bool, str]]):
        self.rows = [(soft, re.compile(pattern)) for soft, pattern in rows]
        self.any_row = re.compile("|".join(f"({pattern})" for _, pattern in rows))

    def end(self, norm: str, start: int, name_end: int) -> int | None:
        hit = self.any_row.match(norm, name_end)
        if hit is None:
            return None
        row = hit.lastindex - 1
        if not self.rows[row][0] or not _refused(norm, start, hit.end()):
            return hit.end()
        for soft, regex in self.rows[row + 1 :]:  # refused: the rows after it, one by one
            hit = regex.match(norm, name_end)
            if hit and (not soft or not _refused(norm, start, hit.end())):
                return hit.end()
        return None


_AFTER_TOOL_ANY = _AfterTool(_AFTER_TOOL)
_AFTER_MEETING_TOOL = _AfterTool([row for row in _AFTER_TOOL if row[0]])  # 「Zoom: 60分」 is not an ID


def _tool_finder(kind: str, pattern: str):
    name_re = re.compile(pattern)
    after = _AFTER_MEETING_TOOL if kind == "meeting_url" else _AFTER_TOOL_ANY

    def find(norm: str) -> list[tuple[int, int, str]]:
        first = name_re.search(norm)
        if first is None:
            return []
        found = []
        for m in name_re.finditer(norm, first.start()):  # from the first match on (it comes first again)
            end = after.end(norm, m.start(), m.end())
            if end is not None:
                found.append((m.start(), end, kind))
        return found

    return find


def _finditer_from_run_starts(regex: re.Pattern, from_run_start: re.Pattern, lead_in_start, norm: str, pos: int):
    r"""regex.finditer(norm, pos) for a regex with _HOST_LABEL in it, where `from_run_start` is the regex with that
    label only tried where a run of [\w\-] starts. A label tried inside a run would match from the char before
    too (up to the same end), so that position is never the leftmost match — except where the scan resumes,
    right after a match: `regex.match` tries that position first. `lead_in_start(norm, pos)` tells where a search
    from pos may start instead."""
    while pos <= len(norm):
        m = regex.match(norm, pos) or from_run_start.search(norm, lead_in_start(norm, pos + 1))
        if m is None:
            return
        yield m
        pos = m.end()


def _finditer_from_lead_ins(regex: re.Pattern, needed: re.Pattern, up_to_lead_in: re.Pattern, norm: str):
    """regex.finditer(norm) for a row with a `lead_in` (see pattern tables): no match starts before the run of
    lead-in chars right before the next `needed` hit, so each search starts there (matches are never empty)."""
    pos = 0
    while hit := needed.search(norm, pos):
        before = up_to_lead_in.match(norm, pos, hit.start())  # up to the last char that is not a lead-in one
        m = regex.search(norm, before.end() if before else pos)
        if m is None:
            return
        yield m
        pos = m.end()


def _lead_in_start(needed: re.Pattern, up_to_lead_in: re.Pattern, norm: str, pos: int) -> int:
    """Where a search from pos may start for a row with a `lead_in`: at the run of lead-in chars right before the
    next `needed` hit (past the end when there is none: no match can be)."""
    hit = needed.search(norm, pos)
    if hit is None:
        return len(norm) + 1
    before = up_to_lead_in.match(norm, pos, hit.start())
    return before.end() if before else pos


def _same_start(norm: str, pos: int) -> int:
    return pos


def _row_finder(kind: str, soft: bool, pattern: str, needs: str | None = None, lead_in: str | None = None):
    regex = re.compile(pattern)
    needed = re.compile(needs) if needs else None
    up_to_lead_in = re.compile(f"(?s:.*)[^{lead_in[1:]}") if lead_in else None
    if lead_in and _HOST_LABEL not in pattern:
        matches = partial(_finditer_from_lead_ins, regex, needed, up_to_lead_in)

        def find_from_lead_ins(norm: str) -> list[tuple[int, int, str]]:
            return [(m.start(), m.end(), kind) for m in matches(norm) if not soft or not _refused(norm, *m.span())]

        return find_from_lead_ins
    matches, first_match = regex.finditer, regex.search
    if _HOST_LABEL in pattern:
        from_run_start = re.compile(pattern.replace(_HOST_LABEL, r"(?<![\w\-])" + _HOST_LABEL))
        start = partial(_lead_in_start, needed, up_to_lead_in) if lead_in else _same_start
        matches = partial(_finditer_from_run_starts, regex, from_run_start, start)

        def first_match(norm: str) -> re.Match | None:
            return next(matches(norm, 0), None)

    def find(norm: str) -> list[tuple[int, int, str]]:
        if needed and not needed.search(norm):
            return []  # no match can be without it
        first = first_match(norm)  # most rows find nothing: one call says so
        if first is None:
            return []
        return [
            (m.start(), m.end(), kind)
            for m in matches(norm, first.start())  # from the first match on (it comes first again)
            if not soft or not _refused(norm, m.start(), m.end())
        ]

    return find


def _sns_spans(norm: str) -> list[tuple[int, int, str]]:
    found = [(m.start(), m.end(), "sns_dm") for m in _SNS_WITH_HANDLE.finditer(norm)]
    for m in _DM_ASK.finditer(norm):
        head, tail = _sentence(norm, m.start(), m.end())
        head = _sentence(norm, max(head - 1, 0), head)[0]  # the sentence before counts too: インスタやってますか？DMで
        if not _SNS_CONTEXT.search(norm, head, tail) or _refused(norm, m.start(), m.end()):
            continue
        found.append((m.start(), m.end(), "sns_dm"))
        found += [(handle.start(), handle.end(), "sns_dm") for handle in _SNS_HANDLE.finditer(norm, head, tail)]
    return found


def _official_line_spans(norm: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), "line") for m in _OFFICIAL_LINE.finditer(norm)]


def _spelled_phone_spans(norm: str) -> list[tuple[int, int, str]]:
    return list(_phone_spans(norm, _SPELLED))


def _numeric_phone_spans(norm: str) -> list[tuple[int, int, str]]:
    return list(_phone_spans(norm))


# (gate words, finds scams rather than contacts, finder) — a detector runs only when one of its gate words occurs.
# The order is the order findings are collected in (the kind of the first contact found is the one a loose
# "ID: xxx" gets).
_DETECTORS = [
    (("0", "〇", "零", "+8"), False, _numeric_phone_spans),
    (("ぜろ", "ゼロ", "れい", "レイ", "まる", "マル", "zero"), False, _spelled_phone_spans),
    (("dm", "@"), False, _sns_spans),
    (("公式",), False, _official_line_spans),
    *((gates, False, _row_finder(kind, soft, pattern, *more)) for kind, soft, gates, pattern, *more in _CONTACT_ROWS),
    *((gates, False, _tool_finder(kind, pattern)) for kind, gates, pattern in _TOOLS),
    *((gates, True, _row_finder(kind, soft, pattern)) for kind, soft, gates, pattern in _SCAM_ROWS),
]


# --- gates: one pass finds which detectors can possibly match ---------------------------------------------------
# A detector runs only when one of its gate words (lower-case literals) occurs in the lower-cased normalised text.
# All gate words are found with regex `findall`s over a trie of them (ab(?:c|d)?…, the longest word at a position
# wins): re tries the alternatives at a position one after the other, so sharing prefixes keeps that short, and the
# words starting with an ASCII char get a regex of their own (most of the chars re stops at are kana or ASCII).
# The trie is tried at every char that starts a gate word, inside words found too — `c(?<=(?=(trie)).)` consumes
# only that first char (and, starting with a char class, still lets re skip to candidates) — so a word overlapping
# another (gmai|line) is found at its own position. A word found also counts for every gate word inside it.
# (Finding words without overlaps and checking each word that could overlap one found with `in` cost more: up to
# seven substring searches per word found.)


class _GateWords:
    """Which of some gate words occur in a text, as a bit mask of the detectors they open."""

    def __init__(self, owners: dict[str, int]):
        first_chars = "".join(re.escape(char) for char in sorted({word[0] for word in owners}))
        # the longest gate word starting at each char that starts one (see above)
        self.regex = re.compile(f"[{first_chars}](?<=(?=({_trie(owners)})).)")
        # a word found also means every gate word inside it occurs
        self.opens = {
            word: _or(owners.get(word[i:j], 0) for i in range(len(word)) for j in range(i + 1, len(word) + 1))
            for word in owners
        }

    def open(self, low: str) -> int:
        found, opens = 0, self.opens
        for word in self.regex.findall(low):  # a word found twice costs less than building a set of them
            found |= opens[word]
        return found


def _or(masks) -> int:
    result = 0
    for mask in masks:
        result |= mask
    return result


def _build_gates() -> tuple[_GateWords, _GateWords]:
    """Gate words → the detectors they open, as bit masks over _DETECTORS; split by the script of the first char."""
    owners: dict[str, int] = {}
    for index, (gates, _, _) in enumerate(_DETECTORS):
        for gate in gates:
            owners[gate.lower()] = owners.get(gate.lower(), 0) | 1 << index
    ascii_first = {word: mask for word, mask in owners.items() if word[0].isascii()}
    others = {word: mask for word, mask in owners.items() if not word[0].isascii()}
    return _GateWords(ascii_first), _GateWords(others)


_GATES = _build_gates()


def _open_detectors(norm: str) -> int:
    """The detectors whose gate words occur, as a bit mask over _DETECTORS."""
    low = norm.lower()
    return _GATES[0].open(low) | _GATES[1].open(low)


# --- scan --------------------------------------------------------------------------------------------------------


def _merge(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping findings become one span (the kind of the earliest, longest one; the first found among equals)."""
    if len(found) < 2:
        return found
    # by start, the longest first among those starting together: two stable sorts (equals keep the order found)
    ordered = sorted(sorted(dict.fromkeys(found), key=_END, reverse=True), key=_START)
    merged = [ordered[0]]
    for start, end, kind in ordered[1:]:
        last_start, last_end, last_kind = merged[-1]
        if start >= last_end:
            merged.append((start, end, kind))
        elif end > last_end:
            merged[-1] = (last_start, end, last_kind)
    return merged


_START, _END = itemgetter(0), itemgetter(1)


def scan(text: str) -> GuardResult:
    """Off-platform contact details and scam signals in `text`, as spans of the original text."""
    if not text:
        return _NOTHING
    norm = _normalise(text)
    open_ = _open_detectors(norm)
    if not open_:
        return _NOTHING
    found: list[tuple[int, int, str]] = []
    scams: list[tuple[int, int, str]] = []
    while open_:  # the detectors in _DETECTORS order: lowest bit first
        bit = open_ & -open_
        open_ ^= bit
        _, is_scam, find = _DETECTORS[bit.bit_length() - 1]
        (scams if is_scam else found).extend(find(norm))
    if found:
        found += [(m.start(), m.end(), found[0][2]) for m in _LOOSE_ID.finditer(norm)]
    contacts = _merge(found)
    scams = _merge(scams)
    if not contacts and not scams:
        return _NOTHING
    # same offsets (most texts, the test of _OffsetMap.identity): no map to build, no mapping call per span
    span = Span if text == norm or not _RESHAPING.search(text) else _OffsetMap(text, norm).span
    return GuardResult(contacts=tuple(starmap(span, contacts)), scams=tuple(starmap(span, scams)))


_NOTHING = GuardResult()  # immutable: one for every clean text


def mask(text: str, spans) -> str:
    """The text with every span replaced by ●●● (one run per span, whatever its length; overlapping spans
    make one run covering both)."""
    out, last = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < last:
            last = max(last, span.end)
            continue
        out.append(text[last : span.start])
        out.append("●●●")
        last = span.end
    out.append(text[last:])
    return "".join(out)
