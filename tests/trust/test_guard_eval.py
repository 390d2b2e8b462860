"""`manage.py guard_eval` measures the contact guard on the labelled corpus: the shipped guard meets its targets,
the corpus is big and hard enough to mean something, and a guard below target fails the command."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from anshin.trust.management.commands.guard_eval import TARGETS

CORPUS = Path(__file__).resolve().parent.parent / "data" / "guard_corpus.jsonl"


def run(path: Path, *args) -> str:
    out = StringIO()
    call_command("guard_eval", str(path), *args, stdout=out)
    return out.getvalue()


def test_the_guard_meets_its_targets_on_the_corpus():
    output = run(CORPUS)
    assert output.count("PASS") == 2 and "FAIL" not in output
    for label in TARGETS:
        assert f"{label}" in output and "precision=" in output and "recall=" in output


def test_the_corpus_is_large_and_mostly_hard():
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 400
    assert sum(1 for row in rows if row.get("hard_negative")) / len(rows) >= 0.45
    assert all(
        isinstance(row["text"], str) and isinstance(row["contact"], bool) and isinstance(row["scam"], bool)
        for row in rows
    )
    assert sum(row["contact"] for row in rows) >= 100 and sum(row["scam"] for row in rows) >= 50


def test_the_targets_are_the_agreed_ones():
    assert TARGETS == {"contact": (0.98, 0.97), "scam": (0.90, 0.85)}


def write(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n", encoding="utf-8")
    return path


def test_a_corpus_the_guard_gets_wrong_fails_and_lists_the_misses(tmp_path):
    path = write(
        tmp_path,
        [
            {"text": "予算は¥30,000です", "contact": True, "scam": False, "note": "mislabelled on purpose"},
            {"text": "090-1234-5678", "contact": False, "scam": False},
            {"text": "よろしくお願いします", "contact": False, "scam": True},
        ],
    )
    out = StringIO()
    with pytest.raises(CommandError, match="contact"):
        call_command("guard_eval", str(path), stdout=out)
    output = out.getvalue()
    assert "FN 予算は¥30,000です  [mislabelled on purpose]" in output
    assert "FP 090-1234-5678" in output
    assert "FAIL" in output


def test_quiet_leaves_out_the_misses(tmp_path):
    path = write(tmp_path, [{"text": "090-1234-5678", "contact": False, "scam": False}])
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("guard_eval", str(path), "--quiet", stdout=out)
    assert "FP" not in out.getvalue().replace("FP=", "")


def test_a_good_tiny_corpus_passes(tmp_path):
    path = write(
        tmp_path,
        [
            {"text": "LINE ID: abc_123", "contact": True, "scam": False},
            {"text": "仮払い前に作業を始めてください", "contact": False, "scam": True},
            {"text": "納期は2026/11/26です", "contact": False, "scam": False},
        ],
    )
    output = run(path)
    assert "precision=1.000" in output and output.count("PASS") == 2


@pytest.mark.parametrize("content", ["not json\n", '{"contact": true}\n', ""])
def test_a_broken_or_empty_file_is_refused(tmp_path, content):
    path = tmp_path / "broken.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("guard_eval", str(path), stdout=StringIO())


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("guard_eval", str(tmp_path / "nope.jsonl"), stdout=StringIO())
