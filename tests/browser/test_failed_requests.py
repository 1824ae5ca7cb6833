"""A failed htmx request is visible: a message next to the control, the control back to what
is saved, and a way on. One script does this for every page (static/js/htmx-errors.js)."""

from __future__ import annotations

import pytest

from gates.models import ChecklistItem
from initiatives.models import Membership
from tests.factories import DEFAULT_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_refused_tick_says_so_and_shows_the_item_as_saved(open_page, expect, initiative, member):
    item = initiative.gates.get().items.get(order=1)
    page, console = open_page(member.username, DEFAULT_PASSWORD)
    page.goto(initiative.get_absolute_url())
    # Taken off the initiative while the page is open: the item is gone from their view (404).
    Membership.objects.filter(initiative=initiative, user=member).delete()
    page.locator(f"#item-{item.pk} label.segmented__option--done").click()

    message = page.locator(f"#item-{item.pk} .request-error")
    expect(message).to_be_visible()
    expect(message).to_contain_text("Not saved")
    expect(message).to_have_attribute("role", "alert")
    expect(page.locator(f"#item-{item.pk} input[value=open]")).to_be_checked()
    expect(page.locator(f"#item-{item.pk} input[value=done]")).not_to_be_checked()
    expect(message.get_by_role("link", name="Reload the page")).to_have_attribute(
        "href", f"{page.url}"
    )
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.OPEN
    assert console.csp_violations() == [], console


def test_a_lost_connection_says_so_next_to_the_control(open_page, expect, initiative, owner):
    item = initiative.gates.get().items.get(order=1)
    page, console = open_page(owner.username, DEFAULT_PASSWORD)
    page.goto(initiative.get_absolute_url())
    page.route(f"**/items/{item.pk}/", lambda route: route.abort("internetdisconnected"))
    page.locator(f"#item-{item.pk} label.segmented__option--done").click()

    message = page.locator(f"#item-{item.pk} .request-error")
    expect(message).to_contain_text("could not be reached")
    expect(page.locator(f"#item-{item.pk} input[value=open]")).to_be_checked()

    # Once the connection is back, the next attempt takes the message away and saves.
    page.unroute(f"**/items/{item.pk}/")
    page.locator(f"#item-{item.pk} label.segmented__option--done").click()
    expect(page.locator("#readiness")).to_contain_text("1 of 6 required items cleared")
    expect(message).to_have_count(0)
    assert console.csp_violations() == [], console


def test_a_failed_board_filter_says_it_did_not_load(open_page, expect, initiative, executive):
    page, console = open_page(executive.username, DEFAULT_PASSWORD)
    page.route(
        lambda url: "overdue=" in url,
        lambda route: route.fulfill(status=500, body="Server error"),
    )
    page.check("input[name=overdue]")

    message = page.locator("form + .request-error")
    expect(message).to_contain_text("Not loaded")
    expect(message).to_contain_text("went wrong")
    # The filter goes back to what the board shows.
    expect(page.locator("input[name=overdue]")).not_to_be_checked()
    assert console.csp_violations() == [], console
