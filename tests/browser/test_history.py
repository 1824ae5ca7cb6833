"""Back and Forward always show the whole page, with the filter form saying what the URL says.

The pages come from the URL conf (every page a portfolio admin may read, as tests/test_htmx.py
walks them). On each, an htmx request for the page's own address (what any swap or filter
sends) must not become what Back shows; on each page with a filter that writes its address
(`hx-push-url`), every filter step is a history entry that Back and Forward show whole, with
the filter form as that URL sets it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from tests import test_access_matrix as matrix
from tests.factories import DEFAULT_PASSWORD
from tests.test_access_matrix import page_routes, page_url
from tests.test_htmx import readable_pages

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

world = matrix.world

SHOTS = Path("/tmp/wt11a-shots")
FILTER_FORM = "form[hx-push-url=true]"
# htmx's own request for the page's address, as a swap or a filter sends it.
HTMX_GET_OF_THIS_PAGE = """() => new Promise(resolve => {
  document.body.addEventListener("htmx:afterRequest", () => resolve(), {once: true});
  htmx.ajax("GET", location.href, {source: document.body, swap: "none"});
})"""
FORM_STATE = "form => Array.from(new FormData(form).entries()).map(pair => pair.join('='))"


def _whole(page) -> list[str]:
    """What is missing for the page to be a whole Tollgate page."""
    missing = []
    if not page.title():
        missing.append("a title")
    if page.locator("header.topbar").count() != 1:
        missing.append("the top bar")
    if page.locator("link[rel=stylesheet]").count() == 0:
        missing.append("the stylesheet")
    return missing


def _go(page, direction: str) -> None:
    """Back or Forward, then wait for the page it shows: a new document when the browser or
    htmx loads one (htmx reloads addresses it wrote), else the same one after a short wait."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.evaluate("() => { window.probeOfThisDocument = true; }")
    getattr(page, f"go_{direction}")()
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(
            "() => !window.probeOfThisDocument && document.readyState === 'complete'",
            timeout=3_000,
        )
    page.wait_for_load_state("networkidle")


def _change_a_control(page, form, step: int) -> bool:
    """Change the `step`-th changeable control of the filter form; False when there is none."""
    controls = form.locator("select, input[type=checkbox]")
    changeable = [
        controls.nth(i)
        for i in range(controls.count())
        if controls.nth(i).is_visible()
        and (
            controls.nth(i).evaluate("e => e.tagName") != "SELECT"
            or controls.nth(i).locator("option").count() > 1
        )
    ]
    if step >= len(changeable):
        return False
    control = changeable[step]
    before = page.url
    if control.evaluate("e => e.tagName") == "SELECT":
        current = control.input_value()
        options = control.locator("option")
        values = [options.nth(i).get_attribute("value") or "" for i in range(options.count())]
        control.select_option(next(v for v in reversed(values) if v != current))
    else:
        control.set_checked(not control.is_checked())
    page.wait_for_function("before => location.href !== before", arg=before)
    page.wait_for_load_state("networkidle")
    return True


def test_back_and_forward_show_the_whole_page_on_every_page(
    open_page, expect, admin_user, world, client
):
    page, console = open_page(admin_user.username, DEFAULT_PASSWORD)
    SHOTS.mkdir(exist_ok=True)
    elsewhere = "/teams/"
    problems, filtered = [], []

    client.force_login(admin_user)
    for name in readable_pages():
        url = page_url(name, page_routes()[name], world)
        answer = client.get(url)
        if answer.streaming or b"topbar" not in answer.content:
            continue  # not one of Tollgate's pages: a download, the schema, the API docs
        page.goto(url)
        away = "/" if url == elsewhere else elsewhere

        # A swap of this page's address, then away and Back: the whole page.
        page.evaluate(HTMX_GET_OF_THIS_PAGE)
        page.goto(away)
        _go(page, "back")
        if missing := _whole(page):
            problems.append(f"Back to {url} after an htmx request lacks {', '.join(missing)}")

        form = page.locator(FILTER_FORM)
        if form.count() == 0:
            continue
        filtered.append(url)
        form = form.first
        # Each filter step is an entry: (URL, what the form says).
        entries = [(page.url, form.evaluate(FORM_STATE))]
        for step in range(2):
            if not _change_a_control(page, form, step):
                break
            entries.append((page.url, form.evaluate(FORM_STATE)))
        page.goto(away)

        def check(entry, how):
            expected_url, expected_state = entry
            if page.url != expected_url:
                problems.append(f"{how}: at {page.url}, expected {expected_url}")
                return
            if missing := _whole(page):
                problems.append(f"{how} to {page.url} lacks {', '.join(missing)}")
                return
            state = page.locator(FILTER_FORM).first.evaluate(FORM_STATE)
            if state != expected_state:
                problems.append(f"{how} to {page.url}: the form says {state}")

        for back, entry in enumerate(reversed(entries), start=1):
            _go(page, "back")
            check(entry, f"Back ×{back} from {away}")
            page.screenshot(path=str(SHOTS / f"back-{name.replace(':', '-')}-{back}.png"))
        for forward, entry in enumerate(entries[1:], start=1):
            _go(page, "forward")
            check(entry, f"Forward ×{forward}")

    # The board, the dashboard and the people page at least filter into their address.
    assert len(filtered) >= 3, filtered
    assert problems == [], "\n".join(problems)
    assert console.csp_violations() == [], console
