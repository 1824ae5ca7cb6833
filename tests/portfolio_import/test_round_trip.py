"""The portfolio export imports into an empty Tollgate with the same board and dashboard."""

from __future__ import annotations

from collections import defaultdict

import pytest

from compliance.models import Classification
from demo.seeding import demo_seed
from gates.models import ChecklistItem
from gates.selectors import board_columns
from initiatives.filters import InitiativeFilters
from initiatives.models import Framework, Initiative, KeyCounter
from portfolio_import.reading import SourceFile
from portfolio_import.services import portfolio_import
from portfolio_import.workbooks import portfolio_workbook
from reports.selectors import DashboardFilters, dashboard

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _board(user, framework) -> list:
    stages = list(framework.stages.order_by("order"))
    figures = []
    for status in Initiative.Status.values:
        columns = board_columns(
            user=user,
            filters=InitiativeFilters(framework=framework, status=status),
            stages=stages,
            page_size=100,
        )
        for column in columns:
            figures.append(
                (
                    status,
                    column.stage.key,
                    column.total,
                    [
                        (
                            card.key,
                            card.gate_state,
                            card.required_cleared,
                            card.required_total,
                            card.targets_met,
                            card.targets_missed,
                            card.targets_no_data,
                            card.overdue_flag,
                            card.stalled_flag,
                            card.gate_due_on,
                            card.stage_entered_on,
                        )
                        for card in column.cards
                    ],
                )
            )
    return figures


def _dashboard(user, framework) -> dict:
    board = dashboard(user, DashboardFilters(framework=framework))
    return {
        "stages": [
            (
                f.stage.key,
                f.total,
                f.active,
                f.on_hold,
                f.stopped,
                f.completed,
                f.stalled,
                f.overdue,
                f.expected_value,
                f.investment,
                f.reached,
                f.entered,
                f.exited,
                None if f.median_days is None else round(f.median_days, 6),
            )
            for f in board.stages
        ],
        "headline": vars(board.headline),
        "poc": (board.poc_to_production.started, board.poc_to_production.reached),
        "months": board.months,
        "purgatory": [(i.key, i.days_overrun) for i in board.purgatory],
        "overdue_owners": board.overdue_owners,
        "team_gaps": board.team_gaps,
        "timeline": [
            (
                row.initiative.key,
                [(s.stage.key, s.start, s.end, s.ongoing) for s in row.spans],
                row.gate_ticks,
            )
            for row in board.timeline.rows
        ],
    }


def _classifications() -> list:
    """Each confirmed classification with its answers and its regulatory items' states."""
    items = defaultdict(list)
    for key, regulation, stage, state in ChecklistItem.objects.exclude(regulation="").values_list(
        "gate__initiative__key", "regulation", "gate__stage__key", "state"
    ):
        items[key].append((regulation, stage, state))
    return [
        (
            c.initiative.key,
            c.tier,
            c.revision.answers,
            c.revision.confirmed_by.username,
            sorted(items[c.initiative.key]),
        )
        for c in Classification.objects.select_related(
            "initiative", "revision__confirmed_by"
        ).order_by("initiative__key")
    ]


def _figures(user) -> dict:
    return {
        framework.slug: {"board": _board(user, framework), "dashboard": _dashboard(user, framework)}
        for framework in Framework.objects.order_by("slug")
    }


def test_export_then_import_into_an_empty_tollgate_gives_the_same_figures(
    django_user_model, django_capture_on_commit_callbacks
):
    demo_seed()
    admin = django_user_model.objects.get(username="admin")
    before = _figures(admin)
    assert before["ai-maturity"]["dashboard"]["headline"]["total"] > 10
    # The confirmed AI Act classifications travel too, and with them their regulatory items.
    classified = _classifications()
    assert classified and any(row[-1] for row in classified)

    workbook = portfolio_workbook(scope=Initiative.objects.all())
    # An empty Tollgate with the same people and teams: no initiative, no key handed out.
    Initiative.objects.all().delete()
    KeyCounter.objects.all().delete()

    # Committed, as in use: figures cached for readers of everything are then recomputed.
    with django_capture_on_commit_callbacks(execute=True):
        report = portfolio_import(files=[SourceFile("portfolio.xlsx", workbook)], actor=admin)

    assert report.applied, [str(problem) for problem in report.problems[:10]]
    after = _figures(admin)
    assert _classifications() == classified
    for slug in before:
        assert after[slug]["dashboard"] == before[slug]["dashboard"], slug
        assert after[slug]["board"] == before[slug]["board"], slug
