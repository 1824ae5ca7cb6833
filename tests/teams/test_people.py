"""The people view: allocation summed in the database, over 100% flagged, visibility respected."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from initiatives.models import Initiative
from initiatives.services import membership_add
from teams.roles import StageRole
from tests.factories import InitiativeFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PEOPLE = reverse("teams:people")


@pytest.fixture
def stretched(initiative, other_initiative):
    """A data scientist at 60% on each team's initiative: 120% in all."""
    user = UserFactory(username="stretched", groups=["contributor"])
    MembershipFactory(initiative=initiative, user=user, allocation_percent=60)
    MembershipFactory(
        initiative=other_initiative,
        user=user,
        stage_role=StageRole.DATA_SCIENTIST,
        allocation_percent=60,
    )
    return user


def _row(response, user):
    return next(p for p in response.context["page"].object_list if p.pk == user.pk)


def test_anonymous_is_sent_to_login(client):
    assert client.get(PEOPLE).status_code == 302


def test_people_over_100_percent_are_flagged(client, viewer, stretched):
    client.force_login(viewer)
    response = client.get(PEOPLE)
    assert response.status_code == 200
    assert _row(response, stretched).total_allocation == 120
    assert "Over-allocated" in response.content.decode()


def test_allocation_counts_only_initiatives_the_viewer_may_read(client, owner, stretched):
    # The owner of `initiative` cannot read `other_initiative`, so sees 60%.
    client.force_login(owner)
    response = client.get(PEOPLE)
    row = _row(response, stretched)
    assert row.total_allocation == 60
    assert [m.initiative.key for m in row.allocations] == [Initiative.objects.get(owner=owner).key]
    assert "Over-allocated" not in response.content.decode()


def test_an_allocation_changed_in_the_admin_shows_on_kept_people_at_once(
    client, viewer, stretched, django_capture_on_commit_callbacks
):
    """Readers of everything share a kept copy of the people view; the admin's membership
    page changes an allocation without the activity log."""
    client.force_login(viewer)
    assert _row(client.get(PEOPLE), stretched).total_allocation == 120
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    membership = stretched.initiative_memberships.order_by("pk").first()
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:initiatives_membership_change", args=[membership.pk]),
            {
                "stage_role": membership.stage_role,
                "allocation_percent": 30,
                "_save": "Save",
            },
        )
    client.force_login(viewer)
    assert _row(client.get(PEOPLE), stretched).total_allocation == 90


def test_outsider_sees_nobody(client, outsider, stretched):
    client.force_login(outsider)
    assert list(client.get(PEOPLE).context["page"].object_list) == []


def test_stopped_and_completed_initiatives_free_people(client, viewer, stretched, other_initiative):
    Initiative.objects.filter(pk=other_initiative.pk).update(status=Initiative.Status.STOPPED)
    client.force_login(viewer)
    assert _row(client.get(PEOPLE), stretched).total_allocation == 60


def test_on_hold_initiatives_still_count(client, viewer, stretched, other_initiative):
    Initiative.objects.filter(pk=other_initiative.pk).update(status=Initiative.Status.ON_HOLD)
    client.force_login(viewer)
    assert _row(client.get(PEOPLE), stretched).total_allocation == 120


def test_over_filter_keeps_only_the_over_allocated(client, viewer, stretched, member):
    client.force_login(viewer)
    response = client.get(PEOPLE, {"over": "on"})
    assert [p.pk for p in response.context["page"].object_list] == [stretched.pk]


def test_htmx_request_gets_the_table_fragment(client, viewer, stretched):
    client.force_login(viewer)
    response = client.get(PEOPLE, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert 'id="people-table"' in content
    assert "<html" not in content


def test_people_view_queries_do_not_grow_with_people(
    client, viewer, initiative, django_assert_num_queries
):
    client.force_login(viewer)
    MembershipFactory(initiative=initiative)
    client.get(PEOPLE)  # warm the session and role caches
    cache.clear()  # sum the allocations, rather than serve the page just cached
    with django_assert_num_queries(6):
        client.get(PEOPLE)
    for other in InitiativeFactory.create_batch(3):
        MembershipFactory.create_batch(3, initiative=other)
    cache.clear()
    with django_assert_num_queries(6):
        response = client.get(PEOPLE)
    assert response.context["page"].paginator.count == 10


def test_people_view_is_paginated(client, viewer, initiative):
    for _ in range(26):
        MembershipFactory(initiative=initiative)
    client.force_login(viewer)
    page = client.get(PEOPLE).context["page"]
    assert len(page.object_list) == 25
    assert page.paginator.num_pages == 2
    assert len(client.get(PEOPLE, {"page": 2}).context["page"].object_list) == 1


def test_a_person_on_many_initiatives_lists_the_largest_allocations_and_the_count(
    client, viewer, team, django_assert_num_queries
):
    from initiatives.selectors import ALLOCATIONS_SHOWN

    busy = UserFactory(username="busy", groups=["contributor"])
    for percent in range(1, ALLOCATIONS_SHOWN + 4):
        MembershipFactory(
            initiative=InitiativeFactory(team=team), user=busy, allocation_percent=percent
        )
    client.force_login(viewer)
    client.get(PEOPLE)
    cache.clear()
    with django_assert_num_queries(6):
        response = client.get(PEOPLE)
    row = _row(response, busy)
    assert [m.allocation_percent for m in row.allocations] == list(
        range(ALLOCATIONS_SHOWN + 3, 3, -1)
    )
    assert row.allocation_count == ALLOCATIONS_SHOWN + 3
    assert f"{ALLOCATIONS_SHOWN} of {ALLOCATIONS_SHOWN + 3} shown" in response.content.decode()


def test_readers_of_everything_share_the_page_until_the_portfolio_changes(
    client,
    viewer,
    executive,
    stretched,
    initiative,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
):
    client.force_login(viewer)
    client.get(PEOPLE)
    client.force_login(executive)
    client.get(PEOPLE)  # the executive's session and roles
    with django_assert_max_num_queries(3):  # session, user, roles: the page is shared
        assert _row(client.get(PEOPLE), stretched).total_allocation == 120
    with django_capture_on_commit_callbacks(execute=True):
        membership_add(
            initiative=initiative,
            actor=initiative.owner,
            user=stretched,
            stage_role=StageRole.PRODUCT_MANAGER,
            allocation_percent=10,
        )
    assert _row(client.get(PEOPLE), stretched).total_allocation == 130


def _visible_words(html: str) -> set[str]:
    """The words a person reads on the page (no markup, attributes, scripts or styles)."""
    import re

    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    text = re.sub(r"(?s)<[^>]*>", " ", html)
    return set(re.findall(r"[\w.@+-]+", text))


def test_people_and_team_pages_show_names_not_usernames(
    client, admin_user, stretched, team, team_lead, team_member
):
    """Everybody here has a name: no username shows where the name does."""
    people = [stretched, team_lead, team_member]
    assert all(person.get_full_name() for person in people)
    client.force_login(admin_user)
    for url in (PEOPLE, reverse("teams:detail", args=[team.slug]), reverse("teams:list")):
        words = _visible_words(client.get(url).content.decode())
        shown = [person.get_username() for person in people if person.get_username() in words]
        assert shown == [], f"{url} shows usernames {shown}"
    assert stretched.get_full_name() in client.get(PEOPLE).content.decode()
