"""Reads for the teams and people pages: every list goes through what the viewer may see."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from initiatives.models import Initiative, Membership
from initiatives.policy import reads_everything
from teams.models import Team, TeamMembership

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

    The same rule as the teams API, so a team page never shows what the API hides.
    """
    if not user.is_authenticated or not user.is_active:
        return Team.objects.none()
    if reads_everything(user):
        return Team.objects.all()
    return Team.objects.filter(
        Q(pk__in=TeamMembership.objects.filter(user=user).values("team_id"))
        | Q(pk__in=Initiative.objects.visible_to(user).values("team_id"))
    )


def team_list(user) -> QuerySet[Team]:
    return (
        teams_visible_to(user)
        .annotate(
            member_count=Count("memberships", distinct=True),
            lead_count=Count(
                "memberships", filter=Q(memberships__role=TeamMembership.Role.LEAD), distinct=True
            ),
        )
        .order_by("name")
    )


def team_for_page(user, slug: str) -> Team | None:
    return teams_visible_to(user).filter(slug=slug).first()


def team_members(team: Team) -> list[TeamMembership]:
    """Leads first, then by name."""
    return list(
        team.memberships.select_related("user").order_by(
            "role", "user__first_name", "user__last_name", "user__username"
        )
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
    portfolio next changes (a membership or a status change writes the activity log,
    which bumps the version); others see a part small enough to sum live.
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
        from initiatives.activity import portfolio_version

        key = f"people:{portfolio_version()}:{int(over_only)}:{number}"
        found = cache.get(key)
        if found is None:
            found = compute()
            cache.set(key, found, PEOPLE_CACHE_SECONDS)
    else:
        found = compute()
    page_number, count, rows = found
    # The count is known: a paginator over a range of that length asks no database.
    return Page(rows, page_number, Paginator(range(count), PEOPLE_PAGE_SIZE))
