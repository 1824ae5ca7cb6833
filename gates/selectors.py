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
from gates.models import ChecklistItem, Gate, GateDecision, Gatekeeper, StageTransition
from initiatives.filters import InitiativeFilters
from initiatives.models import Initiative, Stage


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
        required_cleared=count_of(required.cleared(), "gate__initiative"),
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
    """One column per stage: its total and its first page of cards. Two queries in all."""
    today = today or timezone.localdate()
    base = filters.apply(Initiative.objects.visible_to(user), today)
    totals = dict(
        base.order_by().values("stage").annotate(total=Count("pk")).values_list("stage", "total")
    )
    columns = [
        Column(
            stage=stage,
            total=totals.get(stage.pk, 0),
            next_page=expanded_pages + 1 if stage == expanded_stage else 2,
        )
        for stage in stages
    ]
    if not any(column.total for column in columns):
        return columns
    ranked = with_board_annotations(base, today).annotate(
        position=Window(RowNumber(), partition_by=[F("stage")], order_by=BOARD_ORDER)
    )
    limit = Q(position__lte=page_size)
    if expanded_stage is not None:
        limit |= Q(stage=expanded_stage, position__lte=page_size * expanded_pages)
    cards = ranked.filter(limit).select_related("team", "owner").order_by("stage", "position")
    by_stage = {column.stage.pk: column for column in columns}
    for card in cards:
        column = by_stage.get(card.stage_id)
        if column is not None:
            card.stage = column.stage  # the column's stage: no query for max_weeks
            column.cards.append(card)
    return columns


def column_page(
    *,
    user,
    filters: InitiativeFilters,
    stage: Stage,
    page: int,
    page_size: int,
    today: datetime.date | None = None,
) -> tuple[list[Initiative], bool]:
    """One further page of a column, and whether there is another after it. One query."""
    today = today or timezone.localdate()
    queryset = (
        with_board_annotations(filters.apply(Initiative.objects.visible_to(user), today), today)
        .filter(stage=stage)
        .select_related("team", "owner")
        .order_by(*BOARD_ORDER)
    )
    start = (page - 1) * page_size
    cards = list(queryset[start : start + page_size + 1])
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
