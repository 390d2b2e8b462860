import os
from datetime import timedelta

import pytest

from anshin.core import clock


@pytest.fixture(autouse=True)
def _media_and_clock(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ANSHIN_CLOCK_FILE = tmp_path / "clock_offset"
    clock._cache.update(mtime=None, offset=timedelta(0))
    yield
    clock._cache.update(mtime=None, offset=timedelta(0))


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _sqlite_flush_allowed(request):
    """Transactional tests end with a flush (DELETE on SQLite, TRUNCATE on PostgreSQL, which row triggers do
    not see). On SQLite, lift the append-only triggers for that flush only, and put them back for the next."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or "live_server" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction"))
    if not transactional:
        yield
        return
    request.getfixturevalue("transactional_db")
    from django.db import connection

    from anshin.core.immutable import APPEND_ONLY_TABLES, sqlite_create, sqlite_drop

    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        for table in APPEND_ONLY_TABLES:
            for sql in sqlite_create(table):
                cursor.execute(sql)
    yield
    with connection.cursor() as cursor:
        for table in APPEND_ONLY_TABLES:
            for sql in sqlite_drop(table):
                cursor.execute(sql)


@pytest.fixture
def make_user(db):
    from anshin.accounts.models import User

    counter = {"n": 0}

    def make(name: str = "", **extra):
        counter["n"] += 1
        name = name or f"user{counter['n']}"
        return User.objects.create_user(email=f"{name}@example.com", password="pass-Anshin-2026",
                                        display_name=extra.pop("display_name", name), **extra)

    return make


@pytest.fixture
def client_user(make_user):
    return make_user("client", display_name="株式会社サンプル")


@pytest.fixture
def worker(make_user):
    return make_user("worker", display_name="山田花子")


@pytest.fixture
def stranger(make_user):
    return make_user("stranger", display_name="部外者")


@pytest.fixture
def operator(make_user):
    from anshin.ops.permissions import grant_operator

    user = make_user("operator", display_name="事務局")
    grant_operator(user)
    return user


CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(config, items):
    """Tests that need PostgreSQL or Chromium skip loudly when absent; `make test` runs the suite on both
    SQLite and PostgreSQL, and .ci/run installs Chromium, so in CI nothing here is skipped for good."""
    from django.db import connection

    on_postgres = connection.vendor == "postgresql"
    has_chromium = os.path.exists(CHROMIUM)
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(
                reason="NEEDS POSTGRESQL: runs in the PostgreSQL pass of `make test` (DATABASE_URL=postgres://...)"))
        if "e2e" in item.keywords and not has_chromium:
            item.add_marker(pytest.mark.skip(reason=f"NEEDS CHROMIUM at {CHROMIUM}: apt-get install -y chromium"))
