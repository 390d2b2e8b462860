"""Timers: `tick` settling the due deemed acceptances (検収 silence → accepted: ledger release, audit event,
outbox) with 1 and with N sweeper processes at once, each run on a fresh clone of the loaded database so all
start from the same due rows. Afterwards every settled contract must have been accepted exactly once: one
`deem_accept` audit event and one release journal entry each, none twice. A run still going at the deadline is
stopped and measured on what it settled by then."""

import json
import subprocess
import sys
import time
from pathlib import Path

from bench.databases import Server
from bench.server import bench_env

SCRIPT = Path(__file__).resolve().parent / "tick_timed.py"

DUE_SQL = "SELECT id FROM contracts_contract WHERE state = 'delivered' AND due_at <= now()"
CHECK_SQL = """
WITH due AS (SELECT c.id, c.state = 'accepted' AS settled FROM contracts_contract c
             WHERE c.id = ANY(%(ids)s)),
audit AS (
    SELECT e.subject_id AS id, count(*) AS n FROM core_auditevent e
    JOIN django_content_type t ON t.id = e.subject_type_id AND t.app_label = 'contracts' AND t.model = 'contract'
    WHERE e.action = 'deem_accept' AND e.subject_id = ANY(%(ids)s) GROUP BY e.subject_id),
release AS (
    SELECT ref, count(*) AS n FROM ledger_journalentry
    WHERE kind = 'release' AND ref = ANY(%(refs)s) GROUP BY ref)
SELECT
    (SELECT count(*) FROM due WHERE settled),
    (SELECT count(*) FROM audit WHERE n > 1),
    (SELECT count(*) FROM release WHERE n > 1),
    (SELECT count(*) FROM due WHERE settled AND (id NOT IN (SELECT id FROM audit)
                                                 OR 'contract:' || id NOT IN (SELECT ref FROM release)))
"""


def _sweep(url: str, processes: int, timeout: float) -> tuple[list[dict], bool]:
    """Runs the sweepers at once; stops them at the deadline. Each report has `started` (and `finished` and
    `done` unless it was stopped)."""
    env = bench_env(url)
    running = [subprocess.Popen([sys.executable, str(SCRIPT)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(processes)]
    deadline = time.monotonic() + timeout
    reports, timed_out = [], False
    for process in running:
        try:
            out, err = process.communicate(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
            process.kill()
            out, err = process.communicate()
        if process.returncode != 0 and not timed_out:
            raise RuntimeError(f"tick failed ({process.returncode}): {err[-3000:]}")
        report: dict = {"stopped_at": time.time()}
        for line in out.strip().splitlines():
            if line.startswith("{"):
                report.update(json.loads(line))
        if "started" in report:
            reports.append(report)
    return reports, timed_out


def run_one(server: Server, source: str, processes: int, timeout: float) -> dict:
    clone = f"{source}_tick"
    server.drop(clone)
    started = time.monotonic()
    server.create(clone, template=source)
    cloned = time.monotonic() - started
    try:
        ids = [row[0] for row in server.query(clone, DUE_SQL)]
        reports, timed_out = _sweep(server.database_url(clone), processes, timeout)
        settled, audit_twice, release_twice, incomplete = server.query(
            clone, CHECK_SQL, {"ids": ids, "refs": [f"contract:{pk}" for pk in ids]})[0]
    finally:
        server.drop(clone)
    # from the first start to the last finish; a run stopped at the deadline: the rate of what was settled by then
    elapsed = (max(r.get("finished", r["stopped_at"]) for r in reports) - min(r["started"] for r in reports)
               if reports else 0)
    by_kind: dict = {}
    for report in reports:
        for kind, n in report.get("done", {}).items():
            by_kind[kind] = by_kind.get(kind, 0) + n
    return {
        "processes": processes,
        "due": len(ids),
        "settled": settled,
        "seconds": round(elapsed, 2),
        "per_second": round(settled / elapsed) if elapsed else 0,
        "double_audit": audit_twice,
        "double_release": release_twice,
        "incomplete": incomplete,  # accepted without its audit event or its release
        "timed_out": timed_out,
        "by_kind": by_kind,
        "clone_seconds": round(cloned, 1),
    }


def run(server: Server, source: str, process_counts=(1, 2), timeout: float = 300, log=print) -> list[dict]:
    results = []
    for processes in process_counts:
        result = run_one(server, source, processes, timeout)
        log(f"  {processes} process(es): {result['settled']:,}/{result['due']:,} settled in {result['seconds']} s "
            f"= {result['per_second']:,}/s; twice: audit {result['double_audit']}, release "
            f"{result['double_release']}" + ("  TIMED OUT" if result["timed_out"] else ""))
        results.append(result)
    return results
