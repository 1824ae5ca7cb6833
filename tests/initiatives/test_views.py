"""The portfolio board, the initiative page and the create/edit pages, through the test client."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from core.versions import portfolio_version
from gates.models import ChecklistItem, Decision
from gates.services import (
    checklist_item_update,
    gate_request_review,
    gate_vote,
    initiative_start,
    measurement_record,
)
from initiatives.models import BusinessCase, Framework, Initiative, Measurement, Membership, Target
from teams.roles import PortfolioRole
from teams.services import team_member_add, team_member_remove
from tests.factories import InitiativeFactory, TargetFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

BOARD = reverse("initiatives:list")
HTMX = {"HTTP_HX_REQUEST": "true"}


def columns(content: str) -> dict[str, str]:
    """The board's HTML cut into its columns, by stage key."""
    parts = re.split(r'<section class="column" id="stage-', content)[1:]
    return {part.split('"', 1)[0]: part for part in parts}


def make_initiatives(count: int, **kwargs) -> list[Initiative]:
    return [InitiativeFactory(**kwargs) for _ in range(count)]


# --- Board ------------------------------------------------------------------------------


def test_board_needs_a_login(client):
    response = client.get(BOARD)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_board_shows_one_column_per_stage_with_the_card(client, owner, initiative):
    client.force_login(owner)
    response = client.get(BOARD)
    assert response.status_code == 200
    by_stage = columns(response.content.decode())
    assert list(by_stage) == ["poc", "mvp", "production", "scale"]
    assert initiative.key in by_stage["poc"]
    assert "Support reply drafting" in by_stage["poc"]
    assert "Readiness <strong>0/6</strong>" in by_stage["poc"]
    assert "not written" in by_stage["poc"]  # no production bar yet


def test_outsider_sees_an_empty_board_that_says_what_to_do(client, outsider, initiative):
    client.force_login(outsider)
    content = client.get(BOARD).content.decode()
    assert initiative.key not in content
    assert "No active initiatives" in content
    assert reverse("initiatives:create") not in content  # contributors cannot start one


def test_board_htmx_request_gets_only_the_board_fragment(client, owner, initiative):
    client.force_login(owner)
    response = client.get(BOARD, {"q": "reply"}, **HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<section id="board"')
    assert "<html" not in content
    assert initiative.key in content


def test_history_restore_gets_the_whole_page(client, owner, initiative):
    client.force_login(owner)
    content = client.get(
        BOARD, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    ).content.decode()
    assert "<html" in content


def test_board_readiness_counts_cleared_and_not_applicable_items(client, owner, initiative, gate):
    items = list(gate.items.filter(required=True).order_by("order"))
    checklist_item_update(item=items[0], actor=owner, state=ChecklistItem.State.DONE)
    checklist_item_update(
        item=items[1], actor=owner, state=ChecklistItem.State.NOT_APPLICABLE, na_reason="n/a"
    )
    client.force_login(owner)
    content = client.get(BOARD).content.decode()
    assert "Readiness <strong>2/6</strong>" in content


def test_board_marks_gates_in_review(
    client, owner, executive, initiative, gate, django_capture_on_commit_callbacks
):
    client.force_login(executive)
    assert "gate-state--in_review" not in client.get(BOARD).content.decode()
    # The change commits, which moves on the version the executive's cached board is under.
    with django_capture_on_commit_callbacks(execute=True):
        gate_request_review(gate=gate, actor=owner)
    assert "gate-state--in_review" in client.get(BOARD).content.decode()


def test_board_shows_production_bar_counts(client, owner, initiative):
    met = TargetFactory(initiative=initiative, metric_key="accuracy", threshold=80)
    missed = TargetFactory(initiative=initiative, metric_key="latency_p95_ms", threshold=500)
    TargetFactory(initiative=initiative, metric_key="uptime", threshold=99)
    measurement_record(target=met, value=90, actor=owner)
    measurement_record(target=missed, value=900, actor=owner)
    client.force_login(owner)
    content = client.get(BOARD).content.decode()
    assert "1 met" in content and "1 missed" in content and "1 no data" in content


@pytest.mark.parametrize(
    ("params", "shows_initiative", "shows_other"),
    [
        ({"q": "reply"}, True, False),
        ({"q": "AI-002"}, False, True),
        ({"team": "support-ai"}, True, False),
        ({"team": "finance-automation"}, False, True),
        ({"owner": "pm"}, True, False),
        ({"owner": "pm2"}, False, True),
        ({"status": "on_hold"}, False, False),
        ({"status": "all"}, True, True),
        ({"overdue": "1"}, False, False),
        ({"stalled": "1"}, False, False),
        ({"team": "no-such-team"}, True, True),  # an unknown value is ignored
    ],
)
def test_board_filters(
    client, executive, initiative, other_initiative, params, shows_initiative, shows_other
):
    client.force_login(executive)
    content = client.get(BOARD, params).content.decode()
    assert (initiative.key in content) is shows_initiative
    assert (other_initiative.key in content) is shows_other


def test_board_filters_by_status_other_than_active(client, executive, initiative, gate, owner):
    gate_request_review(gate=gate, actor=owner)
    gate_vote(gate=gate, actor=executive, decision=Decision.HOLD, rationale="Wait for data.")
    client.force_login(executive)
    assert initiative.key not in client.get(BOARD).content.decode()
    on_hold = client.get(BOARD, {"status": "on_hold"}).content.decode()
    assert initiative.key in on_hold and "On hold" in on_hold


def test_empty_filter_result_says_how_to_widen(client, executive, initiative):
    client.force_login(executive)
    content = client.get(BOARD, {"q": "no such thing"}).content.decode()
    assert "Nothing matches these filters" in content
    assert "clear the filters" in content


def test_overdue_first_then_stalled_then_longest_in_stage(client, executive, team, owner):
    today = timezone.localdate()
    fresh = InitiativeFactory(name="Fresh", team=team, owner=owner, sponsor=executive)
    stalled = InitiativeFactory(
        name="Stalled one",
        team=team,
        owner=owner,
        sponsor=executive,
        entered_on=today - datetime.timedelta(days=70),
    )
    older = InitiativeFactory(
        name="Older",
        team=team,
        owner=owner,
        sponsor=executive,
        entered_on=today - datetime.timedelta(days=20),
    )
    overdue = InitiativeFactory(name="Overdue one", team=team, owner=owner, sponsor=executive)
    Initiative.objects.filter(pk=overdue.pk).update(gate_due_on=today - datetime.timedelta(days=1))
    # 70 days in a stage of at most 8 weeks: stalled; its gate got a new due date (not overdue).
    Initiative.objects.filter(pk=stalled.pk).update(gate_due_on=today + datetime.timedelta(days=7))
    client.force_login(executive)
    column = columns(client.get(BOARD).content.decode())["poc"]
    order = [column.index(i.key) for i in (overdue, stalled, older, fresh)]
    assert order == sorted(order)
    assert client.get(BOARD, {"stalled": "1"}).content.decode().count("board-card") >= 1


def test_show_more_pages_a_column(client, settings, executive, team, owner):
    settings.TOLLGATE_BOARD_PAGE_SIZE = 2
    initiatives = make_initiatives(5, team=team, owner=owner, sponsor=executive)
    client.force_login(executive)
    column = columns(client.get(BOARD).content.decode())["poc"]
    assert column.count('class="card board-card') == 2
    assert "Show more" in column and "(2 of 5)" in column
    assert 'hx-get="?show=poc&amp;page=2&amp;of=5"' in column

    fragment = client.get(BOARD, {"show": "poc", "page": 2, "of": 5}, **HTMX)
    content = fragment.content.decode()
    assert "<html" not in content and "<section" not in content
    assert content.count('class="card board-card') == 2
    assert "page=3" in content
    # The button keeps saying how far the column goes, page after page.
    assert "(4 of 5)" in content

    last = client.get(BOARD, {"show": "poc", "page": 3}, **HTMX).content.decode()
    assert last.count('class="card board-card') == 1 and "Show more" not in last

    # Without JavaScript the link reloads the board with the column expanded.
    expanded = client.get(BOARD, {"show": "poc", "page": 2}).content.decode()
    column = columns(expanded)["poc"]
    assert column.count('class="card board-card') == 4
    assert "page=3" in column
    for initiative in initiatives:
        assert initiative.key in expanded or initiative.key in last


def test_framework_switcher_appears_with_a_second_framework(
    client, executive, team, owner, django_capture_on_commit_callbacks
):
    InitiativeFactory(team=team, owner=owner, sponsor=executive)
    client.force_login(executive)
    assert 'name="framework" id=' not in client.get(BOARD).content.decode()
    rollout = Framework.objects.get(slug="phased-rollout")
    with django_capture_on_commit_callbacks(execute=True):
        other = initiative_start(
            actor=owner,
            name="Rollout",
            team=team,
            owner=owner,
            sponsor=executive,
            framework=rollout,
        )
    content = client.get(BOARD).content.decode()
    assert 'name="framework" id=' in content
    assert other.key not in content  # the default framework is shown first
    switched = client.get(BOARD, {"framework": "phased-rollout"}).content.decode()
    assert other.key in switched
    assert "Production-minded PoC" in switched


def _board_queries(client, django_assert_num_queries, user, expected, *, ranked=True):
    client.force_login(user)
    client.get(BOARD)  # warm the session and the content-type caches
    if ranked:
        cache.clear()  # rank the board again rather than reuse the ranking just cached
    with django_assert_num_queries(expected):
        response = client.get(BOARD)
    assert response.status_code == 200


# session, user, the user's groups, frameworks, teams, owners, stages, the count per
# stage, the ranking of the cards and the shown cards' figures, and the comment counts and
# the AI Act tiers of every card on the board, in one query each.
BOARD_QUERIES = 12
# Between two changes the board's columns and its filter choices come from the cache:
# session, user and groups.
BOARD_QUERIES_CACHED = 3


@pytest.mark.parametrize("count", [10, pytest.param(200, marks=pytest.mark.slow)])
@pytest.mark.parametrize("ranked, expected", [(True, BOARD_QUERIES), (False, BOARD_QUERIES_CACHED)])
def test_board_query_count_does_not_grow_with_the_portfolio(
    client, django_assert_num_queries, executive, owner, count, ranked, expected
):
    teams = [TeamFactory() for _ in range(3)]
    for index in range(count):
        initiative = InitiativeFactory(team=teams[index % 3], owner=owner, sponsor=executive)
        if index % 4 == 0:
            TargetFactory(initiative=initiative)
    _board_queries(client, django_assert_num_queries, executive, expected, ranked=ranked)


def test_readers_of_everything_share_one_rendered_board(
    client, django_assert_num_queries, executive, other_executive, owner, team
):
    """The second executive's board reads the columns the first one rendered: no card
    query and no rendering, only the filter choices around them."""
    for _ in range(3):
        InitiativeFactory(team=team, owner=owner, sponsor=executive)
    client.force_login(executive)
    first = client.get(BOARD).content.decode()
    client.force_login(other_executive)
    client.get("/dashboard/")  # warm the session outside the measured request
    with django_assert_num_queries(BOARD_QUERIES_CACHED):
        second = client.get(BOARD).content.decode()

    def section(page: str) -> str:
        return page[page.index('<section id="board"') :]

    assert section(second) == section(first)


def test_a_cached_board_ranking_is_dropped_when_a_change_commits(
    client, executive, owner, team, django_capture_on_commit_callbacks
):
    client.force_login(executive)
    first = InitiativeFactory(team=team, owner=owner, sponsor=executive)
    assert first.key in client.get(BOARD).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        later = InitiativeFactory(team=team, owner=owner, sponsor=executive)
    content = client.get(BOARD).content.decode()
    assert first.key in content and later.key in content


@pytest.mark.parametrize("ranked, expected", [(True, BOARD_QUERIES), (False, BOARD_QUERIES_CACHED)])
def test_board_query_count_for_a_member_with_restricted_visibility(
    client, django_assert_num_queries, member, initiative, ranked, expected
):
    make_initiatives(5)
    # A part of the portfolio is kept for its reader as the whole is for executives.
    _board_queries(client, django_assert_num_queries, member, expected, ranked=ranked)


def test_a_board_kept_for_one_person_is_never_shown_to_another(
    client, team_lead, other_pm, initiative, other_initiative
):
    client.force_login(team_lead)
    assert initiative.key in client.get(BOARD).content.decode()
    client.force_login(other_pm)
    content = client.get(BOARD).content.decode()
    assert other_initiative.key in content
    assert initiative.key not in content


def test_joining_a_team_shows_its_initiatives_on_a_kept_board_at_once(
    client, outsider, initiative, team, django_capture_on_commit_callbacks
):
    client.force_login(outsider)
    assert initiative.key not in client.get(BOARD).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        membership = team_member_add(team=team, user=outsider)
    assert initiative.key in client.get(BOARD).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        team_member_remove(membership=membership)
    assert initiative.key not in client.get(BOARD).content.decode()


def test_a_renamed_team_is_shown_by_its_new_name_on_a_kept_board_at_once(
    client, executive, initiative, team, django_capture_on_commit_callbacks
):
    client.force_login(executive)
    assert ">Customer Support AI</option>" in client.get(BOARD).content.decode()
    team.name = "Service Desk AI"
    with django_capture_on_commit_callbacks(execute=True):
        team.save()  # as the admin does: no service, no activity log
    content = client.get(BOARD).content.decode()
    assert ">Service Desk AI</option>" in content
    assert "Customer Support AI" not in content


def test_a_renamed_stage_is_shown_by_its_new_name_on_a_kept_board_at_once(
    client, executive, initiative, django_capture_on_commit_callbacks
):
    client.force_login(executive)
    client.get(BOARD)
    stage = initiative.stage
    stage.name = "Pilot in the field"
    with django_capture_on_commit_callbacks(execute=True):
        stage.save()  # as the admin does
    assert "Pilot in the field" in client.get(BOARD).content.decode()


def test_a_renamed_owner_is_shown_by_the_new_name_on_a_kept_board_at_once(
    client, executive, owner, initiative, django_capture_on_commit_callbacks
):
    client.force_login(executive)
    assert "Priya Nair" not in client.get(BOARD).content.decode()
    owner.first_name, owner.last_name = "Priya", "Nair"
    with django_capture_on_commit_callbacks(execute=True):
        owner.save()  # as the admin's user page does: no service, no activity log
    content = client.get(BOARD).content.decode()
    assert ">Priya Nair</option>" in content  # the owner filter
    assert "Customer Support AI · Priya Nair" in content  # the card


def test_signing_in_keeps_the_boards(client, owner, initiative, django_capture_on_commit_callbacks):
    """Every sign-in saves the person's last_login: that must not drop the kept boards."""
    before = portfolio_version()
    with django_capture_on_commit_callbacks(execute=True):
        client.force_login(owner)
    assert portfolio_version() == before


def test_a_membership_edited_in_the_admin_leaves_kept_boards_true(
    client, member, outsider, initiative, django_capture_on_commit_callbacks
):
    """The admin's membership page changes a role or an allocation; handing the place to
    somebody else wrote no activity log, so both people's kept boards went stale."""
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    membership = Membership.objects.get(initiative=initiative, user=member)
    for person in (member, outsider):
        client.force_login(person)
        client.get(BOARD)  # kept
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:initiatives_membership_change", args=[membership.pk]),
            {
                "initiative": initiative.pk,
                "user": outsider.pk,
                "stage_role": membership.stage_role,
                "allocation_percent": 40,
                "_save": "Save",
            },
        )
    membership.refresh_from_db()
    assert membership.allocation_percent == 40
    for person in (member, outsider):
        client.force_login(person)
        sees = Initiative.objects.visible_to(person).filter(pk=initiative.pk).exists()
        assert (initiative.key in client.get(BOARD).content.decode()) == sees


def test_a_migration_that_renames_a_stage_is_shown_on_a_kept_board(
    client, executive, initiative, django_capture_on_commit_callbacks
):
    """Data migrations write through historical models, which send no signal to the
    version's receivers, and a deploy's new templates would meet columns rendered by the
    old ones: every `migrate` (each deploy runs it) starts the kept boards afresh."""
    from django.core.management import call_command

    client.force_login(executive)
    client.get(BOARD)  # kept
    Stage = type(initiative.stage)
    Stage.objects.filter(pk=initiative.stage_id).update(name="Pilot in the field")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("migrate", verbosity=0)
    assert "Pilot in the field" in client.get(BOARD).content.decode()


def test_a_new_portfolio_role_changes_a_kept_board_at_once(
    client, outsider, initiative, django_capture_on_commit_callbacks
):
    client.force_login(outsider)
    assert initiative.key not in client.get(BOARD).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        outsider.groups.add(Group.objects.get(name=PortfolioRole.VIEWER))
    assert initiative.key in client.get(BOARD).content.decode()


def test_nav_links_to_decisions_without_querying(client, owner, initiative):
    client.force_login(owner)
    content = client.get(BOARD).content.decode()
    assert f'hx-get="{reverse("gates:awaiting-count")}"' in content


# --- Initiative page ------------------------------------------------------------------------


def detail(initiative) -> str:
    return reverse("initiatives:detail", args=[initiative.key])


def test_outsider_gets_404_on_the_initiative_page(client, outsider, initiative):
    client.force_login(outsider)
    assert client.get(detail(initiative)).status_code == 404


def test_viewer_reads_the_page_without_edit_controls(client, viewer, initiative):
    client.force_login(viewer)
    response = client.get(detail(initiative))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Minimum viable accuracy" in content
    assert 'class="item-form"' not in content
    assert "Ask for review" not in content
    assert reverse("initiatives:edit", args=[initiative.key]) not in content
    assert 'class="measure-form"' not in content


def test_member_sees_checklist_forms_but_not_edit_or_review(client, member, initiative):
    client.force_login(member)
    content = client.get(detail(initiative)).content.decode()
    assert content.count('class="item-form"') == 7
    assert "Ask for review" not in content
    assert reverse("initiatives:edit", args=[initiative.key]) not in content


def test_owner_sees_edit_review_and_target_links(client, owner, initiative):
    client.force_login(owner)
    content = client.get(detail(initiative)).content.decode()
    assert "Ask for review" in content
    assert reverse("initiatives:edit", args=[initiative.key]) in content
    assert reverse("initiatives:target-add", args=[initiative.key]) in content


def test_page_shows_stage_timeline_decisions_and_snapshot(client, owner, executive, gate):
    initiative = gate.initiative
    gate_request_review(gate=gate, actor=owner)
    gate_vote(
        gate=gate,
        actor=executive,
        decision=Decision.GO,
        rationale="Accuracy is there.",
        override_justification="Data review is booked next week.",
    )
    client.force_login(owner)
    content = client.get(detail(initiative)).content.decode()
    assert "stepper__step--past" in content and "stepper__step--current" in content
    assert "go by" in content
    assert "Accuracy is there." in content
    assert "Data review is booked next week." in content
    assert "What the deciders saw: 0 of 6 required items cleared" in content
    assert "Exit gate: MVP" in content


def test_production_bar_has_a_sparkline_of_recent_measurements(client, owner, initiative):
    target = TargetFactory(initiative=initiative, metric_key="accuracy", threshold=80)
    start = timezone.now() - datetime.timedelta(days=30)
    for day in range(15):
        measurement_record(
            target=target,
            value=70 + day,
            actor=owner,
            measured_at=start + datetime.timedelta(days=day),
        )
    client.force_login(owner)
    content = client.get(detail(initiative)).content.decode()
    assert 'aria-label="Last 12 measurements of Accuracy"' in content
    points = re.search(r'<polyline class="sparkline__line" points="([^"]+)"', content).group(1)
    assert len(points.split()) == 12
    assert "84%" in content  # the latest value


def test_activity_is_paginated_with_an_older_link(client, owner, initiative, gate):
    for item in gate.items.all():
        checklist_item_update(item=item, actor=owner, note=f"note {item.pk}")
        checklist_item_update(item=item, actor=owner, note=f"second {item.pk}")
    client.force_login(owner)
    content = client.get(detail(initiative)).content.decode()
    activity_url = reverse("initiatives:activity", args=[initiative.key])
    assert f'hx-get="{activity_url}?page=2"' in content
    fragment = client.get(activity_url, {"page": 2}, **HTMX).content.decode()
    assert "<html" not in fragment and "timeline__item" in fragment
    page = client.get(activity_url, {"page": 2})
    assert page.status_code == 200 and "<html" in page.content.decode()


def test_activity_page_is_404_for_outsiders(client, outsider, initiative):
    client.force_login(outsider)
    assert client.get(reverse("initiatives:activity", args=[initiative.key])).status_code == 404


def test_composition_gap_is_shown(client, owner, member, initiative):
    client.force_login(owner)
    content = client.get(detail(initiative)).content.decode()
    assert "Missing for this stage and the next" in content
    assert "Product manager" in content  # ml_engineer is held by `member`


# session, user; initiative (+ tags, memberships with their users); the user's roles (groups
# and teams, once for every question the page asks); stages of the framework; gate (+ items
# with their editors, gatekeepers with their users); votes of the round; transitions;
# decisions; targets; measurements; activity; the items' comment counts and files; the
# discussion, its files and earlier texts; the viewer's watch choice; the AI Act
# classification's revisions and the confirmed classification (tests/compliance counts
# what a confirmed one adds).
DETAIL_QUERIES = 24
# Without targets there are no measurements to read.
DETAIL_QUERIES_NO_TARGETS = DETAIL_QUERIES - 1


@pytest.mark.parametrize(
    ("persona", "queries"),
    [
        *[
            (persona, DETAIL_QUERIES_NO_TARGETS)
            for persona in ["owner", "member", "team_lead", "team_member", "executive", "viewer"]
        ],
        # Admins also get the form that adds a gatekeeper: the executives to choose from.
        ("admin_user", DETAIL_QUERIES_NO_TARGETS + 1),
    ],
)
def test_initiative_page_costs_the_same_queries_for_every_reader(
    client, django_assert_num_queries, request, initiative, member, gate, persona, queries
):
    client.force_login(request.getfixturevalue(persona))
    client.get(detail(initiative))  # warm the session
    with django_assert_num_queries(queries):
        response = client.get(detail(initiative))
    assert response.status_code == 200


@pytest.mark.parametrize("scale", [1, pytest.param(20, marks=pytest.mark.slow)])
def test_initiative_page_query_count_is_constant(
    client, django_assert_num_queries, owner, executive, team, member, initiative, gate, scale
):
    # 10 and 200 initiatives in the portfolio, with more data on the page at scale 20.
    make_initiatives(9 if scale == 1 else 199, team=team, owner=owner, sponsor=executive)
    for metric in ["accuracy", "latency_p95_ms", "uptime"][: 1 + scale % 3 + 1]:
        target = TargetFactory(initiative=initiative, metric_key=metric, threshold=50)
        for step in range(scale):
            measurement_record(
                target=target,
                value=step,
                actor=owner,
                measured_at=timezone.now() - datetime.timedelta(hours=step + 1),
            )
    for item in gate.items.all()[:scale]:
        checklist_item_update(item=item, actor=member, state=ChecklistItem.State.DONE)
    client.force_login(owner)
    client.get(detail(initiative))
    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(detail(initiative))
    assert response.status_code == 200


# --- Creating and editing -------------------------------------------------------------------


def test_product_manager_starts_an_initiative(client, owner, executive, team):
    client.force_login(owner)
    assert client.get(reverse("initiatives:create")).status_code == 200
    response = client.post(
        reverse("initiatives:create"),
        {
            "name": "Claims triage",
            "summary": "Routes claims.",
            "problem": "Slow routing.",
            "team": team.pk,
            "owner": owner.pk,
            "sponsor": executive.pk,
            "framework": Framework.default().pk,
        },
    )
    initiative = Initiative.objects.get(name="Claims triage")
    assert response.status_code == 302
    assert response["Location"] == initiative.get_absolute_url()
    assert initiative.gates.count() == 1 and initiative.stage.key == "poc"


def test_create_shows_errors_next_to_fields(client, owner, team):
    client.force_login(owner)
    response = client.post(reverse("initiatives:create"), {"team": team.pk})
    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_name_error"' in content and 'id="id_sponsor_error"' in content
    assert not Initiative.objects.filter(team=team).exists()


@pytest.mark.parametrize("persona", ["viewer", "member", "outsider"])
def test_only_product_managers_and_admins_may_start(client, request, persona, initiative):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("initiatives:create")).status_code == 403
    assert client.post(reverse("initiatives:create"), {"name": "x"}).status_code == 403


def test_owner_edits_the_initiative(client, owner, initiative):
    client.force_login(owner)
    url = reverse("initiatives:edit", args=[initiative.key])
    form = client.get(url)
    assert form.status_code == 200
    assert f'name="version" value="{initiative.version}"' in form.content.decode()
    response = client.post(
        url,
        {
            "name": "Support reply drafting v2",
            "summary": "New summary",
            "problem": initiative.problem,
            "team": initiative.team_id,
            "owner": initiative.owner_id,
            "sponsor": initiative.sponsor_id,
            "version": initiative.version,
        },
    )
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.name == "Support reply drafting v2"


def test_stale_initiative_edit_is_refused(client, owner, initiative):
    client.force_login(owner)
    url = reverse("initiatives:edit", args=[initiative.key])
    response = client.post(
        url,
        {
            "name": "Late edit",
            "team": initiative.team_id,
            "owner": initiative.owner_id,
            "sponsor": initiative.sponsor_id,
            "version": initiative.version - 1 or 999,
        },
    )
    assert response.status_code == 200
    assert "Somebody changed this initiative" in response.content.decode()
    initiative.refresh_from_db()
    assert initiative.name != "Late edit"


def test_edit_is_forbidden_to_readers_and_hidden_from_outsiders(
    client, member, viewer, outsider, initiative
):
    url = reverse("initiatives:edit", args=[initiative.key])
    for user in (member, viewer):
        client.force_login(user)
        assert client.post(url, {"name": "x"}).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_business_case_edit_keeps_a_revision(client, owner, initiative):
    client.force_login(owner)
    url = reverse("initiatives:business-case", args=[initiative.key])
    assert client.get(url).status_code == 200
    data = {field: "" for field in BusinessCase.TRACKED_FIELDS}
    data.update(
        outcome="Halve reply time",
        expected_annual_value="250000",
        investment_to_date="10000",
        planned_team_cost="50000",
        planned_infra_cost="5000",
        cost_per_task_budget="0.02",
        monthly_volume="40000",
        revision="0",
    )
    assert client.post(url, data).status_code == 302
    case = BusinessCase.objects.get(initiative=initiative)
    assert case.expected_annual_value == 250000
    assert case.revisions.count() == 1


def test_a_stale_business_case_save_shows_the_current_figures(client, owner, team_lead, initiative):
    url = reverse("initiatives:business-case", args=[initiative.key])
    data = {field: "" for field in BusinessCase.TRACKED_FIELDS}
    data.update(
        expected_annual_value="100",
        investment_to_date="0",
        planned_team_cost="0",
        planned_infra_cost="0",
        cost_per_task_budget="0",
        monthly_volume="10",
        revision="0",
    )
    client.force_login(team_lead)
    assert client.post(url, {**data, "expected_annual_value": "900"}).status_code == 302
    # The owner's form was rendered before the team lead saved (it says revision 0).
    client.force_login(owner)
    response = client.post(url, data)
    assert response.status_code == 200
    content = response.content.decode()
    assert "while you were editing" in content
    assert 'value="900.00"' in content
    case = BusinessCase.objects.get(initiative=initiative)
    assert case.expected_annual_value == 900
    assert case.revisions.count() == 1


def test_business_case_rejects_negative_amounts_next_to_the_field(client, owner, initiative):
    client.force_login(owner)
    url = reverse("initiatives:business-case", args=[initiative.key])
    data = {"expected_annual_value": "-5", "monthly_volume": "10"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert 'id="id_expected_annual_value_error"' in response.content.decode()


def test_owner_adds_a_target_and_duplicates_are_refused(client, owner, initiative):
    client.force_login(owner)
    url = reverse("initiatives:target-add", args=[initiative.key])
    assert "standard-metrics" in client.get(url).content.decode()
    assert client.post(url, {"metric_key": "accuracy", "threshold": "90"}).status_code == 302
    target = Target.objects.get(initiative=initiative)
    assert (target.comparator, target.unit) == (">=", "%")
    again = client.post(url, {"metric_key": "accuracy", "threshold": "80"})
    assert again.status_code == 200
    assert "alert--error" in again.content.decode() or "field__error" in again.content.decode()
    bad = client.post(url, {"metric_key": "not a slug", "threshold": "x"})
    assert 'id="id_metric_key_error"' in bad.content.decode()
    assert 'id="id_threshold_error"' in bad.content.decode()


def test_target_add_is_forbidden_to_members(client, member, initiative):
    client.force_login(member)
    url = reverse("initiatives:target-add", args=[initiative.key])
    assert client.post(url, {"metric_key": "accuracy", "threshold": "90"}).status_code == 403


def test_member_records_a_measurement(client, member, initiative):
    target = TargetFactory(initiative=initiative, metric_key="accuracy", threshold=80)
    client.force_login(member)
    url = reverse("initiatives:measurement-add", args=[initiative.key, target.pk])
    response = client.post(url, {"value": "85"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.status == Target.Status.MET and target.latest_value == 85
    bad = client.post(url, {"value": "lots"})
    assert bad.status_code == 200 and 'id="id_value_error"' in bad.content.decode()


def test_measurement_in_the_future_is_refused(client, owner, initiative):
    target = TargetFactory(initiative=initiative, metric_key="accuracy", threshold=80)
    client.force_login(owner)
    url = reverse("initiatives:measurement-add", args=[initiative.key, target.pk])
    future = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"value": "85", "measured_at": future})
    assert response.status_code == 200
    assert "in the future" in response.content.decode()


def test_measurement_permissions(client, viewer, outsider, initiative):
    target = TargetFactory(initiative=initiative, metric_key="accuracy", threshold=80)
    url = reverse("initiatives:measurement-add", args=[initiative.key, target.pk])
    client.force_login(viewer)
    assert client.post(url, {"value": "85"}).status_code == 403
    client.force_login(outsider)
    assert client.post(url, {"value": "85"}).status_code == 404


def test_unknown_target_is_404(client, owner, initiative, other_initiative):
    other = TargetFactory(initiative=other_initiative, metric_key="accuracy", threshold=80)
    client.force_login(owner)
    url = reverse("initiatives:measurement-add", args=[initiative.key, other.pk])
    assert client.post(url, {"value": "85"}).status_code == 404


def test_admin_can_start_for_any_team(client, admin_user, executive, owner):
    team = TeamFactory()
    sponsor = UserFactory(groups=["executive"])
    client.force_login(admin_user)
    response = client.post(
        reverse("initiatives:create"),
        {
            "name": "Fraud signals",
            "team": team.pk,
            "owner": owner.pk,
            "sponsor": sponsor.pk,
            "framework": Framework.objects.get(slug="phased-rollout").pk,
        },
    )
    assert response.status_code == 302
    assert Initiative.objects.get(name="Fraud signals").framework.slug == "phased-rollout"


def _put_on_hold(initiative, owner, executive):
    gate = initiative.gates.get()
    gate_request_review(gate=gate, actor=owner)
    gate_vote(gate=gate, actor=executive, decision=Decision.HOLD, rationale="Budget freeze.")


def test_owner_resumes_an_initiative_on_hold(client, owner, executive, initiative):
    _put_on_hold(initiative, owner, executive)
    client.force_login(owner)
    url = reverse("initiatives:resume", args=[initiative.key])
    assert url in client.get(detail(initiative)).content.decode()
    response = client.post(url)
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert initiative.status == Initiative.Status.ACTIVE
    assert initiative.gates.get().state == "open"
    again = client.post(url, follow=True)
    assert "Only an initiative on hold can be resumed." in again.content.decode()


def test_resume_is_forbidden_to_readers(client, owner, executive, member, viewer, initiative):
    _put_on_hold(initiative, owner, executive)
    url = reverse("initiatives:resume", args=[initiative.key])
    for user in (member, viewer, executive):
        client.force_login(user)
        assert url not in client.get(detail(initiative)).content.decode()
        assert client.post(url).status_code == 403
    initiative.refresh_from_db()
    assert initiative.status == Initiative.Status.ON_HOLD


@pytest.mark.parametrize(
    "path", ["/initiatives/%00/", "/initiatives/AI-%0001/brief/", "/initiatives/x/"]
)
def test_malformed_keys_are_404_not_500(client, owner, path):
    client.force_login(owner)
    assert client.get(path).status_code == 404


def test_owner_adds_and_removes_a_person_and_both_are_logged(client, owner, initiative, outsider):
    client.force_login(owner)
    detail = client.get(initiative.get_absolute_url()).content.decode()
    assert reverse("initiatives:member-add", args=[initiative.key]) in detail
    url = reverse("initiatives:member-add", args=[initiative.key])
    data = {"user": outsider.pk, "stage_role": "data_engineer", "allocation_percent": "40"}
    assert client.post(url, data).status_code == 302
    membership = Membership.objects.get(initiative=initiative, user=outsider)
    assert membership.allocation_percent == 40
    # The same person in the same role twice is refused next to the form, not a 500.
    again = client.post(url, data)
    assert again.status_code == 200
    assert "already exists" in again.content.decode()
    remove = reverse("initiatives:member-remove", args=[initiative.key, membership.pk])
    assert client.post(remove).status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    verbs = set(initiative.activities.values_list("verb", flat=True))
    assert {"membership.added", "membership.removed"} <= verbs


def test_allocation_out_of_range_is_shown_next_to_the_field(client, owner, initiative, outsider):
    client.force_login(owner)
    url = reverse("initiatives:member-add", args=[initiative.key])
    data = {"user": outsider.pk, "stage_role": "data_engineer", "allocation_percent": "150"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert 'id="id_allocation_percent_error"' in response.content.decode()


def test_members_see_no_team_controls_and_cannot_remove(client, member, initiative):
    client.force_login(member)
    detail = client.get(initiative.get_absolute_url()).content.decode()
    assert reverse("initiatives:member-add", args=[initiative.key]) not in detail
    membership = initiative.memberships.first()
    remove = reverse("initiatives:member-remove", args=[initiative.key, membership.pk])
    assert client.post(remove).status_code == 403


@pytest.mark.parametrize(
    "values",
    [[1.79e308, -1.79e308], [-1.79e308, 1.79e308, 0.0], [float("inf"), 5.0], [5e-324, 0.0]],
)
def test_the_sparkline_is_drawn_for_any_stored_values(client, owner, initiative, values):
    # Values stored before inputs were bounded put nan coordinates into the line.
    target = TargetFactory(initiative=initiative, metric_key="accuracy", threshold=80)
    start = timezone.now() - datetime.timedelta(days=len(values))
    Measurement.objects.bulk_create(
        Measurement(target=target, value=value, measured_at=start + datetime.timedelta(hours=i))
        for i, value in enumerate(values)
    )
    client.force_login(owner)
    content = client.get(detail(initiative)).content.decode()
    points = re.search(r'<polyline class="sparkline__line" points="([^"]+)"', content).group(1)
    for point in points.split():
        x, y = (float(part) for part in point.split(","))
        assert 0 <= x <= 120 and 0 <= y <= 28, points
    assert "nan" not in points.lower() and "inf" not in points.lower()


def test_show_more_of_a_column_that_is_not_there_is_a_400_not_the_whole_board(
    client, executive, initiative
):
    client.force_login(executive)
    fragment = client.get(BOARD, {"show": "no-such-stage", "page": 2}, **HTMX)
    assert fragment.status_code == 400
    assert "<html" not in fragment.content.decode()
    # Without htmx (an old link) the board shows as usual.
    assert client.get(BOARD, {"show": "no-such-stage" * 50}).status_code == 200


def test_a_billion_percent_is_refused_on_the_page_and_labels_read_as_names(
    client, owner, initiative
):
    target = TargetFactory(initiative=initiative, metric_key="accuracy", threshold=80)
    TargetFactory(initiative=initiative, metric_key="drift_psi", threshold=0.25)
    client.force_login(owner)
    url = reverse("initiatives:measurement-add", args=[initiative.key, target.pk])
    response = client.post(url, {"value": "1e9"})
    assert response.status_code == 200
    assert "between -1000 and 1000" in response.content.decode()
    target.refresh_from_db()
    assert target.latest_value is None and target.status == Target.Status.NO_DATA
    page = client.get(initiative.get_absolute_url()).content.decode()
    assert "1e+09" not in page
    assert "New value of Drift (PSI)" in page and "drift (psi)" not in page


@pytest.mark.parametrize(
    ("url", "query", "label"),
    [
        (BOARD, {"ai_tier": "bogus"}, "AI Act tier"),
        (BOARD, {"status": "nonsense", "team": "nowhere"}, "Team, Status"),
        ("/dashboard/", {"period": "forever"}, "Period"),
    ],
)
def test_a_filter_the_page_does_not_understand_is_said_not_dropped(
    client, executive, initiative, url, query, label
):
    # ?ai_tier=bogus showed the whole board as if nothing had been asked.
    client.force_login(executive)
    response = client.get(url, query)
    assert response.status_code == 200
    assert f"Not understood in the address, so not applied: {label}." in response.content.decode()
    assert "Not understood" not in client.get(url).content.decode()
