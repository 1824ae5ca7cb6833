"""Every dashboard figure on the hand-built portfolio of conftest.py, against hand-worked values."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from initiatives.models import Framework
from reports import selectors
from reports.selectors import DashboardFilters

pytestmark = pytest.mark.django_db

STAGES = ["poc", "mvp", "production", "scale"]


def board_for(user, today, **filters):
    return selectors.dashboard(
        user, DashboardFilters(framework=Framework.default(), today=today, **filters)
    )


def by_stage(board, attribute):
    return {figure.stage.key: getattr(figure, attribute) for figure in board.stages}


def test_headline_figures(portfolio, admin_user, today):
    headline = board_for(admin_user, today).headline
    assert headline.total == 6
    assert headline.by_status == {"active": 5, "on_hold": 0, "stopped": 1, "completed": 0}
    # A1 in Production and A3 in Scale.
    assert headline.live == 2
    # A2's PoC gate was due 2026-03-30, B2's MVP gate 2026-04-20.
    assert headline.overdue == 2
    # A2 stalled since 30 Mar (PoC max 8 weeks), B2 since 20 Apr (MVP max 16 weeks).
    assert headline.stalled == 2
    assert headline.purgatory == 2
    # Targets of active initiatives: A1 met + missed, A2 no data, B1 met. A4 is stopped.
    assert (headline.targets_met, headline.targets_missed, headline.targets_no_data) == (2, 1, 1)
    assert headline.targets_total == 4
    assert headline.targets_met_share == 0.5
    # Not stopped: 500k + 100k + 2M + 300k + 0; invested 160k (A1) + 400k (A3).
    assert headline.expected_value == Decimal("2900000")
    assert headline.investment == Decimal("560000")


def test_initiatives_by_stage_and_status(portfolio, admin_user, today):
    board = board_for(admin_user, today)
    assert by_stage(board, "total") == {"poc": 2, "mvp": 2, "production": 1, "scale": 1}
    assert by_stage(board, "active") == {"poc": 1, "mvp": 2, "production": 1, "scale": 1}
    assert by_stage(board, "stopped") == {"poc": 1, "mvp": 0, "production": 0, "scale": 0}
    assert by_stage(board, "stalled") == {"poc": 1, "mvp": 1, "production": 0, "scale": 0}
    assert by_stage(board, "overdue") == {"poc": 1, "mvp": 1, "production": 0, "scale": 0}


def test_funnel_counts_initiatives_that_reached_each_stage(portfolio, admin_user, today):
    board = board_for(admin_user, today)
    assert by_stage(board, "reached") == {"poc": 6, "mvp": 4, "production": 2, "scale": 1}


def test_poc_to_production_beside_the_industry_figure(portfolio, admin_user, today):
    rate = board_for(admin_user, today).poc_to_production
    assert (rate.reached, rate.started) == (2, 6)
    assert rate.rate == pytest.approx(1 / 3)
    assert rate.industry_rate == pytest.approx(4 / 33)


def test_conversion_from_the_stage_history(portfolio, admin_user, today):
    board = board_for(admin_user, today)
    # PoC: 6 entries, 4 moved on (A1, A3, B1, B2). MVP: 4 entries, 2 moved on (A1, A3).
    # Production: A1 and A3 entered, A3 moved on. Scale: A3 only, nowhere to go.
    assert by_stage(board, "entered") == {"poc": 6, "mvp": 4, "production": 2, "scale": 1}
    assert by_stage(board, "exited") == {"poc": 4, "mvp": 2, "production": 1, "scale": 0}
    assert by_stage(board, "conversion") == {
        "poc": pytest.approx(4 / 6),
        "mvp": 0.5,
        "production": 0.5,
        "scale": 0.0,
    }


def test_median_days_in_stage_against_the_expected_range(portfolio, admin_user, today):
    board = board_for(admin_user, today)
    # Completed PoC stays: A1 42, A3 42, B1 42, B2 56 days -> median 42.
    # MVP: A1 84, A3 112 -> 98. Production: A3 56. Scale: none completed.
    medians = by_stage(board, "median_days")
    assert medians["poc"] == pytest.approx(42)
    assert medians["mvp"] == pytest.approx(98)
    assert medians["production"] == pytest.approx(56)
    assert medians["scale"] is None
    # PoC 4-8 weeks is 28-56 days: 42 is within; MVP 56-112: 98 within.
    assert by_stage(board, "median_verdict") == {
        "poc": "within",
        "mvp": "within",
        "production": "within",
        "scale": "",
    }


def test_pilot_purgatory_lists_the_longest_stuck_first(portfolio, admin_user, today):
    purgatory = board_for(admin_user, today).purgatory
    # B2 in MVP since 29 Dec (168 days), A2 in PoC since 2 Feb (133 days).
    assert [i.key for i in purgatory] == [portfolio.b2.key, portfolio.a2.key]
    assert [i.days_in_stage for i in purgatory] == [168, 133]
    # Past the maximum by: B2 since 20 Apr (56 days), A2 since 30 Mar (77 days).
    assert [i.days_overrun for i in purgatory] == [56, 77]


def test_overdue_gates_by_owner(portfolio, admin_user, today, owner, other_pm):
    rows = board_for(admin_user, today).overdue_owners
    assert [(r["owner__username"], r["overdue"], r["oldest_due"]) for r in rows] == [
        (owner.username, 1, datetime.date(2026, 3, 30)),
        (other_pm.username, 1, datetime.date(2026, 4, 20)),
    ]


def test_teams_with_composition_gaps(portfolio, admin_user, today, team, other_team):
    rows = board_for(admin_user, today).team_gaps
    # Team A: A1 (Production+Scale roles), A2 (lacks software engineer, UX designer) and
    # A3 (Scale) all have gaps. Team B: B1 is fully staffed, B2 has nobody.
    assert [(r["team__name"], r["with_gap"], r["active"]) for r in rows] == [
        (team.name, 3, 3),
        (other_team.name, 1, 2),
    ]
    assert dict(rows[0]["missing"]) == {
        "ML engineer": 2,
        "Product manager": 2,
        "Software engineer": 3,
        "UX designer": 3,
        "Data engineer": 2,
        "MLOps engineer": 2,
        "Platform engineer": 2,
    }
    assert dict(rows[1]["missing"]) == {
        "ML engineer": 1,
        "Product manager": 1,
        "Software engineer": 1,
        "UX designer": 1,
        "Data engineer": 1,
        "MLOps engineer": 1,
    }


def test_value_and_investment_by_stage(portfolio, admin_user, today):
    board = board_for(admin_user, today)
    # A4 (stopped, 50k) is left out of PoC.
    assert by_stage(board, "expected_value") == {
        "poc": Decimal("100000"),
        "mvp": Decimal("300000"),
        "production": Decimal("500000"),
        "scale": Decimal("2000000"),
    }
    assert by_stage(board, "investment") == {
        "poc": Decimal("0"),
        "mvp": Decimal("0"),
        "production": Decimal("160000"),
        "scale": Decimal("400000"),
    }


def test_transitions_per_month_over_the_last_12_months(portfolio, admin_user, today):
    months = board_for(admin_user, today).months
    assert [m["month"] for m in months][:2] == [
        datetime.date(2025, 7, 1),
        datetime.date(2025, 8, 1),
    ]
    assert months[-1]["month"] == datetime.date(2026, 6, 1)
    counts = {m["month"].strftime("%Y-%m"): (m["started"], m["advanced"]) for m in months}
    assert counts == {
        "2025-07": (0, 0),
        "2025-08": (0, 1),  # A3 to Production
        "2025-09": (0, 1),  # A3 to Scale
        "2025-10": (0, 0),
        "2025-11": (1, 0),  # B2 started
        "2025-12": (0, 1),  # B2 to MVP
        "2026-01": (1, 0),  # A1 started
        "2026-02": (1, 1),  # A2 started, A1 to MVP
        "2026-03": (1, 0),  # B1 started
        "2026-04": (1, 1),  # A4 started, B1 to MVP
        "2026-05": (0, 1),  # A1 to Production
        "2026-06": (0, 0),
    }


def test_timeline_spans_come_from_the_stage_history(portfolio, admin_user, today):
    timeline = board_for(admin_user, today).timeline
    # Most valuable first: A3 2M, A1 500k, B1 300k, A2 100k, A4 50k, B2 0.
    keys = [row.initiative.key for row in timeline.rows]
    p = portfolio
    assert keys == [p.a3.key, p.a1.key, p.b1.key, p.a2.key, p.a4.key, p.b2.key]
    a1 = timeline.rows[1]
    assert [(s.stage.key, s.start, s.end, s.ongoing) for s in a1.spans] == [
        ("poc", datetime.date(2026, 1, 5), datetime.date(2026, 2, 16), False),
        ("mvp", datetime.date(2026, 2, 16), datetime.date(2026, 5, 11), False),
        ("production", datetime.date(2026, 5, 11), today, True),
    ]
    # Gate due dates: PoC 5 Jan + 8 weeks, MVP 16 Feb + 16 weeks, Production 11 May + 8 weeks.
    assert a1.gate_ticks == [
        (datetime.date(2026, 3, 2), False),
        (datetime.date(2026, 6, 8), False),
        (datetime.date(2026, 7, 6), True),
    ]
    # A4 was stopped on 4 May: its PoC span ends there.
    a4 = timeline.rows[4]
    assert [(s.start, s.end, s.ongoing) for s in a4.spans] == [
        (datetime.date(2026, 4, 20), datetime.date(2026, 5, 4), False)
    ]
    assert timeline.start == datetime.date(2025, 3, 3)
    assert timeline.total == 6


def test_period_keeps_initiatives_started_within_it(portfolio, admin_user, today):
    # Since 15 Jun 2025: A3 (started March 2025) drops out.
    board = board_for(admin_user, today, period="12m")
    assert board.headline.total == 5
    assert board.headline.live == 1
    assert by_stage(board, "reached") == {"poc": 5, "mvp": 3, "production": 1, "scale": 0}
    assert (board.poc_to_production.reached, board.poc_to_production.started) == (1, 5)
    assert by_stage(board, "median_days")["mvp"] == pytest.approx(84)
    # Since 17 Mar 2026: only A4.
    assert board_for(admin_user, today, period="90d").headline.total == 1


def test_team_filter(portfolio, admin_user, today, other_team):
    board = board_for(admin_user, today, team=other_team)
    assert board.headline.total == 2
    assert by_stage(board, "total") == {"poc": 0, "mvp": 2, "production": 0, "scale": 0}
    assert by_stage(board, "median_days")["poc"] == pytest.approx(49)  # B1 42, B2 56


def test_readers_see_only_their_part(portfolio, today, outsider, other_pm, executive):
    assert board_for(outsider, today).headline.total == 0
    assert board_for(outsider, today).team_gaps == []
    # other_pm owns B1 and B2 and leads their team.
    part = board_for(other_pm, today)
    assert part.headline.total == 2
    assert [row.initiative.key for row in part.timeline.rows] == [
        portfolio.b1.key,
        portfolio.b2.key,
    ]
    # Executives read the whole portfolio.
    assert board_for(executive, today).headline.total == 6
