"""Confirmed EU AI Act classifications travel with the portfolio: exported as their answers,
replayed on import through the same proposal and confirmation, and left alone when the same."""

from __future__ import annotations

import json

import pytest

from compliance.models import Classification, ClassificationRevision, ObligationItem
from compliance.services import classification_confirm, classification_propose
from initiatives.models import Initiative, KeyCounter
from portfolio_import.reading import SourceFile
from portfolio_import.services import portfolio_import
from portfolio_import.workbooks import portfolio_workbook
from teams.roles import PortfolioRole
from tests.factories import UserFactory
from tests.portfolio_import.helpers import csv_file

pytestmark = pytest.mark.django_db

HIGH_RISK = {
    "role": "deployer",
    "annex_iii_area": "essential_services",
    "essential_service_use": "credit_scoring",
}


def _classified(initiative, owner, confirmer):
    classification_propose(initiative=initiative, actor=owner, answers=HIGH_RISK)
    return classification_confirm(initiative=initiative, actor=confirmer)


def _state(initiative_key):
    classification = Classification.objects.select_related(
        "revision__classified_by", "revision__confirmed_by"
    ).get(initiative__key=initiative_key)
    revision = classification.revision
    items = sorted(
        ObligationItem.objects.filter(initiative=classification.initiative).values_list(
            "obligation__code", "gate__stage__key", "item__state", "dropped_at"
        )
    )
    return (
        classification.tier,
        classification.flags,
        classification.confirmed_at.replace(microsecond=0),
        revision.answers,
        revision.classified_by.username,
        revision.confirmed_by.username,
        items,
    )


def test_export_then_import_replays_the_confirmed_classification_once(
    initiative, gate, owner, admin_user
):
    officer = UserFactory(username="officer", groups=[PortfolioRole.COMPLIANCE])
    _classified(initiative, owner, officer)
    before = _state(initiative.key)
    assert before[0] == "high_risk" and before[-1]

    workbook = portfolio_workbook(scope=Initiative.objects.all())
    Initiative.objects.all().delete()
    KeyCounter.objects.all().delete()
    report = portfolio_import(files=[SourceFile("portfolio.xlsx", workbook)], actor=admin_user)
    assert report.applied, [str(problem) for problem in report.problems]
    assert _state(initiative.key) == before

    # Again: the same answers are already confirmed, so nothing is proposed or confirmed.
    again = portfolio_import(files=[SourceFile("portfolio.xlsx", workbook)], actor=admin_user)
    assert again.ok, [str(problem) for problem in again.problems]
    rows = [row for row in again.rows if row.table == "classifications"]
    assert [row.action for row in rows] == ["unchanged"]
    assert ClassificationRevision.objects.filter(initiative__key=initiative.key).count() == 1
    assert _state(initiative.key) == before


def test_a_changed_answer_reclassifies_an_initiative_already_there(
    initiative, gate, owner, admin_user, django_capture_on_commit_callbacks
):
    from core import events

    _classified(initiative, owner, admin_user)
    row = {
        "initiative": initiative.key,
        "answers": json.dumps({"role": "provider"}),
        "tier": "minimal",
    }
    received = []

    def listener(event, payload):
        received.append(event)

    events.subscribe(events.Event.INITIATIVE_CLASSIFIED, listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            report = portfolio_import(
                files=[csv_file("classifications.csv", [row])], actor=admin_user
            )
    finally:
        events.unsubscribe(events.Event.INITIATIVE_CLASSIFIED, listener)
    assert report.applied, [str(problem) for problem in report.problems]
    assert received == []  # imported history tells no integration
    classification = Classification.objects.get(initiative=initiative)
    assert classification.tier == "minimal"
    assert classification.revision.confirmed_by == admin_user
    assert ClassificationRevision.objects.filter(initiative=initiative).count() == 2


def test_classification_rows_are_checked_cell_by_cell(initiative, gate, owner, admin_user):
    rows = [
        {"initiative": initiative.key, "answers": "{not json"},
        {"initiative": initiative.key, "answers": json.dumps({"role": "landlord"})},
        {"initiative": initiative.key, "answers": json.dumps(HIGH_RISK), "tier": "minimal"},
        {"initiative": initiative.key, "answers": json.dumps(HIGH_RISK), "confirmed_by": "pm"},
        {"initiative": initiative.key, "answers": "[1, 2]"},
    ]
    for row in rows:
        report = portfolio_import(files=[csv_file("classifications.csv", [row])], actor=admin_user)
        assert not report.applied, row
        assert report.problems, row
    assert not Classification.objects.exists()
    assert not ClassificationRevision.objects.exists()
