"""Playwright driving the system Chromium (no browser download: `executable_path` points at Debian's)."""

import os
import threading

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread

from tests.conftest import CHROMIUM

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

VIEWPORT = {"width": 1200, "height": 900}  # screenshots in docs/ stay small: the viewport, never the full page
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class OneRequestAtATime(ThreadedWSGIServer):
    """On SQLite the test database is a shared-cache in-memory database: every request thread of the live
    server opens its own connection to it, and shared-cache locks are table locks that fail at once
    ("database table is locked") instead of waiting out the busy timeout. Two browsers at once (the client
    acting while the worker's thread page polls) would then fail at random. So on SQLite serve one request
    at a time; the lock is per request, not per keep-alive connection, so neither browser waits on the
    other's idle connection. PostgreSQL keeps a truly concurrent server."""

    def set_app(self, application):
        if connection.vendor != "sqlite":
            return super().set_app(application)
        lock = threading.Lock()

        def one_at_a_time(environ, start_response):
            with lock:
                result = application(environ, start_response)
                try:
                    return [b"".join(result)]
                finally:
                    if hasattr(result, "close"):
                        result.close()  # request_finished (closing the connection) inside the lock too

        return super().set_app(one_at_a_time)


LiveServerThread.server_class = OneRequestAtATime  # before pytest-django's session `live_server` starts one


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"NEEDS CHROMIUM at {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open a fresh browser context (its own cookies: one per person in the story)."""
    contexts = []

    def make():
        context = browser.new_context(
            base_url=live_server.url, locale="ja-JP", timezone_id="Asia/Tokyo", viewport=VIEWPORT
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
