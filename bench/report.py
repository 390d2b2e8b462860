"""docs/benchmarks.md from one run's results: figures, charts (SVG beside it) and the issue's targets, each ✅/❌.
A hand-written "## Changes" section (what was fixed and its effect) is kept from the previous file as it is."""

from pathlib import Path

from bench import charts
from bench.http_mix import CEILING, REFERENCES

SEND_SHARE, PAGE_SHARE, P95_MS, GROWTH, TICK_RATE, SEARCH_P95, GUARD_RATE = 35, 25, 50, 1.5, 2_000, 30, 20_000
CHANGES = "## Changes"


def ok(passed: bool) -> str:
    return "✅" if passed else "❌"


def _ms(value: float) -> str:
    return f"{value:,.1f}"


def http_targets(mix: dict, labels: dict) -> list[tuple[str, bool, str]]:
    rows = []
    for name, runs in mix.items():
        if name in REFERENCES:
            continue
        need = SEND_SHARE if name == "send" else PAGE_SHARE
        worst = min(r["share"] or 0 for r in runs.values())
        failures = sum(r["failures"] for r in runs.values())
        measured = f"lowest {worst}%" + (f", {failures} failures" if failures else "")
        rows.append((f"{labels[name]}: ≥ {need}% of the ceiling at every concurrency, no failures",
                     worst >= need and not failures, measured))
        if 8 in runs:
            p95 = runs[8]["p95_ms"]
            rows.append((f"{labels[name]}: p95 < {P95_MS} ms at c=8", p95 < P95_MS, f"{_ms(p95)} ms"))
    return rows


def http_section(mix: dict, labels: dict, notes: dict, chart: str) -> str:
    concurrencies = sorted(next(iter(mix.values())))
    lines = ["| endpoint | c | req/s | % of ceiling | p50 ms | p95 ms | p99 ms | failures |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, runs in mix.items():
        for c in concurrencies:
            r = runs[c]
            bad = f"**{r['failures']}** ({' '.join(r['non2xx_statuses']) or 'socket'})" if r["failures"] else "0"
            lines.append(f"| {labels[name]} | {c} | {r['rps']:,.1f} | {r['share']}% | {_ms(r['p50_ms'])} | "
                         f"{_ms(r['p95_ms'])} | {_ms(r['p99_ms'])} | {bad} |")
    explained = "\n".join(f"- {labels[n]}: {text}" for n, text in notes.items() if text)
    return "\n".join(lines) + f"\n\n{explained}\n\n![HTTP mix]({chart})\n"


def growth_section(small: dict, full: dict, labels: dict, chart: str) -> tuple[str, list]:
    lines = ["| endpoint | 10k p95 ms | full p95 ms | full / 10k | target |", "|---|---:|---:|---:|:---:|"]
    targets = []
    for name in full:
        a, b = small[name][8]["p95_ms"], full[name][8]["p95_ms"]
        ratio = b / a if a else float("inf")
        passed = ratio <= GROWTH
        lines.append(f"| {labels[name]} | {_ms(a)} | {_ms(b)} | {ratio:.2f}× | {ok(passed)} |")
        if name not in REFERENCES:
            targets.append((f"{labels[name]}: full-size p95 ≤ {GROWTH}× the 10k p95 (c=8)", passed, f"{ratio:.2f}×"))
    return "\n".join(lines) + f"\n\n![Growth]({chart})\n", targets


def timers_section(runs: list[dict], chart: str) -> tuple[str, list]:
    lines = ["| sweepers | due | settled | seconds | settlements/s | audit twice | release twice | incomplete |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        settled = f"{r['settled']:,}" + (" (stopped at the deadline)" if r["timed_out"] else "")
        lines.append(f"| {r['processes']} | {r['due']:,} | {settled} | {r['seconds']} | **{r['per_second']:,}** | "
                     f"{r['double_audit']} | {r['double_release']} | {r['incomplete']} |")
    kinds = ", ".join(f"{k} ×{n:,}" for k, n in sorted(runs[0]["by_kind"].items())) if runs else ""
    one = runs[0]["per_second"] if runs else 0
    more = runs[-1]["per_second"] if len(runs) > 1 else 0
    wrong = sum(r["double_audit"] + r["double_release"] + r["incomplete"] for r in runs)
    finished = all(not r["timed_out"] and r["settled"] == r["due"] for r in runs)
    targets = [(f"tick ≥ {TICK_RATE:,} settlements/s with one process", one >= TICK_RATE, f"{one:,}/s"),
               ("tick faster with two processes than with one", more > one, f"{more:,}/s"),
               ("zero double settlements (and none half done)", wrong == 0, f"{wrong}"),
               ("every due deemed acceptance settled within the deadline", finished,
                "yes" if finished else "no: " + ", ".join(f"{r['settled']:,}/{r['due']:,}" for r in runs))]
    reported = (f"What the first run's `tick` reported: {kinds}." if kinds
                else "The first run was stopped at the deadline, before `tick` could report.")
    return "\n".join(lines) + f"\n\n{reported}\n\n![Timers]({chart})\n", targets


def search_section(search: dict, chart: str) -> tuple[str, list]:
    lines = ["| search | term | hits | p50 ms | p95 ms |", "|---|---|---:|---:|---:|"]
    targets = []
    for name in ("jobs", "listings"):
        s = search[name]
        for term, t in s["terms"].items():
            lines.append(f"| {name} | {term} | {t['hits']:,} | {_ms(t['p50_ms'])} | {_ms(t['p95_ms'])} |")
        lines.append(f"| **{name}, all terms** | | | **{_ms(s['p50_ms'])}** | **{_ms(s['p95_ms'])}** |")
        targets.append((f"{name} search p95 < {SEARCH_P95} ms at full size", s["p95_ms"] < SEARCH_P95,
                        f"{_ms(s['p95_ms'])} ms"))
    totals = search["totals"]
    intro = (f"Over {totals['jobs']:,} jobs ({totals['open_jobs']:,} open, the ones the page lists) and "
             f"{totals['active_listings']:,} active listings.\n\n")
    return intro + "\n".join(lines) + f"\n\n![Search]({chart})\n", targets


def write_charts(results: dict, labels: dict, chart_dir: Path) -> dict:
    chart_dir.mkdir(parents=True, exist_ok=True)
    full = results["http_full"]
    names = list(full)
    concurrencies = sorted(full[CEILING])
    svg = {
        "http": charts.bars("HTTP mix at full size: throughput as % of the SELECT 1 ceiling",
                            [labels[n] for n in names],
                            [(f"c={c}", [full[n][c]["share"] for n in names]) for c in concurrencies],
                            "% of ceiling", PAGE_SHARE, f"{PAGE_SHARE}% (pages)"),
        "growth": charts.bars("Growth: p95 at concurrency 8, 10k vs full size", [labels[n] for n in names],
                              [("10k", [results["http_10k"][n][8]["p95_ms"] for n in names]),
                               ("full", [full[n][8]["p95_ms"] for n in names])], "ms", P95_MS, f"{P95_MS} ms"),
        "timers": charts.bars("Timers: deemed acceptances settled per second",
                              [f"{r['processes']} sweeper(s)" for r in results["timers"]],
                              [("settlements/s", [r["per_second"] for r in results["timers"]])],
                              "settlements/s", TICK_RATE, f"{TICK_RATE:,}/s"),
        "search": charts.bars("Search at full size: latency over all terms", ["jobs", "listings"],
                              [("p50", [results["search"][n]["p50_ms"] for n in ("jobs", "listings")]),
                               ("p95", [results["search"][n]["p95_ms"] for n in ("jobs", "listings")])],
                              "ms", SEARCH_P95, f"{SEARCH_P95} ms"),
    }
    paths = {}
    for name, text in svg.items():
        path = chart_dir / f"{name}.svg"
        path.write_text(text, encoding="utf-8")
        paths[name] = f"{chart_dir.name}/{path.name}"
    return paths


def render(results: dict, out: Path, previous: str, guard_section: str, head: str) -> str:
    labels, notes = results["labels"], results["notes"]
    chart = write_charts(results, labels, out.parent / out.stem)
    growth, growth_targets = growth_section(results["http_10k"], results["http_full"], labels, chart["growth"])
    timers, timer_targets = timers_section(results["timers"], chart["timers"])
    search, search_targets = search_section(results["search"], chart["search"])
    guard_rate = min(r["messages_per_second"] for r in results["guard"].values())
    targets = [*http_targets(results["http_full"], labels), *growth_targets, *timer_targets, *search_targets,
               (f"contact guard ≥ {GUARD_RATE:,} messages/s per core (every mix)", guard_rate >= GUARD_RATE,
                f"lowest {guard_rate:,}/s")]
    target_table = "\n".join(["| target | measured | |", "|---|---:|:---:|",
                              *(f"| {t} | {m} | {ok(p)} |" for t, p, m in targets)])
    passed = sum(p for _, p, _ in targets)
    full, small = results["manifests"]["full"], results["manifests"]["10k"]
    changes = previous[previous.index(CHANGES):] if CHANGES in previous else ""
    return f"""{head}

## Targets (issue 6)

{passed} of {len(targets)} met.

{target_table}

## HTTP mix (full size)

gunicorn `anshin.wsgi`, {results['server']['workers']} sync workers (one per core), `DEBUG` off, PostgreSQL
`{results['databases']['full']}` (loadgen seed {full.get('seed')}, scale {full.get('scale')}: {_sizes(full)}).
wrk {results['wrk']} on loopback, one endpoint at a time for {results['seconds']} s per run (≤ 2 threads, after a
{results['warmup']} s warm-up of each endpoint). Throughput counts 2xx answers only; any other status is a failure.
The ceiling is the same server answering `GET /bench/ceiling/` (`SELECT 1`, a 2-byte body; mounted only with
`ANSHIN_BENCH=1`), measured at each concurrency just before the endpoints. Pages are requested with a session
cookie of the loadgen persona; messages are sent with its API token.

{http_section(results['http_full'], labels, notes, chart['http'])}
## Growth (10k rows vs full size)

The same mix at concurrency 8 on `{results['databases']['10k']}` (scale {small.get('scale')}: {_sizes(small)}).
Latency must not grow with the data: target full p95 ≤ {GROWTH}× the 10k p95.

{growth}
## Timers

`manage.py tick --no-mail --no-figures` (bench/tick_timed.py runs the command and times it after Django's
start-up; e-mail and profile figures are other processes in production), on a fresh copy of
`{results['databases']['full']}` per run, so each run settles the same due deemed acceptances (delivered
contracts past their 7-day inspection window). With two sweepers the processes run at once; the time
is from the first start to the last finish; a run still going after {results['tick_timeout']} s is stopped and
measured on what it settled by then. Checked afterwards: one `deem_accept` audit event and one release journal
entry per settled contract, none twice.

{timers}
## Search (full size)

`bench/search.py`, in-process: `jobs.selectors.job_search` and `orders.selectors.listing_search` for each of the
manifest's search terms, paginated as the pages do (count and the first page of 20), {results['search_repeats']}
times each after a warm-up.

{search}
{guard_section}
{changes}"""


def _sizes(manifest: dict) -> str:
    sizes = manifest.get("sizes") or {}
    return ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in sizes.items()) or "sizes unknown"
