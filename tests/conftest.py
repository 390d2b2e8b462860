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
    return make_user("operator", display_name="事務局", is_staff=True)


def postgres_url() -> str | None:
    return os.environ.get("ANSHIN_TEST_POSTGRES_URL")
