"""The permission table of initiatives.policy, and who sees which initiatives."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from collaboration.models import Attachment, Comment
from gates.models import ChecklistItem
from gates.services import gatekeeper_add, target_create
from initiatives.models import Initiative
from initiatives.policy import CONTRIBUTION_ACTIONS, Action, access_for, can, get_for_user
from teams.models import Team, TeamMembership
from teams.roles import StageRole
from tests.factories import (
    InitiativeFactory,
    MembershipFactory,
    TeamMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

A = Action
T, F = True, False

# For each persona, the actions over `initiative` it may take; every other action is refused.
# VOTE and MANAGE_GATEKEEPERS are asked about the initiative's open gate, MANAGE_TEAM
# about the initiative's team.
ALLOWED = {
    "anonymous": set(),
    "inactive_user": set(),  # a deactivated admin: inactive outweighs every role
    # Admins do everything except vote (only named gatekeepers decide a gate) and edit
    # somebody else's words.
    "admin_user": set(Action) - {A.VOTE, A.EDIT_COMMENT},
    "executive": {A.VIEW, A.VIEW_PORTFOLIO, A.VOTE, A.COMMENT},  # the sponsor, its gatekeeper
    "other_executive": {A.VIEW, A.VIEW_PORTFOLIO, A.COMMENT},
    "owner": {
        A.VIEW,
        A.VIEW_PORTFOLIO,
        A.CREATE,
        A.EDIT,
        A.EDIT_CHECKLIST,
        A.RECORD_MEASUREMENT,
        A.REQUEST_REVIEW,
        A.COMMENT,
        A.DELETE_ATTACHMENT,
    },
    "team_lead": {
        A.VIEW,
        A.VIEW_PORTFOLIO,
        A.CREATE,
        A.EDIT,
        A.EDIT_CHECKLIST,
        A.RECORD_MEASUREMENT,
        A.REQUEST_REVIEW,
        A.MANAGE_TEAM,
        A.COMMENT,
        A.DELETE_ATTACHMENT,
    },
    "team_member": {A.VIEW, A.VIEW_PORTFOLIO, A.COMMENT},
    "other_pm": {A.VIEW_PORTFOLIO, A.CREATE},
    # `member` wrote the comment and uploaded the file the comment and file actions ask about.
    "member": {
        A.VIEW,
        A.VIEW_PORTFOLIO,
        A.EDIT_CHECKLIST,
        A.RECORD_MEASUREMENT,
        A.COMMENT,
        A.EDIT_COMMENT,
        A.DELETE_COMMENT,
        A.DELETE_ATTACHMENT,
    },
    "outsider": {A.VIEW_PORTFOLIO},
    # Viewers read the discussion but do not write in it.
    "viewer": {A.VIEW, A.VIEW_PORTFOLIO},
}

TABLE = [
    (persona, action, action in allowed)
    for persona, allowed in ALLOWED.items()
    for action in Action
]


def subject(action: Action, initiative: Initiative, author=None):
    if action in (A.EDIT_COMMENT, A.DELETE_COMMENT):
        return Comment.objects.create(
            initiative=initiative, author=author, body="Looks ready.", body_html="<p>x</p>"
        )
    if action == A.DELETE_ATTACHMENT:
        return Attachment.objects.create(
            initiative=initiative,
            uploaded_by=author,
            name="eval.pdf",
            storage_key=f"evidence/{initiative.pk}/policy",
            size=10,
            content_type="application/pdf",
            sha256="0" * 64,
        )
    if action in (A.VOTE, A.MANAGE_GATEKEEPERS):
        return initiative.gates.get()
    if action == A.MANAGE_TEAM:
        return initiative.team
    if action in (A.CREATE, A.VIEW_PORTFOLIO):
        return None
    return initiative


@pytest.mark.parametrize(("persona", "action", "expected"), TABLE)
def test_permission_table(request, initiative, persona, action, expected):
    user = request.getfixturevalue(persona)
    author = request.getfixturevalue("member")
    assert can(user, action, subject(action, initiative, author)) is expected


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("admin_user", T),
        ("team_lead", T),
        ("owner", F),
        ("member", F),
        ("team_member", F),
        ("other_pm", F),
    ],
)
def test_manage_team_asked_about_an_initiative_answers_for_its_team(
    request, initiative, persona, expected
):
    # Callers may pass the initiative rather than its team; the answer must be about its
    # team, never about whichever team happens to share the initiative's primary key.
    user = request.getfixturevalue(persona)
    assert can(user, Action.MANAGE_TEAM, initiative) is expected


def test_manage_team_never_answers_for_a_team_that_shares_the_initiatives_pk(
    initiative, team, owner, executive, other_pm
):
    # Primary keys of teams and initiatives overlap; make the overlap explicit so the
    # test does not depend on the database's sequences.
    subject = initiative
    while Team.objects.filter(pk=subject.pk).exists():
        subject = InitiativeFactory(team=team, owner=owner, sponsor=executive)
    decoy = Team.objects.create(pk=subject.pk, name="Decoy", slug="decoy")
    TeamMembershipFactory(team=decoy, user=other_pm, role=TeamMembership.Role.LEAD)
    assert can(other_pm, Action.MANAGE_TEAM, decoy) is T
    assert can(other_pm, Action.MANAGE_TEAM, subject) is F


def test_vote_over_an_initiative_without_its_gate_is_refused(initiative, executive):
    assert can(executive, Action.VOTE, initiative) is F


def test_a_gatekeeper_added_to_the_gate_may_vote(initiative, other_executive, admin_user):
    gate = initiative.gates.get()
    gatekeeper_add(gate=gate, user=other_executive, actor=admin_user)
    assert can(other_executive, Action.VOTE, gate) is T


@pytest.mark.parametrize(("persona", "expected"), [("member", T), ("owner", T), ("outsider", F)])
def test_checklist_items_and_targets_resolve_to_their_initiative(
    request, initiative, persona, expected
):
    user = request.getfixturevalue(persona)
    item = initiative.gates.get().items.first()
    target = target_create(
        initiative=initiative, actor=initiative.owner, metric_key="uptime", threshold=99
    )
    assert can(user, Action.EDIT_CHECKLIST, item) is expected
    assert can(user, Action.RECORD_MEASUREMENT, target) is expected


def test_a_superuser_is_an_admin_without_the_group(initiative):
    superuser = UserFactory(is_superuser=True)
    assert can(superuser, Action.EDIT, initiative) is T
    assert can(superuser, Action.MANAGE_GATEKEEPERS, initiative.gates.get()) is T


def test_prefetched_memberships_are_used(initiative, member, django_assert_num_queries):
    prefetched = Initiative.objects.prefetch_related("memberships").get(pk=initiative.pk)
    can(member, Action.VIEW_PORTFOLIO)  # loads the roles
    with django_assert_num_queries(0):
        assert can(member, Action.EDIT_CHECKLIST, prefetched) is T


# --- Initiative.objects.visible_to ------------------------------------------------------------

VISIBLE = {
    "anonymous": set(),
    "inactive_user": set(),
    "admin_user": {"initiative", "other_initiative"},
    "executive": {"initiative", "other_initiative"},
    "other_executive": {"initiative", "other_initiative"},
    "viewer": {"initiative", "other_initiative"},
    "owner": {"initiative"},
    "team_lead": {"initiative"},
    "team_member": {"initiative"},
    "member": {"initiative"},
    "other_pm": {"other_initiative"},
    "outsider": set(),
}


@pytest.mark.parametrize(("persona", "expected"), sorted(VISIBLE.items()))
def test_visible_to_returns_exactly_the_initiatives_a_persona_reads(
    request, initiative, other_initiative, persona, expected
):
    user = request.getfixturevalue(persona)
    keys = list(Initiative.objects.visible_to(user).values_list("key", flat=True))
    assert len(keys) == len(set(keys))
    assert set(keys) == {request.getfixturevalue(name).key for name in expected}


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_visible_to_agrees_with_can_view(request, initiative, other_initiative, persona):
    user = request.getfixturevalue(persona)
    visible = set(Initiative.objects.visible_to(user))
    assert visible == {i for i in Initiative.objects.all() if can(user, Action.VIEW, i)}


def test_visible_to_has_no_duplicates_for_a_person_related_in_many_ways(
    initiative, team_lead, member
):
    # The lead is also on the initiative twice; each relation is a join row.
    MembershipFactory(initiative=initiative, user=team_lead, stage_role=StageRole.PRODUCT_MANAGER)
    MembershipFactory(initiative=initiative, user=team_lead, stage_role=StageRole.DOMAIN_EXPERT)
    MembershipFactory(initiative=initiative, user=member, stage_role=StageRole.DATA_SCIENTIST)
    assert list(Initiative.objects.visible_to(team_lead)) == [initiative]
    assert list(Initiative.objects.visible_to(member)) == [initiative]
    assert Initiative.objects.visible_to(team_lead).count() == 1


def test_a_sponsor_who_is_not_an_executive_sees_what_they_sponsor(team, owner, outsider):
    # Services only name executives as sponsors; one who later left the executive
    # group keeps reading what they sponsor.
    sponsored = InitiativeFactory(team=team, owner=owner)
    Initiative.objects.filter(pk=sponsored.pk).update(sponsor=outsider)
    sponsored.refresh_from_db()
    assert list(Initiative.objects.visible_to(outsider)) == [sponsored]
    assert can(outsider, Action.VIEW, sponsored) is T


# --- The access object and the fetch helper ---------------------------------------------------


@pytest.mark.parametrize("persona", sorted(ALLOWED))
def test_the_access_object_answers_as_the_table_says(request, initiative, persona):
    user = request.getfixturevalue(persona)
    access = access_for(user, initiative)
    gate = initiative.gates.get()
    # Portfolio-wide actions are not about one initiative: `can` answers them; contribution
    # actions are asked about one comment or file.
    portfolio_wide = {A.CREATE, A.VIEW_PORTFOLIO, A.MANAGE_TEAM, A.IMPORT_PORTFOLIO}
    for action in set(Action) - portfolio_wide - CONTRIBUTION_ACTIONS:
        assert access.allows(action, gate) is (action in ALLOWED[persona]), action


@pytest.mark.parametrize("persona", ["member", "owner", "team_lead", "outsider", "viewer"])
def test_access_is_decided_from_one_query(
    request, initiative, member, persona, django_assert_num_queries
):
    # Roles, team roles and the membership come back together; then every question is free.
    user = request.getfixturevalue(persona)
    fresh = type(user).objects.get(pk=user.pk)
    unprefetched = Initiative.objects.get(pk=initiative.pk)
    with django_assert_num_queries(1):
        access = access_for(fresh, unprefetched)
    with django_assert_num_queries(0):
        [access.allows(action) for action in set(Action) - {A.VOTE}]


def test_get_for_user_returns_the_object_with_its_access(initiative, member):
    item = initiative.gates.get().items.first()
    found, access = get_for_user(member, ChecklistItem.objects.all(), pk=item.pk)
    assert found == item
    assert access.can_edit_checklist and not access.can_edit


def test_get_for_user_hides_from_outsiders_and_refuses_readers(initiative, outsider, viewer):
    initiatives = Initiative.objects.all()
    with pytest.raises(Http404):
        get_for_user(outsider, initiatives, key=initiative.key)
    with pytest.raises(Http404):
        get_for_user(viewer, initiatives, key="AI-999")
    with pytest.raises(PermissionDenied):
        get_for_user(viewer, initiatives, action=Action.EDIT, key=initiative.key)
    found, access = get_for_user(viewer, initiatives, key=initiative.key)
    assert found == initiative and access.can_view and not access.can_edit
