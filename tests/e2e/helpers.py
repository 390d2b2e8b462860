"""What the browser tests share: the password their users get, logging in, and screenshots (under
docs/screenshots/ with ANSHIN_SCREENSHOTS=1, else in the temp folder so a test run never dirties the tree)."""

import os
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect

SCREENSHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots" if os.environ.get("ANSHIN_SCREENSHOTS")
               else Path(tempfile.gettempdir()) / "anshin-screenshots")
PASSWORD = "Anshin-e2e-2026!"


def screenshotter(prefix: str = ""):
    """shot(page, name) saving `<prefix><name>.png` (the 1200x900 viewport only)."""
    def shot(page: Page, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{prefix}{name}.png")
    return shot


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.locator("main form").get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("button", name="ログアウト")).to_be_visible()
