"""`make bench`: every benchmark of issue 6 against PostgreSQL and the production server, written to
docs/benchmarks.md with one SVG chart per section (docs/benchmarks/). Timings are measured here, never asserted
in tests; every HTTP figure is also a ratio to the SELECT 1 ceiling measured in the same run.

Order: the contact guard; the two databases (created, migrated and loaded by `manage.py loadgen` when missing
or stale); timers and search on the full one; the HTTP mix on the full one at concurrency 1, 8, 32 and on the
10k one at 8 (growth). `BENCH_PG_URL` names the PostgreSQL server.

`BENCH_QUICK=1`: tiny databases and 2-second runs (a smoke test of the harness in a few minutes);
`BENCH_FULL_SCALE=0.1`: a real run with the 10k database standing in for the full one. Both write to
var/bench/<quick|scale-…>/ instead of docs/."""

import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import databases, http_mix, report, timers  # noqa: E402
from bench.server import bench_env, serving  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PREFIX, SMALL_SCALE = ("anshin_bench_quick", 0.002) if QUICK else ("anshin_bench", 0.1)
FULL_SCALE = float(os.environ.get("BENCH_FULL_SCALE") or (0.01 if QUICK else 1.0))
DATABASES = {"10k": (f"{PREFIX}_10k", SMALL_SCALE),
             "full": (f"{PREFIX}_10k", SMALL_SCALE) if FULL_SCALE == SMALL_SCALE else (f"{PREFIX}_full", FULL_SCALE)}
OFFICIAL = not QUICK and FULL_SCALE == 1.0  # only a real full-size run writes docs/
OUT = (ROOT / "docs" / "benchmarks.md" if OFFICIAL
       else ROOT / "var" / "bench" / ("quick" if QUICK else f"scale-{FULL_SCALE:g}") / "benchmarks.md")
RESULTS = (ROOT / "var" / "bench" / "results.json") if OFFICIAL else OUT.parent / "results.json"  # raw figures
SECONDS, WARMUP = (2, 1) if QUICK else (8, 2)
SEARCH_REPEATS = 3 if QUICK else 20
TICK_TIMEOUT = 60 if QUICK else 120  # seconds per run: a slow sweeper is measured, not waited for
GUARD_TARGET = 20_000
STARTED = time.monotonic()
TRIAL = (" with BENCH_QUICK=1 (tiny data, short runs: a smoke test)" if QUICK
         else f" with BENCH_FULL_SCALE={FULL_SCALE:g} (not the full size)")


def log(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.0f} s] {text}", flush=True)


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


def postgres_version(server: databases.Server) -> str:
    with server.admin() as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


def guard() -> dict:
    messages = ["--messages", "5000"] if QUICK else []
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "guard_throughput.py"), "--json", *messages],
                         check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out)


def guard_section(results: dict) -> str:
    rows = "\n".join(
        f"| {name} | {r['messages']:,} | {r['avg_chars']} | **{r['messages_per_second']:,}** | "
        f"{'✅' if r['messages_per_second'] >= GUARD_TARGET else '❌'} |"
        for name, r in results.items()
    )
    return f"""## Contact guard (issue 4)

`bench/guard_throughput.py`: `trust.contact_guard.scan` on one core (the process is pinned to one CPU).
`corpus` = the labelled corpus lines (`tests/data/guard_corpus.jsonl`: short, half of them contact details and
obfuscations); `typical` = five corpus lines joined per message, the length of a chat message, still half of
the lines with contact details (a worst case); `chat` = five ordinary lines (the corpus's hard negatives) per
message, one message in fifty also carrying a contact detail: the average message.
Target: ≥ {GUARD_TARGET:,} messages per second.

| mix | messages | avg chars | messages/s | target |
|---|---:|---:|---:|:---:|
{rows}
"""


def django_json(database_url: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, *args], cwd=ROOT, env=bench_env(database_url), capture_output=True,
                         text=True, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def http(server: databases.Server, name: str, concurrencies, results: dict) -> dict:
    url = server.database_url(name)
    manifest = databases.manifest_path(name)
    credentials = django_json(url, "bench/persona.py", str(manifest))
    persona = json.loads(manifest.read_text(encoding="utf-8"))["persona"]
    mix = http_mix.endpoints(persona, credentials)
    results["labels"] = {e.name: e.label for e in mix}
    results["notes"] = {e.name: e.notes for e in mix}
    with serving(url, ROOT / "var" / "bench" / f"gunicorn-{name}.log") as base:
        return http_mix.run(base, mix, concurrencies, SECONDS, WARMUP, log=log)


def main() -> int:
    server = databases.Server(PG_URL)
    now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=9)))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0
    wrk_version = subprocess.run([http_mix.wrk_binary(), "--version"], capture_output=True, text=True).stdout
    results: dict = {"seconds": SECONDS, "warmup": WARMUP, "search_repeats": SEARCH_REPEATS,
                     "tick_timeout": TICK_TIMEOUT, "server": {"workers": os.cpu_count()},
                     "wrk": (wrk_version.split() or ["?"])[1],
                     "databases": {k: v[0] for k, v in DATABASES.items()}}
    log("contact guard")
    results["guard"] = guard()
    log("databases")
    results["manifests"] = {}
    for key, (name, scale) in DATABASES.items():
        same = next((m for k, m in results["manifests"].items() if DATABASES[k][0] == name), None)
        results["manifests"][key] = same or databases.ensure(server, name, scale, log=log)
    full = DATABASES["full"][0]
    log(f"timers on copies of {full}")
    results["timers"] = timers.run(server, full, (1, 2), TICK_TIMEOUT, log=log)
    log(f"search on {full}")
    results["search"] = django_json(server.database_url(full), "bench/search.py",
                                    str(databases.manifest_path(full)), str(SEARCH_REPEATS))
    log(f"HTTP mix on {full}")
    results["http_full"] = http(server, full, http_mix.CONCURRENCIES, results)
    log(f"HTTP mix on {DATABASES['10k'][0]} (growth, c=8)")
    results["http_10k"] = http(server, DATABASES["10k"][0], (8,), results)
    elapsed = time.monotonic() - STARTED
    results["elapsed_seconds"] = round(elapsed)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    loaded = sorted({DATABASES[k][0] for k, m in results["manifests"].items() if m.get("loaded_now")})
    head = f"""# Benchmarks

Written by `make bench` (bench/run.py){'' if OFFICIAL else TRIAL};
figures from one run, not test assertions. Absolute times drift on a shared machine: read the ratios.

- Date: {now:%Y-%m-%d %H:%M} JST; the whole run took {elapsed / 60:.1f} minutes"""\
        f"""{f" (loading {', '.join(loaded)} included)" if loaded else ''}
- Machine: {machine()}; PostgreSQL {postgres_version(server)}; load average {load:.1f} at the start"""
    previous = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
    OUT.write_text(report.render(results, OUT, previous, guard_section(results["guard"]), head), encoding="utf-8")
    log(f"wrote {OUT.relative_to(ROOT)} in {elapsed / 60:.1f} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
