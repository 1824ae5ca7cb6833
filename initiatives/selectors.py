"""Reads of initiatives, shaped for a constant query count: the board's filters and frameworks,
the initiative page's own parts (targets, activity), and the initiatives and allocations that
the teams and people pages show.

What puts initiatives and their gates together (board cards, the gate part of the page) is
in `gates.selectors`: gates know initiatives, not the reverse.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum

from core.versions import portfolio_cached
from initiatives.models import Activity, Framework, Initiative, Measurement, Membership, Target
from initiatives.policy import sight_key
from teams.models import Team, TeamMembership
from teams.policy import reads_everything

SPARKLINE_POINTS = 12
ACTIVITY_PAGE_SIZE = 15


def _having_visible_initiatives(queryset: QuerySet, user, field: str) -> QuerySet:
    """Rows of a small table (frameworks, teams, people) that some visible initiative uses.

    One EXISTS probe per row of the small table, answered by the index on the
    initiative's foreign key: the cost follows the small table, not the portfolio.
    Someone who reads everything gets no visibility condition at all; spelling that as
    `id IN (SELECT id FROM initiatives)` made PostgreSQL plan a join over the whole
    portfolio, quadratic when the table had no statistics yet.
    """
    initiatives = Initiative.objects.visible_to(user).filter(**{field: OuterRef("pk")})
    return queryset.filter(Exists(initiatives))


def board_frameworks(user) -> list[Framework]:
    """Frameworks that have initiatives the user can see (for the switcher), default first."""
    return list(_having_visible_initiatives(Framework.objects.all(), user, "framework"))


def board_teams(user) -> QuerySet[Team]:
    """Teams with initiatives the user can see, for the board's filter."""
    return _having_visible_initiatives(Team.objects.all(), user, "team").order_by("name")


def board_owners(user) -> QuerySet:
    """People who own initiatives the user can see, for the board's filter."""
    people = get_user_model().objects.all()
    return _having_visible_initiatives(people, user, "owner").order_by(
        "first_name", "last_name", "username"
    )


# A safety net only: every change to the portfolio moves the version on.
BOARD_CHOICES_SECONDS = 15 * 60


def board_choices(user) -> tuple[list[Framework], list[Team], list]:
    """The board's filter choices: frameworks, teams and owners of the initiatives the
    user can see, kept per portfolio version and sight of the portfolio (`sight_key`).

    Each is one query over a small table, but its EXISTS probe reads the initiatives a
    product manager can see, which grow with the portfolio: 5 ms for the three at
    10,000 initiatives, 18 ms at 50,000, the one part of a kept board still live.
    Team and framework edits move the version on (`teams.apps`, `initiatives.apps`).
    """
    return portfolio_cached(
        f"board-choices:{sight_key(user)}",
        lambda: (board_frameworks(user), list(board_teams(user)), list(board_owners(user))),
        BOARD_CHOICES_SECONDS,
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
    """Targets with `.series`: their last `points` measurements, oldest first. Two queries.

    A feed can hold hundreds of thousands of readings per target. Ranking them all with
    a window function read every one; instead each target first finds, through the
    (target, -measured_at) index, the time of its `points`-th newest reading, and the
    second query reads only the readings from that time on: an index range per target,
    so the cost follows the points shown, not the length of the series.
    """
    nth_newest = (
        Measurement.objects.filter(target=OuterRef("pk"))
        .order_by("-measured_at", "-pk")
        .values("measured_at")[points - 1 : points]
    )
    targets = list(
        Target.objects.filter(initiative=initiative)
        .annotate(series_from=Subquery(nth_newest))
        .order_by("category", "metric_key")
    )
    if not targets:
        return targets
    ranges = Q()
    for target in targets:
        if target.series_from is None:  # fewer readings than points: all of them
            ranges |= Q(target_id=target.pk)
        else:
            ranges |= Q(target_id=target.pk, measured_at__gte=target.series_from)
    series: dict[int, list] = {}
    if ranges:
        rows = (
            Measurement.objects.filter(ranges)
            .order_by("target_id", "-measured_at", "-pk")
            .values_list("target_id", "value", "measured_at")
        )
        for target_id, value, measured_at in rows:
            points_of_target = series.setdefault(target_id, [])
            if len(points_of_target) < points:  # readings tied at the cut-off time
                points_of_target.append((measured_at, value))
    for target in targets:
        target.series = sorted(series.get(target.pk, []))
    return targets


def activity_page(initiative: Initiative, page: int, page_size: int = ACTIVITY_PAGE_SIZE):
    """One page of the initiative's activity, newest first, and whether older entries exist."""
    start = (max(page, 1) - 1) * page_size
    rows = list(
        Activity.objects.filter(initiative=initiative)
        .with_withdrawn()
        .select_related("actor")
        .order_by("-created_at", "-id")[start : start + page_size + 1]
    )
    return rows[:page_size], len(rows) > page_size


# --- Teams and people pages -----------------------------------------------------------------

# Allocations count while the work goes on: stopped and completed initiatives free people.
ALLOCATING_STATUSES = [Initiative.Status.ACTIVE, Initiative.Status.ON_HOLD]
FULL_ALLOCATION = 100
PEOPLE_PAGE_SIZE = 25
# A safety net only: every change to the portfolio invalidates the page at once.
PEOPLE_CACHE_SECONDS = 15 * 60
# Allocations listed per person; the rest is a count. Someone on thousands of
# initiatives would otherwise make one row of the page load thousands of rows.
ALLOCATIONS_SHOWN = 8


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

    Each person carries `allocations`, their largest ALLOCATIONS_SHOWN memberships, and
    `allocation_count`, how many there are, so a page of people costs three queries
    (count, page, allocations) and reads a bounded number of memberships per person.
    """
    memberships = allocating_memberships(viewer)
    people = (
        get_user_model()
        .objects.filter(pk__in=memberships.values("user_id"))
        .annotate(
            total_allocation=Sum(
                "initiative_memberships__allocation_percent",
                filter=Q(initiative_memberships__in=memberships.values("pk")),
            ),
            allocation_count=Count(
                "initiative_memberships",
                filter=Q(initiative_memberships__in=memberships.values("pk")),
            ),
        )
        .prefetch_related(
            Prefetch(
                "initiative_memberships",
                queryset=memberships.select_related("initiative").order_by(
                    "-allocation_percent", "initiative__key"
                )[:ALLOCATIONS_SHOWN],
                to_attr="allocations",
            )
        )
        .order_by("-total_allocation", "first_name", "last_name", "username")
    )
    if over_only:
        people = people.filter(total_allocation__gt=FULL_ALLOCATION)
    return people


def people_page(viewer, *, over_only: bool, number) -> Page:
    """One page of people_allocations, kept per portfolio version for readers of everything.

    Ordering people by their total allocation sums every membership of every active
    initiative (150,000 at 50,000 initiatives): the cost grows with the portfolio however
    the query is written. Readers of everything share one copy per page until the
    portfolio next changes (`core.versions`); others see a part and get it live.
    """

    def compute() -> tuple[int, int, list]:
        paginator = Paginator(people_allocations(viewer, over_only=over_only), PEOPLE_PAGE_SIZE)
        page = paginator.get_page(number)
        return page.number, paginator.count, list(page.object_list)

    try:
        number = min(max(int(number), 1), 100_000)
    except (TypeError, ValueError):
        number = 1
    if reads_everything(viewer):
        key = f"people:{int(over_only)}:{number}"
        page_number, count, rows = portfolio_cached(key, compute, PEOPLE_CACHE_SECONDS)
    else:
        page_number, count, rows = compute()
    # The count is known: a paginator over a range of that length asks no database.
    return Page(rows, page_number, Paginator(range(count), PEOPLE_PAGE_SIZE))
