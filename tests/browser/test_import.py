"""The portfolio import in a real browser: upload, see the problem, fix the file, import."""

from __future__ import annotations

import csv
import io

import pytest

from initiatives.models import Initiative
from tests.factories import DEFAULT_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_upload_preview_an_error_fix_and_import(
    open_page, expect, admin_user, team, owner, executive, tmp_path
):
    row = {
        "external_id": "UC-9",
        "name": "Warranty claim triage",
        "team": team.slug,
        "owner": owner.username,
        "sponsor": "somebody.else@example.com",
        "stage": "mvp",
        "stage_entered_on": "2026-08-03",
    }
    page, console = open_page(admin_user.username, DEFAULT_PASSWORD)
    page.get_by_role("link", name="Import from a spreadsheet").first.click()
    expect(page.get_by_role("heading", name="Import a portfolio")).to_be_visible()

    page.get_by_label("Workbook or CSV files").set_input_files(
        {"name": "initiatives.csv", "mimeType": "text/csv", "buffer": _csv([row])}
    )
    page.get_by_role("button", name="Preview").click()
    problems = page.locator("#problems")
    expect(problems).to_contain_text("sponsor")
    expect(problems).to_contain_text("somebody.else@example.com")
    expect(page.get_by_role("button", name="Import 1 row")).to_have_count(0)
    assert not Initiative.objects.filter(name=row["name"]).exists()
    # The report and the form fit a phone: wide tables scroll inside their card.
    page.set_viewport_size({"width": 390, "height": 800})
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width
    page.set_viewport_size({"width": 1280, "height": 800})

    fixed = {**row, "sponsor": executive.email}
    page.get_by_label("Workbook or CSV files").set_input_files(
        {"name": "initiatives.csv", "mimeType": "text/csv", "buffer": _csv([fixed])}
    )
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#rows")).to_contain_text("New")
    expect(page.locator("#problems")).to_have_count(0)
    assert not Initiative.objects.filter(name=row["name"]).exists()

    page.get_by_role("button", name="Import 1 row").click()
    expect(page.get_by_role("status").first).to_contain_text("Imported: 1 row created")
    initiative = Initiative.objects.get(name=row["name"])
    assert (initiative.stage.key, initiative.sponsor) == ("mvp", executive)
    expect(page.get_by_role("button", name="Import 1 row")).to_have_count(0)

    page.goto(initiative.get_absolute_url())
    expect(page.get_by_role("heading", name=row["name"])).to_be_visible()
    assert console.csp_violations() == []
    assert [error for error in console.errors() if error.startswith("pageerror:")] == []
