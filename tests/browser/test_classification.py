"""AI Act classification in a real browser: the owner answers, a compliance officer (a
portfolio role of its own) confirms, the gate shows the new regulatory items, and the
dashboard counts the initiative by tier."""

from __future__ import annotations

import pytest

from compliance.models import Classification
from teams.roles import PortfolioRole
from tests.browser.conftest import SCREENSHOTS
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [
    pytest.mark.browser,
    # The live server reads over its own connection, so the data must be committed;
    # serialized rollback restores the frameworks and the catalogue the migrations loaded.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Words of ordinary length in tables and lists that run over two lines: a word cut in two.
CUT_WORDS = """() => {
  const cut = [];
  const boxes = document.querySelectorAll('main td, main th, main li, main dd');
  for (const box of boxes) {
    if (!box.checkVisibility({visibilityProperty: true}) || box.clientWidth === 0) continue;
    const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/[^\\s\\-\\u2013\\u2014\\/·(),.:;]+/g)) {
        if (match[0].length > 24) continue;  // a code or a URL may break
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].map(rect => Math.round(rect.top)));
        if (lines.size > 1) cut.push(`${match[0]} (${box.clientWidth}px)`);
      }
    }
  }
  return cut.slice(0, 10);
}"""

NEXT_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"

SHOTS = SCREENSHOTS / "classification"


def test_owner_classifies_compliance_confirms_and_the_gate_gets_regulatory_items(
    open_page, expect, live_server, initiative, owner
):
    officer = UserFactory(username="compliance", groups=[PortfolioRole.COMPLIANCE])
    gate = initiative.gates.get()
    page, owner_console = open_page(owner.username, DEFAULT_PASSWORD)
    page.goto(initiative.get_absolute_url())
    panel = page.locator("#classification")
    expect(panel).to_contain_text("Not classified under the EU AI Act yet")
    panel.get_by_role("link", name="Classify").click()
    # The link leads to the questionnaire; on its own page it leads there again.
    expect(page.locator("#questionnaire")).to_be_visible()
    assert page.url.endswith("/classification/#questionnaire")
    page.locator("#classification").get_by_role("link", name="Classify").click()
    expect(page.locator("#questionnaire")).to_be_in_viewport()

    page.get_by_label("Provider and deployer").check()
    page.select_option("select[name=annex_iii_area]", "employment")
    page.get_by_label("Does it profile natural persons?").check()
    page.get_by_label("Interacts directly with people").check()
    page.get_by_role("button", name="Propose classification").click()
    expect(page.locator("#classification")).to_contain_text("Awaiting confirmation")
    assert "Confirm classification" not in page.locator("#classification").inner_text()
    assert not gate.items.exclude(regulation="").exists()

    # The compliance officer is on no team of the initiative: the role reads it anyway.
    officer_page, officer_console = open_page(officer.username, DEFAULT_PASSWORD)
    officer_page.goto(initiative.get_absolute_url())
    officer_page.get_by_role("button", name="Confirm classification").click()
    expect(officer_page.locator("#classification .tier")).to_have_text("High-risk")
    checklist = officer_page.locator("#gate")
    expect(checklist).to_contain_text("regulatory · Art. 9")
    expect(checklist).to_contain_text("A risk management system runs for the whole life")
    expect(checklist).to_contain_text("regulatory · Art. 4")
    assert Classification.objects.get(initiative=initiative).revision.confirmed_by == officer

    # The owner sees the items on the gate too, after a reload.
    page.goto(initiative.get_absolute_url())
    expect(page.locator("#gate")).to_contain_text("regulatory · Art. 10")

    officer_page.goto("/dashboard/")
    section = officer_page.locator("#ai-act")
    expect(section.locator('tr[data-tier="high_risk"]')).to_contain_text("1")
    expect(section.locator("#ai-act-due")).to_contain_text(initiative.key)
    SHOTS.mkdir(parents=True, exist_ok=True)
    section.screenshot(path=str(SHOTS / "dashboard-ai-act-test.png"))

    # On a phone, a table that cannot fit its words stacks as cards: no word is cut.
    for url in ("/dashboard/", f"/initiatives/{initiative.key}/classification/"):
        officer_page.goto(url)
        for width in (320, 390):
            officer_page.set_viewport_size({"width": width, "height": 800})
            officer_page.evaluate(NEXT_FRAMES)
            assert officer_page.evaluate(CUT_WORDS) == [], (url, width)

    for console in (owner_console, officer_console):
        assert console.csp_violations() == [], console
        assert console.errors() == [], console
