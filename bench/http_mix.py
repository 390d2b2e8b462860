"""The HTTP mix: each endpoint loaded by wrk (a separate process on loopback) at each concurrency, one after
the other, with the SELECT 1 ceiling measured at the same concurrency just before the endpoints.

Throughput counts 2xx answers only; any other status or socket error is a failure, reported per run."""

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.server import CEILING_PATH

SCRIPT = Path(__file__).resolve().parent / "wrk" / "mix.lua"
CONCURRENCIES = (1, 8, 32)
CEILING = "ceiling"
LIGHT = "light"  # a reference, like the ceiling: no target of its own
REFERENCES = (CEILING, LIGHT)


@dataclass(frozen=True)
class Endpoint:
    name: str
    label: str
    kind: str  # "page", "send" or "ceiling": which target applies
    paths: tuple[str, ...]
    headers: tuple[str, ...] = ()
    method: str = "GET"
    body: str | None = None
    notes: str = field(default="", compare=False)


def endpoints(persona: dict, credentials: dict) -> list[Endpoint]:
    """The mix, in the order it runs: the ceiling first, sending last (it adds rows the pages would read)."""
    def cookie(who: str) -> tuple[str, ...]:
        return (f"Cookie: sessionid={credentials['sessions'][who]}",)

    terms = persona["search_terms"] or [""]
    return [
        Endpoint(CEILING, "SELECT 1 ceiling", "ceiling", (CEILING_PATH,)),
        Endpoint(LIGHT, "notification centre (a light page)", "reference", ("/notifications/",), cookie("client"),
                 notes="for reference, no target: what any signed-in page costs (session, user, the header's "
                       "counts, the base template) with the persona's few notifications"),
        Endpoint("inbox", "inbox page", "page", ("/messages/",), cookie("client"), notes="the persona client"),
        Endpoint("thread", "thread page (200-message thread)", "page", (f"/messages/{persona['thread_id']}/",),
                 cookie(credentials["thread_viewer"])),
        Endpoint("job_search", "job search page", "page",
                 tuple("/?" + urllib.parse.urlencode({"q": term}) for term in terms), cookie("worker"),
                 notes="rotating over the manifest's search terms"),
        Endpoint("contract", "contract page", "page", (f"/contracts/{persona['contract_id']}/",), cookie("client")),
        Endpoint("profile", "profile page (figures)", "page", (f"/users/{persona['profile_user_id']}/",),
                 cookie("client")),
        Endpoint("send", "send message (API)", "send",
                 tuple(f"/api/threads/{pk}/messages" for pk in credentials["send_threads"]),
                 (f"Authorization: Bearer {credentials['token']}",
                  "Content-Type: application/x-www-form-urlencoded"),
                 method="POST", body=urllib.parse.urlencode({"body": credentials["message"]}),
                 notes=f"POST /api/threads/<id>/messages over {len(credentials['send_threads'])} threads"),
    ]


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed (Debian: apt-get install -y wrk)")
    return found


def load(base: str, endpoint: Endpoint, connections: int, seconds: float) -> dict:
    """One wrk run; returns its figures (latencies in ms, throughput of 2xx answers per second)."""
    command = [wrk_binary(), "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds:g}s",
               "--timeout", "10s", "-s", str(SCRIPT)]
    for header in endpoint.headers:
        command += ["-H", header]
    command.append(base + endpoint.paths[0])
    env = {**os.environ, "BENCH_PATHS": "|".join(endpoint.paths), "BENCH_METHOD": endpoint.method}
    if endpoint.body is not None:
        env["BENCH_BODY"] = endpoint.body
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    seconds_run = raw["duration_us"] / 1e6
    socket_errors = sum(v for k, v in raw["errors"].items() if k != "status")
    ok = raw["requests"] - raw["non2xx"]
    return {
        "connections": connections,
        "requests": raw["requests"],
        "seconds": round(seconds_run, 2),
        "rps": round(ok / seconds_run, 1),
        "p50_ms": raw["latency_us"]["p50"] / 1000,
        "p95_ms": raw["latency_us"]["p95"] / 1000,
        "p99_ms": raw["latency_us"]["p99"] / 1000,
        "non2xx": raw["non2xx"],
        "non2xx_statuses": sorted(set(raw["non2xx_statuses"].split())),
        "socket_errors": socket_errors,
        "failures": raw["non2xx"] + socket_errors,
    }


def drain(base: str, timeout: float = 90) -> None:
    """Wait until the server is idle again: gunicorn still works off requests wrk queued and then abandoned, and
    the next run must not pay for them. Idle = the ceiling answers in under 100 ms twice in a row."""
    deadline, fast = time.monotonic() + timeout, 0
    while fast < 2 and time.monotonic() < deadline:
        started = time.monotonic()
        try:
            urllib.request.urlopen(base + CEILING_PATH, timeout=timeout).read()
        except OSError:
            time.sleep(0.5)
            continue
        fast = fast + 1 if time.monotonic() - started < 0.1 else 0


def run(base: str, mix: list[Endpoint], concurrencies=CONCURRENCIES, seconds: float = 8, warmup: float = 2,
        log=print) -> dict:
    """{endpoint name: {concurrency: figures}}, each with `share` = its throughput / the ceiling's, in %."""
    for endpoint in mix:  # warm-up: worker connections, template cache, first mark-read of a thread
        load(base, endpoint, 2, warmup)
        drain(base)
    results: dict = {endpoint.name: {} for endpoint in mix}
    for connections in concurrencies:
        for endpoint in mix:
            figures = load(base, endpoint, connections, seconds)
            drain(base)
            results[endpoint.name][connections] = figures
            log(f"  c={connections:<3} {endpoint.name:<11} {figures['rps']:>8,.1f} req/s  "
                f"p50 {figures['p50_ms']:.1f}  p95 {figures['p95_ms']:.1f}  p99 {figures['p99_ms']:.1f} ms"
                + (f"  FAILURES {figures['failures']} {figures['non2xx_statuses']}" if figures["failures"] else ""))
        ceiling = results[CEILING][connections]["rps"]
        for endpoint in mix:
            figures = results[endpoint.name][connections]
            figures["share"] = round(100 * figures["rps"] / ceiling, 1) if ceiling else None
    return results
