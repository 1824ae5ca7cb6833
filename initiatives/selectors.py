"""Read paths of the portfolio board and the initiative page, shaped for a constant query count.

The board and the initiative page compose initiatives with their gates, so this
module reads `gates.models` (the page is where the two apps meet).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from gates.models import ChecklistItem, Gate, GateDecision, StageTransition
from initiatives.models import Activity, Framework, Initiative, Measurement, Stage, Target
from initiatives.policy import reads_everything

SPARKLINE_POINTS = 12
ACTIVITY_PAGE_SIZE = 15
BOARD_STATUSES = [choice for choice in Initiative.Status]


def count_of(queryset: QuerySet, group_field: str, only: Q | None = None) -> Coalesce:
    """A correlated COUNT subquery, 0 when nothing matches; `only` narrows what is counted.

    `only` goes into the aggregate's FILTER, not the WHERE clause: the subquery is then
    always found through the correlation's own index. As a WHERE condition, a database
    without statistics yet took `state IN (done, not_applicable)` for selective and read
    every checklist item through the (target, state) index, once per card: 73 s for 80
    cards at 50,000 initiatives; now 8.6 ms (bench/results/explain/board-*_nostats.txt).
    """
    counted = (
        queryset.order_by()
        .values(group_field)
        .annotate(total=Count("pk", filter=only))
        .values("total")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_board_flags(queryset: QuerySet[Initiative], today: datetime.date):
    """The overdue and stalled flags the board orders by: the initiative's own columns only."""
    active = Q(status=Initiative.Status.ACTIVE)
    return queryset.annotate(
        overdue_flag=Case(
            When(active & Q(gate_due_on__lt=today), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
        stalled_flag=Case(
            When(active & Q(stalls_on__lt=today), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
    )


def with_board_annotations(queryset: QuerySet[Initiative], today: datetime.date):
    """State and readiness of the current gate, production-bar counts, overdue/stalled flags."""
    current_items = ChecklistItem.objects.filter(
        gate__initiative=OuterRef("pk"), gate__stage=OuterRef("stage"), required=True
    )
    targets = Target.objects.filter(initiative=OuterRef("pk"))
    current_gate = Gate.objects.filter(initiative=OuterRef("pk"), stage=OuterRef("stage"))
    return with_board_flags(queryset, today).annotate(
        gate_state=Subquery(current_gate.values("state")[:1]),
        required_total=count_of(current_items, "gate__initiative"),
        required_cleared=count_of(
            current_items, "gate__initiative", Q(state__in=["done", "not_applicable"])
        ),
        targets_met=count_of(targets, "initiative", Q(status=Target.Status.MET)),
        targets_missed=count_of(targets, "initiative", Q(status=Target.Status.MISSED)),
        targets_no_data=count_of(targets, "initiative", Q(status=Target.Status.NO_DATA)),
    )


# Overdue first, then stalled, then the longest in stage.
BOARD_ORDER = [F("overdue_flag").desc(), F("stalled_flag").desc(), "stage_entered_on", "key"]


def _board_position(card: Initiative) -> tuple:
    """BOARD_ORDER in Python, for cards fetched by id."""
    return (-card.overdue_flag, -card.stalled_flag, card.stage_entered_on, card.key)


@dataclass
class BoardFilters:
    framework: Framework | None = None
    team: str = ""
    owner: str = ""
    status: str = Initiative.Status.ACTIVE
    query: str = ""
    overdue: bool = False
    stalled: bool = False

    def apply(self, queryset: QuerySet[Initiative], today: datetime.date):
        if self.framework is not None:
            queryset = queryset.filter(framework=self.framework)
        if self.team:
            queryset = queryset.filter(team__slug=self.team)
        if self.owner:
            queryset = queryset.filter(owner__username=self.owner)
        if self.status:
            queryset = queryset.filter(status=self.status)
        if self.query:
            queryset = queryset.filter(Q(key__icontains=self.query) | Q(name__icontains=self.query))
        if self.overdue:
            queryset = queryset.overdue(today)
        if self.stalled:
            queryset = queryset.stalled(today)
        return queryset

    @property
    def is_narrowed(self) -> bool:
        """True when anything beyond the default (framework, active) narrows the board."""
        return bool(
            self.team
            or self.owner
            or self.query
            or self.overdue
            or self.stalled
            or self.status != Initiative.Status.ACTIVE
        )


@dataclass
class Column:
    stage: Stage
    total: int = 0
    cards: list[Initiative] = field(default_factory=list)
    next_page: int = 2

    @property
    def has_more(self) -> bool:
        return len(self.cards) < self.total


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


def board_teams(user) -> QuerySet:
    from teams.models import Team

    return _having_visible_initiatives(Team.objects.all(), user, "team").order_by("name")


def board_owners(user) -> QuerySet:
    from django.contrib.auth import get_user_model

    people = get_user_model().objects.all()
    return _having_visible_initiatives(people, user, "owner").order_by(
        "first_name", "last_name", "username"
    )


def board_columns(
    *,
    user,
    filters: BoardFilters,
    stages: list[Stage],
    page_size: int,
    expanded_stage: Stage | None = None,
    expanded_pages: int = 1,
    today: datetime.date | None = None,
) -> list[Column]:
    """One column per stage: its total and its first page of cards.

    The cards are chosen first, by a ranking over the initiatives' own columns only
    (_board_ranking); the per-card figures (readiness, production bar) are then computed
    for those cards alone. Computing them inside the ranking made PostgreSQL cost (and
    JIT compile) five subqueries for every initiative of the framework, although only
    the shown cards ever ran them (bench/results/explain/board-default-*.txt).
    """
    today = today or timezone.localdate()
    expanded = (expanded_stage.pk if expanded_stage else None, expanded_pages)
    totals, shown = _board_ranking(user, filters, today, page_size, expanded)
    columns = [
        Column(
            stage=stage,
            total=totals.get(stage.pk, 0),
            next_page=expanded_pages + 1 if stage == expanded_stage else 2,
        )
        for stage in stages
    ]
    if not shown:
        return columns
    position = {pk: index for index, pk in enumerate(shown)}
    cards = with_board_annotations(
        Initiative.objects.filter(pk__in=shown).order_by(), today
    ).select_related("team", "owner")
    by_stage = {column.stage.pk: column for column in columns}
    for card in sorted(cards, key=lambda card: position[card.pk]):
        column = by_stage.get(card.stage_id)
        if column is not None:
            card.stage = column.stage  # the column's stage: no query for max_weeks
            column.cards.append(card)
    return columns


# A safety net only: every change to the portfolio invalidates the ranking at once.
BOARD_CACHE_SECONDS = 15 * 60


def _board_ranking(user, filters, today, page_size, expanded) -> tuple[dict, list[int]]:
    """Each column's total and the ids of its shown cards, in board order.

    Both read every initiative that passes the filters: the order puts overdue cards
    first, and "overdue" depends on today, so no index can hand out the top of a column
    (bench/results/explain/board-*.txt). For readers of everything the result is kept per
    version of the portfolio (bumped whenever a change commits, through the activity log)
    and per day, so between changes a board costs the shown cards only. Others see a part
    of the portfolio small enough to rank live.
    """
    if not reads_everything(user):
        return _rank_board(user, filters, today, page_size, expanded)
    from initiatives.activity import portfolio_version

    framework = filters.framework.pk if filters.framework else ""
    key = "board:" + ":".join(
        str(part)
        for part in (
            portfolio_version(),
            today,
            framework,
            filters.team,
            filters.owner,
            filters.status,
            filters.query,
            filters.overdue,
            filters.stalled,
            page_size,
            *expanded,
        )
    )
    cached = cache.get(key)
    if cached is None:
        cached = _rank_board(user, filters, today, page_size, expanded)
        cache.set(key, cached, BOARD_CACHE_SECONDS)
    return cached


def _rank_board(user, filters, today, page_size, expanded) -> tuple[dict, list[int]]:
    base = filters.apply(Initiative.objects.visible_to(user), today)
    totals = dict(
        base.order_by().values("stage").annotate(total=Count("pk")).values_list("stage", "total")
    )
    if not any(totals.values()):
        return totals, []
    expanded_stage, expanded_pages = expanded
    ranked = with_board_flags(base, today).annotate(
        position=Window(RowNumber(), partition_by=[F("stage")], order_by=BOARD_ORDER)
    )
    limit = Q(position__lte=page_size)
    if expanded_stage is not None:
        limit |= Q(stage=expanded_stage, position__lte=page_size * expanded_pages)
    rows = ranked.filter(limit).values_list("pk", "stage", "position")
    return totals, [pk for pk, _, _ in sorted(rows, key=lambda row: (row[1], row[2]))]


def column_page(
    *,
    user,
    filters: BoardFilters,
    stage: Stage,
    page: int,
    page_size: int,
    today: datetime.date | None = None,
) -> tuple[list[Initiative], bool]:
    """One further page of a column, and whether there is another after it. One query: the
    page's ids by the board's order (a subquery), the figures for those cards only."""
    today = today or timezone.localdate()
    ordered = (
        with_board_flags(filters.apply(Initiative.objects.visible_to(user), today), today)
        .filter(stage=stage)
        .order_by(*BOARD_ORDER)
    )
    start = (page - 1) * page_size
    ids = ordered.values("pk")[start : start + page_size + 1]
    cards = sorted(
        with_board_annotations(Initiative.objects.filter(pk__in=ids), today).select_related(
            "team", "owner"
        ),
        key=_board_position,
    )
    for card in cards:
        card.stage = stage
    return cards[:page_size], len(cards) > page_size


# --- The initiative page ----------------------------------------------------------------


def initiative_for_page(user, key: str) -> Initiative | None:
    """The initiative with everything the page shows alongside it, or None when not visible."""
    return (
        Initiative.objects.visible_to(user)
        .select_related(
            "team", "owner", "sponsor", "framework", "stage__framework", "business_case"
        )
        .prefetch_related("tags", "memberships__user")
        .filter(key=key)
        .first()
    )


def current_gate(initiative: Initiative) -> Gate | None:
    """The gate of the current stage, with items, gatekeepers and readiness counts."""
    return (
        Gate.objects.filter(initiative=initiative, stage_id=initiative.stage_id)
        .select_related("decided_by", "review_requested_by", "stage")
        .prefetch_related("items__updated_by", "gatekeepers__user")
        .first()
    )


def stage_timeline(initiative: Initiative) -> list[StageTransition]:
    return list(
        StageTransition.objects.filter(initiative=initiative)
        .select_related("from_stage", "to_stage", "decided_by")
        .order_by("transitioned_at", "pk")
    )


def gate_decisions(initiative: Initiative) -> list[GateDecision]:
    """Every decision ever taken on the initiative's gates, newest first."""
    return list(
        GateDecision.objects.filter(gate__initiative=initiative)
        .select_related("gate__stage", "decided_by")
        .order_by("-decided_at", "-pk")
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
        .select_related("actor")
        .order_by("-created_at", "-id")[start : start + page_size + 1]
    )
    return rows[:page_size], len(rows) > page_size


def gates_awaiting(user) -> QuerySet[Gate]:
    """Gates in review waiting for this user's vote, with readiness, oldest request first."""
    return (
        Gate.objects.awaiting_vote_from(user)
        .with_readiness()
        .select_related("initiative__team", "initiative__owner", "stage")
        .order_by("review_requested_at", "pk")
    )
