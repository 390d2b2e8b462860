"""The contact guard's shortcuts never change what it finds: the gate (which detectors may run) never closes one
that would find something, and the quick phone-digit path reads the same digits as the full one. Each test
compares a shortcut with the slow, plain way on the labelled corpus and on texts built from it."""

import json
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
