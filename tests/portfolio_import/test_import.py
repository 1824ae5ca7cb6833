"""Importing: valid files write through the services, history keeps its times, re-import
is a no-op."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gates.models import ChecklistItem, Gate, GateDecision, StageTransition, Vote
from initiatives.models import (
    Activity,
    Initiative,
    KeyCounter,
    Measurement,
    Membership,
    Target,
)
from portfolio_import.models import ExternalReference
from portfolio_import.services import portfolio_import
from reports.selectors import DashboardFilters, dashboard
from tests.portfolio_import.helpers import csv_file, problems

pytestmark = pytest.mark.django_db


def _at(day: str, hour: int = 9) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(hour))
    )


def _counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (
            Initiative,
            Activity,
            Measurement,
            Membership,
            Target,
            Gate,
            ChecklistItem,
            GateDecision,
            StageTransition,
            Vote,
            ExternalReference,
        )
    }


@pytest.fixture
def history_files(valid_row, member):
    """An initiative with eight months of history: a recycle, a go, readings and ticks."""
    row = {**valid_row, "stage": "", "stage_entered_on": ""}
    history = [
        {
            "initiative": "UC-1",
            "stage": "poc",
            "entered_on": "2026-01-05",
            "decision": "recycle",
            "decided_on": "2026-02-02",
            "rationale": "Accuracy 81%: go round with more data.",
        },
        {"initiative": "UC-1", "stage": "poc", "decision": "go", "decided_on": "2026-03-02 14:30"},
        {"initiative": "UC-1", "stage": "mvp", "decision": "hold", "decided_on": "2026-05-04"},
        {"initiative": "UC-1", "stage": "mvp", "decision": "resume", "decided_on": "2026-06-01"},
    ]
    checklist = [
        {
            "initiative": "UC-1",
            "stage": "poc",
            "item": "Data availability and quality confirmed for production",
            "state": "done",
            "evidence_url": "https://wiki.example.com/data",
            "updated_by": member.username,
            "updated_at": "2026-02-20",
        },
        {
            "initiative": "UC-1",
            "stage": "poc",
            "item": "Evaluation set of 50+ representative tasks scored automatically",
            "state": "not_applicable",
            "na_reason": "Structured output: a hold-out set instead.",
        },
    ]
    measurements = [
        {"initiative": "UC-1", "metric": "accuracy", "value": "81", "measured_at": "2026-01-26"},
        {
            "initiative": "UC-1",
            "metric": "accuracy",
            "value": "91.5",
            "measured_at": "2026-02-23 06:00",
        },
    ]
    members = [
        {
            "initiative": "UC-1",
            "person": member.username,
            "stage_role": "ML engineer",
            "allocation_percent": "40",
        }
    ]
    return [
        csv_file("initiatives.csv", [row]),
        csv_file("history.csv", history),
        csv_file("checklist.csv", checklist),
        csv_file("measurements.csv", measurements),
        csv_file("members.csv", members),
    ]


def test_a_valid_file_imports(valid_row, admin_user, team, owner, executive):
    report = portfolio_import(files=[csv_file("initiatives.csv", [valid_row])], actor=admin_user)

    assert report.ok and report.applied, report.problems
    initiative = Initiative.objects.get(name=valid_row["name"])
    assert (initiative.team, initiative.owner, initiative.sponsor) == (team, owner, executive)
    assert initiative.stage.key == "mvp"
    assert initiative.stage_entered_on == datetime.date(2026, 9, 1)
    assert initiative.maturity_level == 1
    assert sorted(tag.name for tag in initiative.tags.all()) == ["legal", "nlp"]
    assert initiative.business_case.expected_annual_value == Decimal("250000.00")
    assert initiative.business_case.monthly_volume == 1200
    targets = {t.metric_key: (t.comparator, t.threshold) for t in initiative.targets.all()}
    assert targets == {"accuracy": (">=", 90.0), "latency_p95_ms": ("<=", 800.0)}
    assert initiative.external_reference.external_id == "UC-1"
    # It enters Tollgate in MVP on its date: the MVP gate is open and due 16 weeks later.
    gate = initiative.gates.get()
    assert gate.stage.key == "mvp" and gate.due_on == datetime.date(2026, 12, 22)
    assert gate.items.filter(metric_key="task_success_rate").exists()
    start = StageTransition.objects.get(initiative=initiative)
    assert start.from_stage is None and start.transitioned_at == _at("2026-09-01")
    created = initiative.activities.get(verb="initiative.created")
    assert created.created_at == _at("2026-09-01")


def test_keys_given_are_kept_and_the_counter_moves_past_them(valid_row, admin_user):
    rows = [{**valid_row, "key": "AI-120"}, {**valid_row, "external_id": "UC-2", "name": "B"}]
    report = portfolio_import(files=[csv_file("initiatives.csv", rows)], actor=admin_user)
    assert report.applied
    assert Initiative.objects.filter(key="AI-120").exists()
    assert Initiative.objects.get(name="B").key == "AI-121"
    assert KeyCounter.objects.get(prefix="AI").last_value == 121


def test_reimporting_the_same_file_changes_nothing(history_files, admin_user):
    first = portfolio_import(files=history_files, actor=admin_user)
    assert first.applied, first.problems
    before = _counts()

    again = portfolio_import(files=history_files, actor=admin_user)

    assert again.ok, again.problems
    assert {row.action for row in again.rows} == {"unchanged"}
    assert _counts() == before


def test_a_changed_row_updates_only_what_changed(valid_row, admin_user):
    portfolio_import(files=[csv_file("initiatives.csv", [valid_row])], actor=admin_user)
    changed = {**valid_row, "summary": "Now also termination clauses.", "tags": "nlp, legal, gdpr"}
    report = portfolio_import(files=[csv_file("initiatives.csv", [changed])], actor=admin_user)
    [row] = report.rows
    assert (row.action, sorted(row.changes)) == ("update", ["summary", "tags"])
    initiative = Initiative.objects.get(external_reference__external_id="UC-1")
    assert initiative.summary == "Now also termination clauses."
    assert initiative.activities.filter(verb="initiative.changed", field="summary").exists()


def test_a_dry_run_writes_nothing(history_files, admin_user):
    before = _counts()
    report = portfolio_import(files=history_files, actor=admin_user, dry_run=True)
    assert report.ok and not report.applied
    assert {row.action for row in report.rows} == {"create"}
    assert _counts() == before


def test_history_carries_its_own_times(history_files, admin_user, executive, member):
    report = portfolio_import(files=history_files, actor=admin_user)
    assert report.applied, report.problems
    initiative = Initiative.objects.get(external_reference__external_id="UC-1")

    assert initiative.stage.key == "mvp" and initiative.status == "active"
    transitions = list(
        initiative.transitions.order_by("transitioned_at").values_list(
            "to_stage__key", "transitioned_at", "decided_by"
        )
    )
    assert transitions[0][:2] == ("poc", _at("2026-01-05"))
    assert transitions[1] == ("mvp", _at("2026-03-02", 14).replace(minute=30), executive.pk)
    assert initiative.stage_entered_on == datetime.date(2026, 3, 2)
    decisions = list(
        GateDecision.objects.filter(gate__initiative=initiative)
        .order_by("decided_at")
        .values_list("decision", "decided_at")
    )
    assert [d for d, _ in decisions] == ["recycle", "go", "hold"]
    assert decisions[0][1] == _at("2026-02-02")
    # Resumed on 1 June: the MVP gate is due 16 weeks after that, not after today.
    gate = initiative.gates.get(stage__key="mvp")
    assert gate.state == "open" and gate.due_on == datetime.date(2026, 9, 21)
    # The activity log says when each thing happened, not when the import ran.
    logged = list(
        initiative.activities.filter(verb="gate.decided")
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    assert logged == [moment for _, moment in decisions]
    assert logged[0] == _at("2026-02-02")
    tick = ChecklistItem.objects.get(
        gate__stage__key="poc", gate__initiative=initiative, text__startswith="Data availability"
    )
    assert (tick.state, tick.updated_by, tick.updated_at) == ("done", member, _at("2026-02-20"))
    # The accuracy reading of 23 February met the target and ticked its item then.
    accuracy = ChecklistItem.objects.get(
        gate__stage__key="poc", gate__initiative=initiative, metric_key="accuracy"
    )
    assert accuracy.state == "done" and accuracy.updated_at == _at("2026-02-23", 6)
    membership = initiative.memberships.get()
    assert (membership.user, membership.allocation_percent) == (member, 40)


def test_imported_history_gives_the_dashboard_its_durations(history_files, admin_user):
    portfolio_import(files=history_files, actor=admin_user)
    initiative = Initiative.objects.get(external_reference__external_id="UC-1")
    board = dashboard(admin_user, DashboardFilters(framework=initiative.framework))
    poc = board.stages[0]
    # `member`'s initiative is in PoC too, still there: its stay is not complete.
    assert (poc.entered, poc.exited) == (2, 1)
    # 5 January 09:00 to 2 March 14:30.
    assert poc.median_days == pytest.approx(56 + 5.5 / 24)


def test_imported_history_announces_nothing_to_integrations(history_files, admin_user):
    from core import events

    heard = []

    def listener(event, payload):
        heard.append(event)

    for event in ("gate.decided", "initiative.stage_changed", "target.missed"):
        events.subscribe(event, listener)
    try:
        portfolio_import(files=history_files, actor=admin_user)
    finally:
        for event in ("gate.decided", "initiative.stage_changed", "target.missed"):
            events.unsubscribe(event, listener)
    assert heard == []


def test_a_row_the_services_refuse_is_named_and_nothing_is_written(history_files, admin_user):
    checklist = csv_file(
        "checklist.csv",
        [
            {
                "initiative": "UC-1",
                "stage": "poc",
                "item": "Make coffee",
                "state": "done",
                "updated_at": "2026-02-10",
            },
        ],
    )
    files = [f for f in history_files if f.name != "checklist.csv"] + [checklist]
    before = _counts()
    report = portfolio_import(files=files, actor=admin_user)
    assert not report.applied
    assert problems(report) == {("checklist", 2, "item")}
    assert "Make coffee" in report.problems[0].message
    assert _counts() == before


def test_a_decision_by_someone_who_is_not_a_gatekeeper_is_refused(
    history_files, admin_user, other_executive
):
    history = csv_file(
        "history.csv",
        [
            {
                "initiative": "UC-1",
                "stage": "poc",
                "entered_on": "2026-01-05",
                "decision": "go",
                "decided_on": "2026-02-02",
                "decided_by": other_executive.username,
            },
        ],
    )
    files = [f for f in history_files if f.name not in ("history.csv", "checklist.csv")]
    report = portfolio_import(files=[*files, history], actor=admin_user)
    assert problems(report) == {("history", 2, "decided_by")}


def test_a_thousand_rows_cost_the_queries_of_ten(valid_row, admin_user, team):
    """Initiative rows are written in bulk: the query count does not grow with the file."""

    def rows(count: int) -> list[dict]:
        return [
            {**valid_row, "external_id": f"UC-{count}-{n}", "name": f"Initiative {n}"}
            for n in range(count)
        ]

    def queries(count: int) -> int:
        source = csv_file("initiatives.csv", rows(count))
        with CaptureQueriesContext(connection) as context:
            report = portfolio_import(files=[source], actor=admin_user)
        assert report.applied
        return len(context.captured_queries)

    assert queries(400) == queries(10)
