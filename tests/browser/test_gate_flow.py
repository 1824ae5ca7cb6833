"""The gate workflow in a real browser: tick, ask for review, decide, see the board move."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from gates.models import Gate
from tests.factories import DEFAULT_PASSWORD

pytestmark = [
    pytest.mark.browser,
    # The live server reads over its own connection, so the data must be committed;
    # serialized rollback restores the frameworks the data migration loaded.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_owner_ticks_asks_for_review_and_the_sponsor_decides_go(
    open_page, expect, live_server, initiative, owner, executive
):
    gate = initiative.gates.get()
    first = gate.items.get(order=1)
    page, owner_console = open_page(owner.username, DEFAULT_PASSWORD)
    page.goto(initiative.get_absolute_url())
    readiness = page.locator("#readiness")
    assert "0 of 6 required items cleared" in readiness.inner_text()

    # A marker that a full reload would wipe out.
    page.evaluate("() => { window.tollgateMarker = 'still here'; }")
    page.locator(f"#item-{first.pk} label.segmented__option--done").click()
    expect(readiness).to_contain_text("1 of 6 required items cleared")
    assert page.evaluate("() => window.tollgateMarker") == "still here"
    expect(page.locator(f"#item-{first.pk}")).to_have_class(re.compile("checklist__item--done"))

    # N/A without a reason: the error appears next to the field, still without a reload.
    second = gate.items.get(order=2)
    page.locator(f"#item-{second.pk} label.segmented__option--not_applicable").click()
    page.wait_for_selector(f"#id_item-{second.pk}-na_reason_error")
    page.fill(f"#id_item-{second.pk}-na_reason", "Covered by the platform team.")
    page.locator(f"#item-{second.pk} .item-form button[type=submit]").click()
    expect(readiness).to_contain_text("2 of 6 required items cleared")
    assert page.evaluate("() => window.tollgateMarker") == "still here"

    page.get_by_role("button", name="Ask for review").click()
    page.wait_for_selector("text=Review requested")
    gate.refresh_from_db()
    assert gate.state == Gate.State.IN_REVIEW

    sponsor, sponsor_console = open_page(executive.username, DEFAULT_PASSWORD)
    sponsor.wait_for_selector("#awaiting-link .badge")
    assert sponsor.locator("#awaiting-link").inner_text().endswith("1")
    sponsor.goto(initiative.get_absolute_url())
    sponsor.check("input[name=decision][value=go]")
    sponsor.fill("textarea[name=rationale]", "Accuracy is proven on real tickets.")
    justification = sponsor.locator("textarea[name=override_justification]")
    assert not justification.is_visible()  # shown only once the override is ticked
    sponsor.check("input[name=override]")
    assert justification.is_visible()
    justification.fill("The open items are paperwork; they are due in the first MVP week.")
    sponsor.get_by_role("button", name="Record decision").click()
    sponsor.wait_for_selector("text=Decided: Go.")
    assert "Exit gate: MVP" in sponsor.content()

    sponsor.goto("/")
    mvp = sponsor.locator("#stage-mvp")
    assert initiative.key in mvp.inner_text()
    assert initiative.key not in sponsor.locator("#stage-poc").inner_text()

    for console in (owner_console, sponsor_console):
        assert console.csp_violations() == [], console
        assert console.errors() == [], console


def test_board_filters_push_the_url_and_the_back_button_restores(
    open_page, expect, live_server, initiative, other_initiative, executive
):
    page, console = open_page(executive.username, DEFAULT_PASSWORD)
    assert initiative.key in page.locator("#board").inner_text()
    assert other_initiative.key in page.locator("#board").inner_text()

    page.evaluate("() => { window.tollgateMarker = 'no reload'; }")
    page.select_option("select[name=team]", "finance-automation")
    page.wait_for_url(re.compile(r"team=finance-automation"))
    expect(page.locator("#board")).not_to_contain_text(initiative.key)
    assert other_initiative.key in page.locator("#board").inner_text()
    assert page.evaluate("() => window.tollgateMarker") == "no reload"

    page.fill("input[name=q]", "nothing like this")
    page.wait_for_selector("text=Nothing matches these filters")
    assert "q=nothing" in page.url

    page.go_back()
    page.wait_for_url(re.compile(r"team=finance-automation(?!.*q=nothing)"))
    page.wait_for_selector(f"#board >> text={other_initiative.key}")
    page.go_back()
    page.wait_for_url(f"{live_server.url}{reverse('initiatives:list')}")
    page.wait_for_selector(f"#board >> text={initiative.key}")
    assert console.csp_violations() == [], console


def test_show_more_appends_cards_without_a_reload(
    open_page, expect, settings, live_server, team, owner, executive
):
    from tests.factories import InitiativeFactory

    settings.TOLLGATE_BOARD_PAGE_SIZE = 2
    for _ in range(5):
        InitiativeFactory(team=team, owner=owner, sponsor=executive)
    page, console = open_page(executive.username, DEFAULT_PASSWORD)
    cards = page.locator("#cards-poc .board-card")
    assert cards.count() == 2
    page.locator("#cards-poc .cards__more a").click()
    expect(cards).to_have_count(4)
    page.locator("#cards-poc .cards__more a").click()
    expect(cards).to_have_count(5)
    assert page.locator("#cards-poc .cards__more").count() == 0
    assert console.csp_violations() == [], console
