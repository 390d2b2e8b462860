"""The production server the HTTP benchmarks run against: gunicorn `anshin.wsgi`, one sync worker per core,
DEBUG off, on a free loopback port. Started and always stopped by `serving()`, even when the bench fails.

`bench_env()` is the environment of every process the bench starts against a database (server, `tick`, the
set-up and search scripts): a throwaway secret key, no debug, no production switch (it would force HTTPS
redirects), no time travel, and `ANSHIN_BENCH=1`, which mounts the SELECT 1 ceiling (anshin/urls.py).

Rate limits: the only one is allauth's `login_failed` (failed logins, anshin/settings.py). The bench never
logs in over HTTP — sessions and the API token are created directly (bench/persona.py) — so nothing is bypassed
and production is not weakened."""

import os
import secrets
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
HOST = "127.0.0.1"
CEILING_PATH = "/bench/ceiling/"
DROPPED = ("DJANGO_DEBUG", "ANSHIN_PRODUCTION", "ANSHIN_ALLOW_TIME_TRAVEL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")
_SECRET = secrets.token_urlsafe(48)  # one per bench run: sessions made by the set-up script stay valid


def bench_env(database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.update(DATABASE_URL=database_url, DJANGO_SECRET_KEY=_SECRET, DJANGO_ALLOWED_HOSTS=HOST,
               ANSHIN_BENCH="1", PYTHONUNBUFFERED="1")
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextmanager
def serving(database_url: str, log: Path, workers: int | None = None):
    """Yields the base URL of a running gunicorn; stops it (TERM, then KILL) whatever happens inside."""
    port = free_port()
    workers = workers or os.cpu_count() or 1
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(GUNICORN), "anshin.wsgi", "--workers", str(workers), "--bind", f"{HOST}:{port}",
             "--backlog", "2048", "--timeout", "60", "--log-level", "warning"],
            cwd=ROOT, env=bench_env(database_url), stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        base = f"http://{HOST}:{port}"
        _wait_ready(base + CEILING_PATH, process, log)
        yield base
    finally:
        _stop(process)


def _wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f} s; see {log}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # gunicorn's master stops its workers on TERM
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)  # its own session: the master and its workers, nothing else
        process.wait()
