"""The bench databases: created, migrated and filled by `manage.py loadgen` when their manifest is missing or
stale, and cloned (CREATE DATABASE … TEMPLATE) so the timer runs each start from the same 20k due timers.

A manifest is kept per database (var/bench/<name>.json) with a `bench` stamp: the database, seed, scale and
a hash of the generator's source. Any mismatch, or a database without the persona, means "load again"."""

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

from bench.server import bench_env

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "var" / "bench"
CORE = ROOT / "anshin" / "core"
GENERATOR = (CORE / "loadgen.py", CORE / "management" / "commands" / "loadgen.py")
SEED = 1


class Server:
    """A PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432 (trust auth)."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def database_url(self, name: str) -> str:
        return f"{self.url}/{name}"

    def admin(self):
        return psycopg.connect(self.database_url("postgres"), autocommit=True, connect_timeout=5)

    def exists(self, name: str) -> bool:
        with self.admin() as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None

    def create(self, name: str, template: str | None = None) -> None:
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:  # a file copy: much faster than the WAL-logged default for a database of gigabytes
            query += sql.SQL(" TEMPLATE {} STRATEGY FILE_COPY").format(sql.Identifier(template))
        with self.admin() as conn:
            conn.execute(query)

    def drop(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def query(self, name: str, text: str, params=None) -> list[tuple]:
        with psycopg.connect(self.database_url(name), autocommit=True) as conn:
            return conn.execute(text, params).fetchall()


def manifest_path(name: str) -> Path:
    return MANIFESTS / f"{name}.json"


def _stamp(name: str, scale: float) -> dict:
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in GENERATOR)).hexdigest()[:16]
    return {"database": name, "seed": SEED, "scale": scale, "generator": digest}


def _fresh(server: Server, name: str, scale: float) -> bool:
    path = manifest_path(name)
    if not path.exists() or not server.exists(name):
        return False
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("bench") != _stamp(name, scale):
        return False
    client = manifest["persona"]["client_id"]
    try:
        return bool(server.query(name, "SELECT 1 FROM accounts_user WHERE id = %s", [client]))
    except psycopg.Error:
        return False


def manage(database_url: str, *args: str, log=None) -> None:
    process = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=bench_env(database_url),
                             capture_output=True, text=True, timeout=1800)
    if process.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{process.stdout[-2000:]}{process.stderr[-4000:]}")
    if log:
        for line in process.stdout.strip().splitlines()[-3:]:
            log(f"    {line}")


def ensure(server: Server, name: str, scale: float, log=print) -> dict:
    """The database `name` migrated and loaded at `scale`; returns its manifest (with `loaded_now`)."""
    url = server.database_url(name)
    path = manifest_path(name)
    if _fresh(server, name, scale):
        manage(url, "migrate", "--no-input")  # new indexes apply to the loaded data; no reload needed
        manifest = json.loads(path.read_text(encoding="utf-8"))
        log(f"  {name}: loaded already (scale {scale}), migrated")
        return {**manifest, "loaded_now": False}
    log(f"  {name}: (re)creating and loading at scale {scale} …")
    started = time.monotonic()
    server.drop(name)  # ours (anshin_bench_*): a stale load is thrown away whole
    server.create(name)
    manage(url, "migrate", "--no-input")
    path.parent.mkdir(parents=True, exist_ok=True)
    manage(url, "loadgen", "--seed", str(SEED), "--scale", f"{scale:g}", "--manifest", str(path), log=log)
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["bench"] = _stamp(name, scale)
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    log(f"  {name}: loaded in {time.monotonic() - started:.0f} s")
    return {**manifest, "loaded_now": True}
