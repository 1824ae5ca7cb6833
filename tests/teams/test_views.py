"""Teams pages: who sees which team, and who may change who is in it."""

import pytest
from django.urls import reverse

from initiatives.models import Initiative
from teams.models import TeamMembership
from tests.factories import InitiativeFactory, TeamFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
TEAMS = reverse("teams:list")


def _detail(team):
    return reverse("teams:detail", args=[team.slug])


def _add(team):
    return reverse("teams:member-add", args=[team.slug])


def test_anonymous_is_sent_to_login(client, team):
    for url in (TEAMS, _detail(team)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_outsider_sees_no_team(client, outsider, initiative, other_initiative):
    client.force_login(outsider)
    response = client.get(TEAMS)
    assert response.status_code == 200
    assert list(response.context["teams"]) == []
    assert client.get(_detail(initiative.team)).status_code == 404


def test_viewer_sees_every_team(client, viewer, team, other_team):
    client.force_login(viewer)
    response = client.get(TEAMS)
    assert {t.slug for t in response.context["teams"]} == {team.slug, other_team.slug}
    assert client.get(_detail(other_team)).status_code == 200


def test_initiative_member_sees_the_team_of_their_initiative_only(
    client, member, initiative, other_initiative
):
    client.force_login(member)
    slugs = {t.slug for t in client.get(TEAMS).context["teams"]}
    assert slugs == {initiative.team.slug}
    assert client.get(_detail(other_initiative.team)).status_code == 404


def test_team_page_lists_members_and_only_the_initiatives_the_viewer_may_read(
    client, member, initiative, team, team_lead, team_member
):
    # `member` reads the team through `initiative` only; the team's second
    # initiative has nothing to do with them.
    hidden = InitiativeFactory(name="Churn forecast", team=team)
    client.force_login(member)
    response = client.get(_detail(team))
    assert response.status_code == 200
    content = response.content.decode()
    assert initiative.key in content
    assert hidden.key not in content
    # The owners of the team's initiatives work in it too.
    owners = {initiative.owner, hidden.owner}
    assert {m.user for m in response.context["members"]} == {team_lead, team_member} | owners
    assert response.context["members"][0].role == TeamMembership.Role.LEAD
    assert not response.context["can_manage"]
    assert 'name="role"' not in content


def test_team_page_shows_stage_and_status(client, team_member, initiative):
    client.force_login(team_member)
    content = client.get(_detail(initiative.team)).content.decode()
    assert initiative.stage.name in content
    assert initiative.get_status_display() in content


def test_team_list_queries_do_not_grow_with_teams(client, viewer, django_assert_num_queries):
    client.force_login(viewer)
    TeamFactory.create_batch(2)
    client.get(TEAMS)  # warm the session and role caches
    with django_assert_num_queries(4):
        client.get(TEAMS)
    for team in TeamFactory.create_batch(5):
        TeamMembershipFactory(team=team)
    with django_assert_num_queries(4):
        client.get(TEAMS)


def test_lead_adds_a_member(client, team, team_lead, outsider):
    client.force_login(team_lead)
    response = client.post(_add(team), {"user": outsider.pk, "role": "member"})
    assert response.status_code == 302
    assert TeamMembership.objects.get(team=team, user=outsider).role == "member"


def test_lead_adds_a_member_with_htmx_and_gets_the_members_fragment(client, team, team_lead):
    newcomer = UserFactory(username="newcomer")
    client.force_login(team_lead)
    response = client.post(_add(team), {"user": newcomer.pk, "role": "lead"}, **HTMX)
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert 'id="members"' in content
    # People see the name, not the username, in the list and in the message.
    assert f"{newcomer.get_full_name()} joined {team}" in content
    assert TeamMembership.objects.get(team=team, user=newcomer).role == "lead"


def test_lead_changes_a_role_and_removes_a_member(client, team, team_lead, team_member):
    membership = TeamMembership.objects.get(team=team, user=team_member)
    client.force_login(team_lead)
    url = reverse("teams:member-role", args=[team.slug, membership.pk])
    assert client.post(url, {"role": "lead"}).status_code == 302
    membership.refresh_from_db()
    assert membership.role == "lead"
    url = reverse("teams:member-remove", args=[team.slug, membership.pk])
    assert client.post(url).status_code == 302
    assert not TeamMembership.objects.filter(pk=membership.pk).exists()


def test_admin_manages_any_team(client, admin_user, other_team, outsider):
    client.force_login(admin_user)
    assert client.post(_add(other_team), {"user": outsider.pk, "role": "member"}).status_code == 302
    assert TeamMembership.objects.filter(team=other_team, user=outsider).exists()


def test_plain_member_may_read_but_not_manage(client, team, team_member, outsider):
    membership = TeamMembership.objects.get(team=team, user=team_member)
    client.force_login(team_member)
    assert client.get(_detail(team)).status_code == 200
    assert client.post(_add(team), {"user": outsider.pk, "role": "member"}).status_code == 403
    role_url = reverse("teams:member-role", args=[team.slug, membership.pk])
    assert client.post(role_url, {"role": "lead"}).status_code == 403
    remove_url = reverse("teams:member-remove", args=[team.slug, membership.pk])
    assert client.post(remove_url).status_code == 403
    membership.refresh_from_db()
    assert membership.role == "member"


def test_viewer_may_not_manage(client, viewer, team, outsider):
    client.force_login(viewer)
    assert client.post(_add(team), {"user": outsider.pk}).status_code == 403


def test_lead_of_another_team_gets_404(client, other_pm, team, outsider):
    client.force_login(other_pm)
    assert client.post(_add(team), {"user": outsider.pk, "role": "member"}).status_code == 404
    assert not TeamMembership.objects.filter(team=team, user=outsider).exists()


def test_a_membership_of_another_team_cannot_be_reached_through_this_one(
    client, team, team_lead, other_pm, other_team
):
    foreign = TeamMembership.objects.get(team=other_team, user=other_pm)
    client.force_login(team_lead)
    url = reverse("teams:member-remove", args=[team.slug, foreign.pk])
    assert client.post(url).status_code == 404
    assert TeamMembership.objects.filter(pk=foreign.pk).exists()


def test_adding_someone_twice_is_refused(client, team, team_lead, team_member):
    client.force_login(team_lead)
    response = client.post(_add(team), {"user": team_member.pk, "role": "member"})
    # The form only offers people outside the team.
    assert response.status_code == 422
    assert TeamMembership.objects.filter(team=team, user=team_member).count() == 1


def test_manage_views_refuse_get(client, team, team_lead):
    client.force_login(team_lead)
    assert client.get(_add(team)).status_code == 405


def test_team_page_refuses_to_show_an_unknown_team(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("teams:detail", args=["nope"])).status_code == 404


def test_nav_links_to_teams_and_people(client, viewer):
    client.force_login(viewer)
    content = client.get(TEAMS).content.decode()
    assert f'href="{TEAMS}"' in content
    assert f'href="{reverse("teams:people")}"' in content


def test_initiative_status_is_shown_for_stopped_initiatives_too(client, viewer, initiative):
    Initiative.objects.filter(pk=initiative.pk).update(status=Initiative.Status.STOPPED)
    client.force_login(viewer)
    assert "Stopped" in client.get(_detail(initiative.team)).content.decode()


def test_htmx_add_with_errors_returns_the_fragment_with_them(client, team, team_lead):
    client.force_login(team_lead)
    response = client.post(_add(team), {"user": "", "role": "member"}, **HTMX)
    # A 200, because htmx does not swap error statuses.
    assert response.status_code == 200
    assert 'id="members"' in response.content.decode()
    assert response.context["add_form"].errors


def test_a_lead_who_steps_down_gets_the_fragment_without_controls(client, team, team_lead):
    membership = TeamMembership.objects.get(team=team, user=team_lead)
    client.force_login(team_lead)
    url = reverse("teams:member-role", args=[team.slug, membership.pk])
    response = client.post(url, {"role": "member"}, **HTMX)
    assert response.status_code == 200
    assert not response.context["can_manage"]
    assert client.post(url, {"role": "lead"}).status_code == 403


def test_team_page_queries_do_not_grow_with_members_or_initiatives(
    client, admin_user, team, team_lead, initiative, django_assert_num_queries
):
    client.force_login(admin_user)
    client.get(_detail(team))
    with django_assert_num_queries(7):
        client.get(_detail(team))
    for _ in range(4):
        TeamMembershipFactory(team=team)
    InitiativeFactory.create_batch(3, team=team)
    with django_assert_num_queries(7):
        client.get(_detail(team))


def test_htmx_get_of_a_team_page_returns_the_members_fragment(client, team_member, team):
    client.force_login(team_member)
    content = client.get(_detail(team), **HTMX).content.decode()
    assert 'id="members"' in content
    assert "<html" not in content
