"""`manage.py guard_eval FILE.jsonl [--quiet]`: precision and recall of the contact guard on a labelled corpus.

Each line is `{"text": ..., "contact": bool, "scam": bool}` (other fields such as "note" are shown with misses,
the rest ignored). Fails (non-zero exit) when a label misses its target. Pure: no database access."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from anshin.trust.contact_guard import scan

# label -> (minimum precision, minimum recall)
TARGETS = {
    "contact": (0.98, 0.97),
    "scam": (0.90, 0.85),
}
SNIPPET = 80


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list = field(default_factory=list)  # (FN|FP, text, note)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def load(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row.get("text"), str):
                raise ValueError("no text")
        except ValueError as error:
            raise CommandError(f"{path}:{number}: not a corpus line ({error})") from error
        rows.append(row)
    return rows


def evaluate(rows: list[dict]) -> dict[str, Tally]:
    tallies = {label: Tally() for label in TARGETS}
    for row in rows:
        result = scan(row["text"])
        for label, tally in tallies.items():
            expected, got = bool(row.get(label)), getattr(result, label)
            if expected and got:
                tally.tp += 1
            elif got:
                tally.fp += 1
                tally.misses.append(("FP", row["text"], row.get("note", "")))
            elif expected:
                tally.fn += 1
                tally.misses.append(("FN", row["text"], row.get("note", "")))
    return tallies


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1] + "…"


class Command(BaseCommand):
    help = "Measure the contact guard's precision and recall on a labelled JSONL corpus."
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--quiet", action="store_true", help="do not list the misses")

    def handle(self, *args, file: Path, quiet: bool, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        rows = load(file)
        if not rows:
            raise CommandError(f"{file}: empty corpus")
        tallies = evaluate(rows)
        failed = []
        self.stdout.write(f"{len(rows)} texts from {file}")
        for label, tally in tallies.items():
            min_p, min_r = TARGETS[label]
            ok = tally.precision >= min_p and tally.recall >= min_r
            if not ok:
                failed.append(label)
            verdict = self.style.SUCCESS("PASS") if ok else self.style.ERROR("FAIL")
            self.stdout.write(
                f"{label:8} TP={tally.tp} FP={tally.fp} FN={tally.fn}  precision={tally.precision:.3f} "
                f"(target ≥{min_p:.2f})  recall={tally.recall:.3f} (target ≥{min_r:.2f})  {verdict}"
            )
            if not quiet:
                for what, text, note in tally.misses:
                    self.stdout.write(f"  {what} {_snippet(text)}" + (f"  [{note}]" if note else ""))
        if failed:
            raise CommandError(f"guard below target for: {', '.join(failed)}")
