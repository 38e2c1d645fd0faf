"""Browser fixtures: Debian's Chromium, launched once through Playwright, driving a live server.

Every test in this folder is marked `browser` (deselect them with `-m "not browser"`).
Without /usr/bin/chromium the tests skip, except on CI (the CI variable is set), where a missing
browser must not pass unnoticed: there they fail.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

# Playwright's sync API runs an event loop in this thread, so Django would refuse ORM calls made
# by the test itself ("You cannot call this from an async context").
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = (
            f"{CHROMIUM} not found: the browser tests need Debian's chromium package "
            "(apt-get install chromium)."
        )
        if os.environ.get("CI"):
            pytest.fail(f"{message} CI is set, so this is a failure, not a skip.", pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# A phone as a browser profile: its width, and <meta name="viewport"> honoured as a phone does.
PHONE_PROFILE = {"viewport": PHONE, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def new_context(
    browser: Browser, base_url: str, locale: str = "en-GB", **options: object
) -> BrowserContext:
    """A fresh profile (no cookies) whose relative URLs go to base_url, asking for pages in
    locale's language (Accept-Language)."""
    context = browser.new_context(base_url=base_url, locale=locale, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def context(browser: Browser, live_server, transactional_db: None) -> Iterator[BrowserContext]:
    """A fresh desktop-sized browser profile (no cookies) whose relative URLs go to the server."""
    context = new_context(browser, live_server.url, viewport=DESKTOP)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def phone_page(browser: Browser, live_server, transactional_db: None) -> Iterator[Page]:
    """A page in a phone-sized profile that honours <meta name="viewport"> as a phone does."""
    context = new_context(browser, live_server.url, **PHONE_PROFILE)
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def partner_site(live_server, petition) -> Iterator[str]:
    """Another site (another origin) whose page pastes the embed script, as partners do."""
    page = (
        "<!doctype html><h1>A partner's page</h1>"
        f'<script src="{live_server.url}/static/js/embed.js" data-petition="{petition.slug}">'
        "</script>"
    ).encode()

    class Partner(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Partner)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
