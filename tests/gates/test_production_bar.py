"""Targets and measurements, and the checklist items that follow them."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gates.models import (
    ChecklistItem,
    Gate,
)
from gates.services import (
    MeasurementInput,
    checklist_item_update,
    measurement_record,
    measurements_record,
)
from initiatives.models import (
    Activity,
    Measurement,
    Target,
)
from tests.factories import InitiativeFactory, TargetFactory
from tests.gates.helpers import (
    WEEK,
    go_with_override,
    item_at,
    verbs,
)

pytestmark = pytest.mark.django_db


# --- Production bar and measurements ------------------------------------------------------


def test_target_create_fills_standard_defaults_and_links_items_of_the_open_gate(gate, accuracy):
    assert (accuracy.category, accuracy.comparator, accuracy.unit) == ("quality", ">=", "%")
    assert accuracy.status == Target.Status.NO_DATA
    assert item_at(gate, 1).target == accuracy
    assert not gate.items.exclude(order=1).filter(target__isnull=False).exists()
    assert "target.created" in verbs(gate.initiative)


def test_a_custom_metric_defaults_to_business_at_least(initiative):
    target = TargetFactory(initiative=initiative, metric_key="tickets_deflected", threshold=30)
    assert (target.category, target.comparator, target.unit) == ("business", ">=", "")


def test_a_metric_cannot_be_targeted_twice(initiative, accuracy):
    with pytest.raises(ValidationError):
        TargetFactory(initiative=initiative, metric_key="accuracy", threshold=95)


def test_target_create_does_not_link_items_of_decided_gates(initiative):
    poc_gate = go_with_override(initiative)
    TargetFactory(initiative=initiative, metric_key="accuracy", threshold=90)
    assert item_at(poc_gate, 1).target is None


def test_a_met_measurement_ticks_the_linked_item_with_evidence(gate, accuracy, member):
    measurement_record(target=accuracy, value=93.5, actor=member)

    accuracy.refresh_from_db()
    assert accuracy.status == Target.Status.MET
    assert accuracy.latest_value == 93.5
    item = item_at(gate, 1)
    assert item.state == ChecklistItem.State.DONE
    assert item.evidence_url.endswith(f"{gate.initiative.get_absolute_url()}#target-{accuracy.pk}")
    assert item.evidence_url.startswith("http")
    assert "Accuracy = 93.5%" in item.note
    assert item.version == 2
    assert {"target.met", "item.followed_target"} <= set(verbs(gate.initiative))


def test_a_later_missed_measurement_reopens_the_item(gate, accuracy, member):
    measurement_record(target=accuracy, value=93, actor=member)
    measurement_record(target=accuracy, value=81, actor=member)

    accuracy.refresh_from_db()
    assert accuracy.status == Target.Status.MISSED
    item = item_at(gate, 1)
    assert item.state == ChecklistItem.State.OPEN
    assert item.note.startswith("Reopened")
    reopened = Activity.objects.filter(verb="item.followed_target", after="open")
    assert reopened.count() == 1
    assert Activity.objects.filter(verb="target.missed").count() == 1


def test_a_not_applicable_item_is_left_alone_by_measurements(gate, accuracy, member):
    checklist_item_update(
        item=item_at(gate, 1), actor=member, state="not_applicable", na_reason="Ranking task"
    )
    measurement_record(target=accuracy, value=95, actor=member)
    assert item_at(gate, 1).state == ChecklistItem.State.NOT_APPLICABLE


def test_an_older_late_measurement_does_not_replace_the_latest(gate, accuracy, member):
    now = timezone.now()
    measurement_record(target=accuracy, value=95, actor=member, measured_at=now)
    measurement_record(
        target=accuracy, value=50, actor=member, measured_at=now - datetime.timedelta(days=1)
    )

    accuracy.refresh_from_db()
    assert (accuracy.latest_value, accuracy.status) == (95, Target.Status.MET)
    assert accuracy.latest_measured_at == now
    assert item_at(gate, 1).state == ChecklistItem.State.DONE
    assert accuracy.measurements.count() == 2  # the late one is kept in the series


def test_the_newest_row_of_a_batch_wins_whatever_its_position(accuracy, member):
    now = timezone.now()
    measurements_record(
        rows=[
            MeasurementInput(target=accuracy, value=70, measured_at=now),
            MeasurementInput(target=accuracy, value=99, measured_at=now - WEEK),
        ],
        actor=member,
    )
    accuracy.refresh_from_db()
    assert (accuracy.latest_value, accuracy.status) == (70, Target.Status.MISSED)
    assert set(accuracy.measurements.values_list("source", flat=True)) == {"integration"}


def test_a_manual_measurement_records_who_entered_it(accuracy, member):
    measurement = measurement_record(target=accuracy, value=91, actor=member)
    assert measurement.source == Measurement.Source.MANUAL
    assert measurement.recorded_by == member


@pytest.mark.parametrize(
    ("value", "measured_at"),
    [
        (float("nan"), None),
        (float("inf"), None),
        (91.0, timezone.now() + datetime.timedelta(days=1)),
    ],
)
def test_impossible_measurements_are_refused(accuracy, member, value, measured_at):
    with pytest.raises(ValidationError):
        measurement_record(target=accuracy, value=value, actor=member, measured_at=measured_at)
    assert not Measurement.objects.exists()


def test_a_batch_of_measurements_runs_in_a_constant_number_of_queries(team, owner, executive):
    # Two identical initiatives, so both batches flip a target to met and tick one item.
    small, large = (
        TargetFactory(
            initiative=InitiativeFactory(team=team, owner=owner, sponsor=executive),
            metric_key="accuracy",
            threshold=90,
        )
        for _ in range(2)
    )
    start = timezone.now() - datetime.timedelta(days=30)

    def rows(target, count):
        return [
            MeasurementInput(
                target=target,
                value=80 + (index % 20),
                measured_at=start + datetime.timedelta(minutes=index),
            )
            for index in range(count - 1)
        ] + [MeasurementInput(target=target, value=95, measured_at=timezone.now())]

    with CaptureQueriesContext(connection) as ten:
        measurements_record(rows=rows(small, 10), actor=None)
    with CaptureQueriesContext(connection) as thousand:
        measurements_record(rows=rows(large, 1000), actor=None)

    assert len(thousand) == len(ten)
    assert large.measurements.count() == 1000
    large.refresh_from_db()
    assert large.status == Target.Status.MET
    assert large.linked_items.get().state == ChecklistItem.State.DONE


def test_next_gate_items_start_done_when_their_target_is_already_met(initiative, member):
    success = TargetFactory(initiative=initiative, metric_key="task_success_rate", threshold=80)
    measurement_record(target=success, value=85, actor=member)

    go_with_override(initiative)

    mvp_gate = initiative.gates.get(state=Gate.State.OPEN)
    item = mvp_gate.items.get(metric_key="task_success_rate")
    assert item.target == success
    assert item.state == ChecklistItem.State.DONE


def test_a_value_outside_what_its_unit_can_be_is_refused(initiative, accuracy, member):
    """A percentage is between -1000 and 1000 (core.bounds.UNIT_RANGES): 1e9 is a typing
    mistake, refused as a measurement and as a threshold, and never stored."""
    for value in (1e9, -1001, 1000.5):
        with pytest.raises(ValidationError, match="between -1000 and 1000"):
            measurement_record(target=accuracy, value=value, actor=member)
    assert not Measurement.objects.filter(target=accuracy).exists()
    measurement_record(target=accuracy, value=1000, actor=member)  # the edge holds
    with pytest.raises(ValidationError, match="between -1000 and 1000"):
        TargetFactory(initiative=initiative, metric_key="uptime", threshold=1e9)
    # Other units keep the float limits only.
    users = TargetFactory(initiative=initiative, metric_key="active_users", threshold=10)
    measurement_record(target=users, value=1e9, actor=member)


def test_readings_in_the_log_and_notes_name_the_metric_and_write_the_number(gate, member):
    """ "Drift (PSI) = 0.3", "Latency (p95) = 1,234,567 ms": never a key or 1e+06."""
    initiative = gate.initiative
    drift = TargetFactory(initiative=initiative, metric_key="drift_psi", threshold=0.25)
    latency = TargetFactory(initiative=initiative, metric_key="latency_p95_ms", threshold=900)
    measurement_record(target=drift, value=0.3, actor=member)
    measurement_record(target=latency, value=1234567, actor=member)
    messages = list(
        Activity.objects.filter(initiative=initiative, verb="target.missed").values_list(
            "message", flat=True
        )
    )
    assert sorted(messages) == ["Drift (PSI) = 0.3", "Latency (p95) = 1,234,567 ms"]


def test_a_target_reads_as_its_name_and_a_written_number(initiative):
    users = TargetFactory(initiative=initiative, metric_key="active_users", threshold=1e9)
    drift = TargetFactory(initiative=initiative, metric_key="drift_psi", threshold=0.25)
    assert str(users) == "Active users >= 1,000,000,000 users"
    assert str(drift) == "Drift (PSI) <= 0.25"
