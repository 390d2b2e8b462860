"""Search latency in-process: the work the job list (top page) and the service list do for a keyword — the
selector, paginated as the page paginates it (the count and the first page of 20) — for each of the manifest's
search terms, repeated. Prints JSON: p50/p95 in ms per selector, and per term.

Run with the bench environment (bench/server.py `bench_env`): `python bench/search.py MANIFEST [REPEATS]`."""

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anshin.settings")

import django  # noqa: E402

django.setup()

from django.core.paginator import Paginator  # noqa: E402
from django.db import connection  # noqa: E402

from anshin.jobs import selectors as jobs  # noqa: E402
from anshin.jobs.views import PAGE_SIZE  # noqa: E402
from anshin.orders import selectors as orders  # noqa: E402

SELECTORS = {"jobs": jobs.job_search, "listings": orders.listing_search}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(search, term: str) -> tuple[float, int]:
    started = time.perf_counter()
    page = Paginator(search(q=term), PAGE_SIZE).get_page(1)
    list(page.object_list)
    return (time.perf_counter() - started) * 1000, page.paginator.count


def main(manifest_path: str, repeats: int = 20) -> int:
    terms = json.loads(Path(manifest_path).read_text(encoding="utf-8"))["persona"]["search_terms"]
    connection.ensure_connection()
    results = {}
    for name, search in SELECTORS.items():
        for term in terms:  # warm-up: plans, caches
            timed(search, term)
        samples, per_term = [], {}
        for term in terms:
            times = []
            for _ in range(repeats):
                ms, hits = timed(search, term)
                times.append(ms)
            samples += times
            per_term[term] = {"hits": hits, "p50_ms": round(statistics.median(times), 2),
                              "p95_ms": round(percentile(times, 95), 2)}
        results[name] = {"samples": len(samples), "p50_ms": round(statistics.median(samples), 2),
                         "p95_ms": round(percentile(samples, 95), 2), "terms": per_term}
    results["totals"] = {
        "jobs": jobs.job_search(include_closed=True).count(), "open_jobs": jobs.job_search().count(),
        "active_listings": orders.listing_search().count()}
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], *map(int, sys.argv[2:3])))
