"""The dashboard in a real browser: filters swap the figures through HTMX and land in the URL."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from tests.browser.conftest import SCREENSHOTS

pytestmark = [
    pytest.mark.browser,
    # The live server reads over its own connection, so the data must be committed;
    # serialized rollback restores the frameworks the data migration loaded.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "tollgate-demo-dashboard"


def test_team_filter_changes_the_figures_and_the_url(open_page, expect, live_server):
    call_command("seed_demo", password=PASSWORD, stdout=io.StringIO())
    page, console = open_page("exec", PASSWORD)
    page.goto("/dashboard/")
    total = page.locator('[data-figure="total"]')
    before = total.inner_text()
    assert int(before) > 0

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"))

    team = page.locator("#id_team")
    slug = team.locator("option").nth(1).get_attribute("value")
    team.select_option(slug)
    # HTMX swaps the figures in place and pushes the filters into the URL.
    expect(page).to_have_url(re.compile(rf"team={slug}"))
    expect(total).not_to_have_text(before)
    after = int(total.inner_text())
    assert 0 < after < int(before)
    assert page.locator("#id_team").input_value() == slug

    # The pushed URL works on its own: a reload renders the same figure server-side.
    page.reload()
    expect(page.locator('[data-figure="total"]')).to_have_text(str(after))

    assert (SCREENSHOTS / "dashboard.png").stat().st_size > 10_000
    assert console.csp_violations() == [], console
    assert console.errors() == [], console
