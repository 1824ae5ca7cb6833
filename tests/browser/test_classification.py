"""AI Act classification in a real browser: the owner answers, an admin confirms, the gate
shows the new regulatory items, and the dashboard counts the initiative by tier."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compliance.models import Classification
from tests.factories import DEFAULT_PASSWORD

pytestmark = [
    pytest.mark.browser,
    # The live server reads over its own connection, so the data must be committed;
    # serialized rollback restores the frameworks and the catalogue the migrations loaded.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path(os.environ.get("TOLLGATE_SCREENSHOTS", "/tmp/wt14-shots"))


def test_owner_classifies_admin_confirms_and_the_gate_gets_regulatory_items(
    open_page, expect, live_server, initiative, owner, admin_user
):
    gate = initiative.gates.get()
    page, owner_console = open_page(owner.username, DEFAULT_PASSWORD)
    page.goto(initiative.get_absolute_url())
    panel = page.locator("#classification")
    expect(panel).to_contain_text("Not classified under the EU AI Act yet")
    panel.get_by_role("link", name="Classify").click()

    page.get_by_label("Provider and deployer").check()
    page.select_option("select[name=annex_iii_area]", "employment")
    page.get_by_label("Does it profile natural persons?").check()
    page.get_by_label("Interacts directly with people").check()
    page.get_by_role("button", name="Propose classification").click()
    expect(page.locator("#classification")).to_contain_text("Awaiting confirmation")
    assert "Confirm classification" not in page.locator("#classification").inner_text()
    assert not gate.items.exclude(regulation="").exists()

    admin, admin_console = open_page(admin_user.username, DEFAULT_PASSWORD)
    admin.goto(initiative.get_absolute_url())
    admin.get_by_role("button", name="Confirm classification").click()
    expect(admin.locator("#classification .tier")).to_have_text("High-risk")
    checklist = admin.locator("#gate")
    expect(checklist).to_contain_text("regulatory · Art. 9")
    expect(checklist).to_contain_text("A risk management system runs for the whole life")
    expect(checklist).to_contain_text("regulatory · Art. 4")
    assert Classification.objects.get(initiative=initiative).revision.confirmed_by == admin_user

    # The owner sees the items on the gate too, after a reload.
    page.goto(initiative.get_absolute_url())
    expect(page.locator("#gate")).to_contain_text("regulatory · Art. 10")

    admin.goto("/dashboard/")
    section = admin.locator("#ai-act")
    expect(section.locator('tr[data-tier="high_risk"]')).to_contain_text("1")
    expect(section.locator("#ai-act-due")).to_contain_text(initiative.key)
    SHOTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SHOTS / "dashboard-ai-act-test.png"))

    for console in (owner_console, admin_console):
        assert console.csp_violations() == [], console
        assert console.errors() == [], console
