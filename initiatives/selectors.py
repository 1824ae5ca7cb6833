"""Reads of initiatives, shaped for a constant query count: the board's filters and frameworks,
the initiative page's own parts (targets, activity), and the initiatives and allocations that
the teams and people pages show.

What puts initiatives and their gates together (board cards, the gate part of the page) is
in `gates.selectors`: gates know initiatives, not the reverse.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber

from initiatives.models import Activity, Framework, Initiative, Measurement, Membership, Target
from teams.models import Team, TeamMembership
from teams.policy import reads_everything

SPARKLINE_POINTS = 12
ACTIVITY_PAGE_SIZE = 15


def board_frameworks(user) -> list[Framework]:
    """Frameworks that have initiatives the user can see (for the switcher), default first."""
    visible = Initiative.objects.visible_to(user)
    return list(
        Framework.objects.annotate(
            initiative_count=Count("initiatives", filter=Q(initiatives__in=visible))
        ).filter(initiative_count__gt=0)
    )


# --- The initiative page ----------------------------------------------------------------


def initiatives_for_page() -> QuerySet[Initiative]:
    """Initiatives with everything the initiative page shows alongside them.

    Who may see one is the policy's answer: fetch through `initiatives.policy.get_for_user`.
    The memberships are prefetched, so the policy reads them from here.
    """
    return Initiative.objects.select_related(
        "team", "owner", "sponsor", "framework", "stage__framework", "business_case"
    ).prefetch_related(
        "tags", Prefetch("memberships", queryset=Membership.objects.select_related("user"))
    )


def targets_with_series(initiative: Initiative, points: int = SPARKLINE_POINTS) -> list[Target]:
    """Targets with `.series`: their last `points` measurements, oldest first. Two queries."""
    targets = list(Target.objects.filter(initiative=initiative).order_by("category", "metric_key"))
    ranked = (
        Measurement.objects.filter(target__initiative=initiative)
        .annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("target")],
                order_by=[F("measured_at").desc(), F("pk").desc()],
            )
        )
        .filter(position__lte=points)
        .values_list("target_id", "value", "measured_at")
    )
    series: dict[int, list] = {}
    for target_id, value, measured_at in ranked:
        series.setdefault(target_id, []).append((measured_at, value))
    for target in targets:
        target.series = sorted(series.get(target.pk, []))
    return targets


def activity_page(initiative: Initiative, page: int, page_size: int = ACTIVITY_PAGE_SIZE):
    """One page of the initiative's activity, newest first, and whether older entries exist."""
    start = (max(page, 1) - 1) * page_size
    rows = list(
        Activity.objects.filter(initiative=initiative)
        .select_related("actor")
        .order_by("-created_at", "-id")[start : start + page_size + 1]
    )
    return rows[:page_size], len(rows) > page_size


# --- Teams and people pages -----------------------------------------------------------------

# Allocations count while the work goes on: stopped and completed initiatives free people.
ALLOCATING_STATUSES = [Initiative.Status.ACTIVE, Initiative.Status.ON_HOLD]
FULL_ALLOCATION = 100


def teams_visible_to(user) -> QuerySet[Team]:
    """Teams the user belongs to or whose initiatives they can read (all for readers-of-all).

    The teams pages and the teams API both list these, so a page never shows what the API
    hides.
    """
    if not user.is_authenticated or not user.is_active:
        return Team.objects.none()
    if reads_everything(user):
        return Team.objects.all()
    return Team.objects.filter(
        Q(pk__in=TeamMembership.objects.filter(user=user).values("team_id"))
        | Q(pk__in=Initiative.objects.visible_to(user).values("team_id"))
    )


def team_initiatives(user, team: Team) -> list[Initiative]:
    """The team's initiatives that the user may read, with stage and status."""
    return list(
        Initiative.objects.visible_to(user)
        .filter(team=team)
        .select_related("stage", "owner")
        .order_by("key")
    )


def allocating_memberships(viewer) -> QuerySet[Membership]:
    """Memberships of active and on-hold initiatives the viewer may read."""
    return Membership.objects.filter(
        initiative__in=Initiative.objects.visible_to(viewer)
        .filter(status__in=ALLOCATING_STATUSES)
        .values("pk")
    )


def people_allocations(viewer, *, over_only: bool = False) -> QuerySet:
    """People with allocations the viewer can see, each with `total_allocation` summed in SQL.

    Each person carries `allocations`, the memberships behind the total, so a page of
    people costs three queries (count, page, allocations) whatever its size.
    """
    memberships = allocating_memberships(viewer)
    people = (
        get_user_model()
        .objects.filter(pk__in=memberships.values("user_id"))
        .annotate(
            total_allocation=Sum(
                "initiative_memberships__allocation_percent",
                filter=Q(initiative_memberships__in=memberships.values("pk")),
            )
        )
        .prefetch_related(
            Prefetch(
                "initiative_memberships",
                queryset=memberships.select_related("initiative").order_by(
                    "-allocation_percent", "initiative__key"
                ),
                to_attr="allocations",
            )
        )
        .order_by("-total_allocation", "first_name", "last_name", "username")
    )
    if over_only:
        people = people.filter(total_allocation__gt=FULL_ALLOCATION)
    return people
