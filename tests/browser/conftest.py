"""Headless Chromium for the browser tests: skipped where it is missing, unless required.

Set TOLLGATE_REQUIRE_BROWSER=1 (as CI does) to turn a missing Chromium into a failure.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made
# by the test itself (fixtures, assertions) are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}


def _unavailable(reason: str):
    if os.environ.get("TOLLGATE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"TOLLGATE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def chromium():
    """A headless Chromium for one test.

    Per test, not per session: while Playwright's event loop exists, Django treats
    the thread as async and hands out other connection objects, which lack the
    serialized test data that later transactional tests restore from.
    """
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    from django.db import connections

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        connections.close_all()  # the connections opened while the loop was running


@pytest.fixture
def expect(chromium):
    """Playwright's `expect` (it polls without eval, which the CSP forbids)."""
    from playwright.sync_api import expect

    return expect


class ConsoleLog(list):
    """Console messages and page errors; CSP violations show up here as errors."""

    def csp_violations(self) -> list[str]:
        return [text for text in self if "Content Security Policy" in text or "Refused to" in text]

    def errors(self) -> list[str]:
        return [text for text in self if text.startswith(("error:", "pageerror:"))]


@pytest.fixture
def open_page(chromium, live_server):
    """open_page(username, password) -> (page, console): a logged-in page of its own context."""
    contexts = []

    def open_as(username: str, password: str):
        context = chromium.new_context(viewport=VIEWPORT, base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        console = ConsoleLog()
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
        page.goto("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page, console

    yield open_as
    for context in contexts:
        context.close()


# The docs' pictures are rewritten only when asked (TOLLGATE_UPDATE_SCREENSHOTS=1); an
# ordinary run writes them to a temporary folder and leaves the tree clean.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("TOLLGATE_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "tollgate-screenshots"
)
