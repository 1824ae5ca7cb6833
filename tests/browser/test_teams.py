"""Teams and people in a real browser: a lead manages the team in place, under the CSP."""

from __future__ import annotations

import pytest
from django.urls import reverse

from teams.models import TeamMembership
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_lead_adds_promotes_and_removes_a_member_without_a_reload(
    open_page, expect, team, team_lead, team_member, initiative
):
    newcomer = UserFactory(username="newcomer", first_name="Nora", last_name="Newcomer")
    page, console = open_page(team_lead.username, DEFAULT_PASSWORD)
    page.get_by_role("link", name="Teams").click()
    page.get_by_role("link", name=team.name).click()
    expect(page.locator("#initiatives-heading")).to_be_visible()
    assert initiative.key in page.content()

    page.evaluate("() => { window.tollgateMarker = 'still here'; }")
    page.select_option("#id_user", str(newcomer.pk))
    page.get_by_role("button", name="Add to team").click()
    # The add form lists names too: look at the people list only.
    expect(page.locator("#members .people")).to_contain_text("Nora Newcomer")
    assert TeamMembership.objects.filter(team=team, user=newcomer).exists()

    membership = TeamMembership.objects.get(team=team, user=team_member)
    page.select_option(f"#role-{membership.pk}", "lead")
    # Wait for each swap: a click on the old fragment's buttons would be lost.
    with page.expect_response(lambda response: "/role/" in response.url):
        page.locator(f"#role-{membership.pk} ~ button").click()
    expect(page.locator(f"#role-{membership.pk}")).to_have_value("lead")
    membership.refresh_from_db()
    assert membership.role == TeamMembership.Role.LEAD
    # Removing asks first, naming the person (not their username).
    questions = []

    def answer(dialog):
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    with page.expect_response(lambda response: "/remove/" in response.url):
        page.get_by_role("button", name=f"Remove {team_member.get_full_name()}").click()
    assert questions == [f"Remove {team_member.get_full_name()} from {team.name}?"]
    expect(page.locator("#members .people")).not_to_contain_text(team_member.get_full_name())
    assert page.evaluate("() => window.tollgateMarker") == "still here"
    assert not TeamMembership.objects.filter(team=team, user=team_member).exists()

    page.goto(reverse("teams:people"))
    page.get_by_label("Only over 100%").check()
    expect(page.locator("#people-table")).to_contain_text("Nobody is over-allocated")
    assert console.csp_violations() == []
    # Script errors only: on SQLite the live server shares one connection between its
    # threads, and the nav's background requests (bell, awaiting count) now and then
    # collide there with a 500 that has nothing to do with these pages.
    assert [error for error in console.errors() if error.startswith("pageerror:")] == []
