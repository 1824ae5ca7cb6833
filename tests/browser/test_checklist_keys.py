"""Arrow keys move through the Open / Done / N/A group without saving on every press: the
item saves once, the state the person settles on, shortly after the last change."""

from __future__ import annotations

import pytest

from gates.models import ChecklistItem
from tests.factories import DEFAULT_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_arrowing_through_the_states_saves_once(open_page, expect, initiative, owner):
    item = initiative.gates.get().items.get(order=1)
    page, console = open_page(owner.username, DEFAULT_PASSWORD)
    page.goto(initiative.get_absolute_url())
    posts = []
    page.on(
        "request",
        lambda request: (
            posts.append(request.url)
            if request.method == "POST" and f"/items/{item.pk}/" in request.url
            else None
        ),
    )
    page.locator(f"#item-{item.pk} input[value=open]").focus()
    # Done, back to Open, Done again: three changes at a reading pace, each long enough
    # for a save to finish.
    for key in ("ArrowRight", "ArrowLeft", "ArrowRight"):
        page.keyboard.press(key)
        page.wait_for_timeout(300)
    expect(page.locator("#readiness")).to_contain_text("1 of 6 required items cleared")
    page.wait_for_timeout(1_000)
    assert len(posts) == 1, posts
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.DONE
    assert console.csp_violations() == [], console
