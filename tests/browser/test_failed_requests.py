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
    # A click, not check(): the refused request may put the box back before Playwright
    # looks, which is the behaviour under test.
    page.locator("input[name=overdue]").click()

    message = page.locator("form + .request-error")
    expect(message).to_contain_text("Not loaded")
    expect(message).to_contain_text("went wrong")
    # The filter goes back to what the board shows.
    expect(page.locator("input[name=overdue]")).not_to_be_checked()
    assert console.csp_violations() == [], console


def _sign_out_in_another_tab(page):
    other = page.context.new_page()
    other.goto("/")
    with other.expect_navigation(url="**/accounts/login/"):
        other.get_by_role("button", name="Log out").click()
    other.close()


def test_sign_in_lost_before_a_save_takes_the_whole_page_to_sign_in(
    open_page, expect, initiative, owner, live_server, settings
):
    settings.TOLLGATE_LIVE_POLL_SECONDS = 600  # the save, not the page's poll, finds out
    item = initiative.gates.get().items.get(order=1)
    page, console = open_page(owner.username, DEFAULT_PASSWORD)
    page.goto(initiative.get_absolute_url())
    _sign_out_in_another_tab(page)
    page.locator(f"#item-{item.pk} label.segmented__option--done").click()

    # The whole browser goes to sign in, and comes back to the page, not to the item's URL.
    page.wait_for_url(f"**/accounts/login/?next=%2Finitiatives%2F{initiative.key}%2F")
    expect(page.locator("input[name=username]")).to_be_visible()
    expect(page.locator(f"#item-{item.pk}")).to_have_count(0)
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.OPEN
    page.fill("input[name=username]", owner.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{initiative.get_absolute_url()}")
    assert console.csp_violations() == [], console


def test_sign_in_lost_before_a_filter_takes_the_whole_page_to_sign_in(
    open_page, expect, initiative, executive
):
    page, console = open_page(executive.username, DEFAULT_PASSWORD)
    page.goto("/?status=active")
    _sign_out_in_another_tab(page)
    page.click("input[name=overdue]")

    page.wait_for_url("**/accounts/login/?next=%2F%3Fstatus%3Dactive")
    expect(page.locator("input[name=username]")).to_be_visible()
    # Not swapped into the board: the sign-in page is the whole page.
    expect(page.locator("#board")).to_have_count(0)
    assert console.csp_violations() == [], console


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
def test_a_save_from_a_page_older_than_the_sign_in_says_so(
    open_page, expect, initiative, owner, settings, debug
):
    """Signed out and in again in another tab: the page's CSRF token is stale. The tick is
    refused (403), the item shows what is saved, the message says why and offers a reload;
    with DEBUG on as off, the page stays (no error page swapped in)."""
    settings.DEBUG = debug
    item = initiative.gates.get().items.get(order=1)
    page, console = open_page(owner.username, DEFAULT_PASSWORD)
    page.goto(initiative.get_absolute_url())
    _sign_in_again_in_another_tab(page, owner)

    page.locator(f"#item-{item.pk} label.segmented__option--done").click()
    message = page.locator(f"#item-{item.pk} .request-error")
    expect(message).to_contain_text("Not saved")
    expect(message).to_contain_text("you signed in again")
    expect(page.locator(f"#item-{item.pk} input[value=open]")).to_be_checked()
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page.locator("#readiness")).to_be_visible()
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.OPEN

    # The way on: reload, and the same tick saves.
    message.get_by_role("link", name="Reload the page").click()
    page.locator(f"#item-{item.pk} label.segmented__option--done").click()
    expect(page.locator("#readiness")).to_contain_text("1 of 6 required items cleared")
    assert console.csp_violations() == [], console


def _sign_in_again_in_another_tab(page, user):
    _sign_out_in_another_tab(page)
    other = page.context.new_page()
    other.goto("/accounts/login/")
    other.fill("input[name=username]", user.username)
    other.fill("input[name=password]", DEFAULT_PASSWORD)
    other.click("button[type=submit]")
    other.wait_for_url("**/")
    other.close()


def _offline(page, _user):
    page.context.set_offline(True)


@pytest.mark.parametrize(
    "failure", [_offline, _sign_in_again_in_another_tab], ids=["offline", "refused-403"]
)
def test_a_failed_save_keeps_what_was_typed_in_every_htmx_form_of_the_initiative_page(
    open_page, expect, initiative, owner, settings, failure
):
    """A comment, an item's note and evidence link: typed, the save fails, the message shows,
    and every word typed is still in its box; only the choices go back to what is saved."""
    settings.TOLLGATE_LIVE_POLL_SECONDS = 600
    item = initiative.gates.get().items.get(order=1)
    page, console = open_page(owner.username, DEFAULT_PASSWORD)
    page.goto(initiative.get_absolute_url())
    failure(page, owner)

    comment = "Numbers from the pilot in Q3, see the sheet — please check them"
    page.fill("#id_body", comment)
    page.wait_for_timeout(600)  # the suggestions' request (after 250 ms) has come and gone
    page.get_by_role("button", name="Post comment").click()
    message = page.locator("#comment-form + .request-error")
    expect(message).to_contain_text("Not saved")
    expect(page.locator("#id_body")).to_have_value(comment)

    row = page.locator(f"#item-{item.pk}")
    row.locator("summary").click()
    note = "Signed off by legal on the 3rd; the memo is in the shared drive."
    row.locator("textarea[name$=note]").fill(note)
    row.locator("input[name$=evidence_url]").fill("https://example.com/memo")
    row.locator("input[value=not_applicable]").check(force=True)
    row.locator("textarea[name$=na_reason]").fill("Handled by the vendor")
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".request-error")).to_contain_text("Not saved")
    expect(row.locator("textarea[name$=note]")).to_have_value(note)
    expect(row.locator("input[name$=evidence_url]")).to_have_value("https://example.com/memo")
    expect(row.locator("textarea[name$=na_reason]")).to_have_value("Handled by the vendor")
    expect(row.locator("input[value=open]")).to_be_checked()
    # Nothing was saved meanwhile.
    assert not initiative.comments.exists()
    item.refresh_from_db()
    assert (item.state, item.note) == (ChecklistItem.State.OPEN, "")
    assert console.csp_violations() == [], console


@pytest.mark.parametrize(
    "failure", [_offline, _sign_in_again_in_another_tab], ids=["offline", "refused-403"]
)
def test_a_failed_save_stays_said_while_the_person_goes_on_typing(
    open_page, expect, initiative, owner, settings, failure
):
    """Typing in the comment box loads the mention suggestions; that request is not a new
    attempt at the save, so it neither takes the save's message away (posted at once after
    typing, or edited after the failure) nor puts a "Not loaded" in its place."""
    settings.TOLLGATE_LIVE_POLL_SECONDS = 600
    page, console = open_page(owner.username, DEFAULT_PASSWORD)
    page.goto(initiative.get_absolute_url())
    failure(page, owner)

    page.fill("#id_body", "Numbers from the pilot")
    page.get_by_role("button", name="Post comment").click()  # before the suggestions load
    message = page.locator("#comment-form + .request-error")
    expect(message).to_contain_text("Not saved")
    page.locator("#id_body").press_sequentially(" in Q3")
    page.wait_for_timeout(800)  # the suggestions' request (after 250 ms) has come and gone
    expect(message).to_have_count(1)
    expect(message).to_contain_text("Not saved")
    expect(page.locator("#id_body")).to_have_value("Numbers from the pilot in Q3")
    assert not initiative.comments.exists()
    assert console.csp_violations() == [], console


def test_sign_in_lost_before_a_save_brings_back_what_was_typed_after_signing_in(
    open_page, expect, initiative, owner, live_server, settings
):
    """The session cookie is gone (expired, signed out elsewhere): posting the comment takes
    the browser to sign in; back on the page after signing in, the comment and the item's
    note are in their boxes again, with a word saying so, and nothing was saved meanwhile."""
    settings.TOLLGATE_LIVE_POLL_SECONDS = 600
    item = initiative.gates.get().items.get(order=1)
    page, console = open_page(owner.username, DEFAULT_PASSWORD)
    page.goto(initiative.get_absolute_url())
    row = page.locator(f"#item-{item.pk}")
    row.locator("summary").click()
    note = "Legal signed off on the 3rd."
    row.locator("textarea[name$=note]").fill(note)
    comment = "Pilot numbers are in the sheet; please check before Friday."
    page.fill("#id_body", comment)
    page.wait_for_timeout(600)  # the suggestions' request has come and gone
    page.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)
    page.get_by_role("button", name="Post comment").click()

    page.wait_for_url(f"**/accounts/login/?next=%2Finitiatives%2F{initiative.key}%2F")
    page.fill("input[name=username]", owner.username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}{initiative.get_absolute_url()}")
    expect(page.locator("#id_body")).to_have_value(comment)
    expect(row.locator("textarea[name$=note]")).to_have_value(note)
    expect(page.get_by_role("status").filter(has_text="what you typed is back")).to_have_count(1)
    assert not initiative.comments.exists()
    # Kept once: a reload shows the page as saved.
    page.reload()
    expect(page.locator("#id_body")).to_have_value("")
    assert console.csp_violations() == [], console
