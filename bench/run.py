"""`make bench`: runs the benchmarks and writes docs/benchmarks.md (machine, date, figures).

Timings are measured here, never asserted in tests. Today: the contact guard's throughput (issue 4); the HTTP
mix, growth, timer and search sections come with issue 6."""

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks.md"
GUARD_TARGET = 20_000


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}, {platform.system()}"


def guard() -> dict:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "guard_throughput.py"), "--json"],
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out)


def main() -> int:
    results = guard()
    now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=9)))
    rows = "\n".join(
        f"| {name} | {r['messages']:,} | {r['avg_chars']} | **{r['messages_per_second']:,}** | "
        f"{'✅' if r['messages_per_second'] >= GUARD_TARGET else '❌'} |"
        for name, r in results.items()
    )
    OUT.write_text(f"""# Benchmarks

Written by `make bench` ({Path(__file__).relative_to(ROOT)}); figures from one run, not test assertions.

- Date: {now:%Y-%m-%d %H:%M} JST
- Machine: {machine()}

## Contact guard (issue 4)

`bench/guard_throughput.py`: `trust.contact_guard.scan` on one core (the process is pinned to one CPU).
`corpus` = the labelled corpus lines (`tests/data/guard_corpus.jsonl`: short, half of them contact details and
obfuscations); `typical` = five corpus lines joined per message, the length of an ordinary chat message.
Target: ≥ {GUARD_TARGET:,} messages per second.

| mix | messages | avg chars | messages/s | target |
|---|---:|---:|---:|:---:|
{rows}
""", encoding="utf-8")
    print(OUT.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
