"""The contact guard's shortcuts never change what it finds: the gate (which detectors may run) never closes one
that would find something, and the quick phone-digit path reads the same digits as the full one. Each test
compares a shortcut with the slow, plain way on the labelled corpus and on texts built from it."""

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anshin.trust import contact_guard as guard

CORPUS = Path(__file__).resolve().parent.parent / "data" / "guard_corpus.jsonl"
LINES = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
ALL_DETECTORS = (1 << len(guard._DETECTORS)) - 1


def spans(result):
    return [(s.start, s.end, s.kind) for s in result.contacts], [(s.start, s.end, s.kind) for s in result.scams]


def closed_but_finding(text: str) -> list[int]:
    """Detectors the gate keeps closed on `text` although they find something there."""
    norm = guard._normalise(text)
    open_ = guard._open_detectors(norm)
    return [i for i, (_, _, find) in enumerate(guard._DETECTORS) if not open_ >> i & 1 and find(norm)]


# every corpus line, and five lines joined as a typical message is (bench/guard_throughput.py)
MESSAGES = LINES + ["\n".join(LINES[i : i + 5]) for i in range(0, len(LINES) - 5, 5)]


def test_the_gate_never_closes_a_detector_that_finds_something_in_the_corpus():
    assert {text: closed for text in MESSAGES if (closed := closed_but_finding(text))} == {}


def test_scanning_with_every_detector_open_finds_the_same(monkeypatch):
    gated = [spans(guard.scan(text)) for text in MESSAGES]
    monkeypatch.setattr(guard, "_open_detectors", lambda norm: ALL_DETECTORS)
    assert [spans(guard.scan(text)) for text in MESSAGES] == gated


corpus_texts = st.lists(st.sampled_from(LINES), min_size=1, max_size=6).flatmap(
    lambda lines: st.sampled_from(["", "\n", " ", "。", "、"]).map(lambda sep: sep.join(lines))
)


@settings(max_examples=300, deadline=None)
@given(corpus_texts, st.data())
def test_the_gate_never_closes_a_detector_on_joined_or_cut_corpus_texts(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    for sample in (text, text[start:end], text.upper()):
        assert closed_but_finding(sample) == []


def phone_runs(text: str) -> list[str]:
    norm = guard._normalise(text)
    return [m.group() for regex in (guard._PHONE_RUN, guard._PHONE_INTL) for m in regex.finditer(norm)]


@pytest.mark.parametrize("run", sorted({run for text in LINES for run in phone_runs(text)}))
def test_the_quick_phone_digits_are_the_digits_of_the_groups(run):
    assert guard._numeric_digits(run) == "".join(digits for digits, _ in guard._numeric_groups(run))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789〇零一二三四五六七八九 -ー()・.", min_size=1, max_size=30))
def test_the_quick_phone_digits_agree_on_any_run(run):
    assert guard._numeric_digits(run) == "".join(digits for digits, _ in guard._numeric_groups(run))


LEAD_IN_ROWS = [row for row in guard._CONTACT_ROWS if len(row) > 5]  # rows searched from before their `needs` hit


def plain_spans(pattern: str, norm: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(pattern, norm)]


def lead_in_spans(row, norm: str) -> list[tuple[int, int]]:
    kind, soft, _, pattern, *more = row
    return [(start, end) for start, end, _ in guard._row_finder(kind, soft, pattern, *more)(norm)]


def test_the_lead_in_rows_are_the_e_mail_and_meeting_link_ones():
    assert sorted({row[0] for row in LEAD_IN_ROWS}) == ["email", "meeting_url"]


@pytest.mark.parametrize("row", LEAD_IN_ROWS, ids=lambda row: row[3][:30])
def test_searching_from_the_lead_in_finds_what_the_plain_regex_finds_in_the_corpus(row):
    for text in MESSAGES:
        norm = guard._normalise(text)
        assert lead_in_spans(row, norm) == plain_spans(row[3], norm), text


# texts with marks far from their address, spaces and symbols around: a too-short lead-in would miss a start
lead_in_texts = st.lists(
    st.sampled_from(LINES)
    | st.sampled_from(["@", " at ", "(アット)", "[", "(", " dot ", ".", "zoom.us/j/1", "あ", "\n"]),
    min_size=1,
    max_size=8,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(lead_in_texts)
def test_searching_from_the_lead_in_finds_what_the_plain_regex_finds_on_built_texts(text):
    norm = guard._normalise(text)
    for row in LEAD_IN_ROWS:
        assert lead_in_spans(row, norm) == plain_spans(row[3], norm)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*guard._SPELLED_DIGITS, "ZERO", "Nine", " ", "-", "、", "の", "ー"]), max_size=20))
def test_the_quick_spelled_digits_are_the_digits_of_the_groups(words):
    run = "".join(words)
    assert guard._spelled_digits(run) == "".join(digits for digits, _ in guard._spelled_groups(run))
