"""Reads that put initiatives and their gates together: the board's cards, the gate part of
the initiative page, and "awaiting my decision". Each is shaped for a constant query count.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from core.db import count_of
from core.versions import portfolio_cached
from gates.models import ChecklistItem, Gate, GateDecision, Gatekeeper, StageTransition
from initiatives.filters import InitiativeFilters
from initiatives.models import Initiative, Stage
from initiatives.policy import sight_key


def with_current_gate(queryset: QuerySet[Initiative]) -> QuerySet[Initiative]:
    """Each initiative with the state of its current stage's gate and that gate's readiness
    (`gate_state`, `required_cleared` of `required_total`)."""
    required = ChecklistItem.objects.filter(
        gate__initiative=OuterRef("pk"), gate__stage=OuterRef("stage"), required=True
    )
    current_gate = Gate.objects.filter(initiative=OuterRef("pk"), stage=OuterRef("stage"))
    return queryset.annotate(
        gate_state=Subquery(current_gate.values("state")[:1]),
        required_total=count_of(required, "gate__initiative"),
        required_cleared=count_of(
            required, "gate__initiative", Q(state__in=ChecklistItem.CLEARED_STATES)
        ),
    )


def with_board_annotations(queryset: QuerySet[Initiative], today: datetime.date):
    """What a board card shows: the current gate, production-bar counts, overdue and stalled."""
    return with_current_gate(queryset.with_target_counts().with_flags(today))


# Overdue first, then stalled, then the longest in stage.
BOARD_ORDER = [F("overdue_flag").desc(), F("stalled_flag").desc(), "stage_entered_on", "key"]


@dataclass
class Column:
    stage: Stage
    total: int = 0
    cards: list[Initiative] = field(default_factory=list)
    next_page: int = 2

    @property
    def has_more(self) -> bool:
        return len(self.cards) < self.total


def board_columns(
    *,
    user,
    filters: InitiativeFilters,
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
    (bench/results/explain/board-*.txt). The result is therefore kept per version of the
    portfolio (moved on whenever a change commits: the activity log, team memberships,
    roles) and per day, for each sight of the portfolio: readers of everything share one,
    everyone else has their own. A product manager's part grows with the portfolio
    (3,112 initiatives of 10,000, 15,404 of 50,000 in the harness), so ranking it live
    made their board 1.7 times slower at 50,000 than at 10,000.
    """
    scope = ("board", sight_key(user), today, filters.cache_key(), page_size, expanded)
    return portfolio_cached(
        scope, lambda: _rank_board(user, filters, today, page_size, expanded), BOARD_CACHE_SECONDS
    )


def _rank_board(user, filters, today, page_size, expanded) -> tuple[dict, list[int]]:
    base = filters.apply(Initiative.objects.visible_to(user), today)
    totals = dict(
        base.order_by().values("stage").annotate(total=Count("pk")).values_list("stage", "total")
    )
    if not any(totals.values()):
        return totals, []
    expanded_stage, expanded_pages = expanded
    ranked = base.with_flags(today).annotate(
        position=Window(RowNumber(), partition_by=[F("stage")], order_by=BOARD_ORDER)
    )
    limit = Q(position__lte=page_size)
    if expanded_stage is not None:
        limit |= Q(stage=expanded_stage, position__lte=page_size * expanded_pages)
    rows = ranked.filter(limit).values_list("pk", "stage", "position")
    return totals, [pk for pk, _, _ in sorted(rows, key=lambda row: (row[1], row[2]))]


def _board_position(card: Initiative) -> tuple:
    """BOARD_ORDER in Python, for cards fetched by id."""
    return (-card.overdue_flag, -card.stalled_flag, card.stage_entered_on, card.key)


def column_page(
    *,
    user,
    filters: InitiativeFilters,
    stage: Stage,
    page: int,
    page_size: int,
    today: datetime.date | None = None,
) -> tuple[list[Initiative], bool]:
    """One further page of a column, and whether there is another after it. One query: the
    page's ids by the board's order (a subquery), the figures for those cards only."""
    today = today or timezone.localdate()
    ordered = (
        filters.apply(Initiative.objects.visible_to(user), today)
        .with_flags(today)
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


def current_gate(initiative: Initiative) -> Gate | None:
    """The gate of the current stage, with items, gatekeepers and readiness counts."""
    gate = (
        Gate.objects.filter(initiative=initiative, stage_id=initiative.stage_id)
        .select_related("decided_by", "review_requested_by", "stage")
        .prefetch_related(
            Prefetch("items", queryset=ChecklistItem.objects.select_related("updated_by")),
            Prefetch("gatekeepers", queryset=Gatekeeper.objects.select_related("user")),
        )
        .first()
    )
    if gate is not None:
        gate.initiative = initiative  # the page's initiative: no second read of it
    return gate


def stage_timeline(initiative: Initiative) -> list[StageTransition]:
    """The initiative's stage entries, oldest first, with both stages and who decided."""
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


def gates_awaiting(user) -> QuerySet[Gate]:
    """Gates in review waiting for this user's vote, with readiness, oldest request first."""
    return (
        Gate.objects.awaiting_vote_from(user)
        .with_readiness()
        .select_related("initiative__team", "initiative__owner", "stage")
        .order_by("review_requested_at", "pk")
    )
