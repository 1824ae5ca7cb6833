"""Every rule of the gate workflow and of the initiative services, one behaviour per test."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gates.models import (
    ChecklistItem,
    Decision,
    Gate,
    GateDecision,
    Gatekeeper,
    StageTransition,
    Vote,
)
from gates.services import (
    MeasurementInput,
    checklist_item_update,
    combine_votes,
    gate_request_review,
    gate_rule_set,
    gate_vote,
    gatekeeper_add,
    initiative_resume,
    initiative_start,
    measurement_record,
    measurements_record,
)
from initiatives.exceptions import AlreadyDecided, InvalidState, StaleEdit
from initiatives.models import (
    Activity,
    ChecklistItemTemplate,
    Framework,
    Initiative,
    Measurement,
    Membership,
    Stage,
    Target,
)
from initiatives.services import (
    business_case_update,
    initiative_update,
    membership_add,
    membership_remove,
)
from teams.roles import StageRole
from tests.factories import InitiativeFactory, TargetFactory

pytestmark = pytest.mark.django_db

WEEK = datetime.timedelta(weeks=1)


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def verbs(initiative) -> list[str]:
    return list(
        Activity.objects.filter(initiative=initiative).order_by("id").values_list("verb", flat=True)
    )


def item_at(gate: Gate, order: int) -> ChecklistItem:
    return gate.items.get(order=order)


def clear_required(gate: Gate, actor) -> None:
    for item in gate.items.filter(required=True):
        checklist_item_update(item=item, actor=actor, state=ChecklistItem.State.DONE)


def in_review(gate: Gate) -> Gate:
    return gate_request_review(gate=gate, actor=gate.initiative.owner)


def decide(gate: Gate, decision: str, actor=None, **kwargs) -> Gate:
    """Ask for review and vote as the sponsor (the default gatekeeper)."""
    in_review(gate)
    return gate_vote(
        gate=gate,
        actor=actor or gate.initiative.sponsor,
        decision=decision,
        rationale=kwargs.pop("rationale", f"Deciding {decision}."),
        **kwargs,
    )


def go_with_override(initiative: Initiative) -> Gate:
    gate = initiative.gates.get(state=Gate.State.OPEN)
    return decide(gate, Decision.GO, override_justification="Accepted risk for the test.")


@pytest.fixture
def two_gatekeepers(gate, other_executive, admin_user):
    gatekeeper_add(gate=gate, user=other_executive, actor=admin_user)
    return gate


# --- Starting an initiative ------------------------------------------------------------


def test_start_opens_first_gate_from_template(time_machine, team, owner, executive):
    time_machine.move_to(at(datetime.date(2026, 3, 2)), tick=False)
    initiative = initiative_start(
        actor=owner, name="Claims triage", team=team, owner=owner, sponsor=executive
    )

    poc = Stage.objects.get(framework__slug="ai-maturity", key="poc")
    assert initiative.key == "AI-001"
    assert initiative.stage == poc
    assert initiative.status == Initiative.Status.ACTIVE
    assert initiative.stage_entered_on == datetime.date(2026, 3, 2)

    gate = initiative.gates.get()
    assert gate.stage == poc
    assert gate.state == Gate.State.OPEN
    assert gate.due_on == datetime.date(2026, 3, 2) + 8 * WEEK
    assert initiative.gate_due_on == gate.due_on
    assert initiative.stalls_on == datetime.date(2026, 3, 2) + 8 * WEEK
    assert [k.user for k in gate.gatekeepers.all()] == [executive]

    templates = list(poc.checklist_templates.order_by("order"))
    items = list(gate.items.order_by("order"))
    assert [(i.template_id, i.order, i.text, i.required, i.metric_key) for i in items] == [
        (t.pk, t.order, t.text, t.required, t.metric_key) for t in templates
    ]
    assert all(i.state == ChecklistItem.State.OPEN and not i.is_condition for i in items)

    transition = initiative.transitions.get()
    assert (transition.from_stage, transition.to_stage, transition.gate) == (None, poc, None)
    assert hasattr(initiative, "business_case")
    assert verbs(initiative) == ["initiative.created", "gate.opened"]


def test_start_in_the_past_dates_gate_and_stall_from_entry_date(team, owner, executive):
    entered_on = timezone.localdate() - 10 * WEEK
    initiative = InitiativeFactory(team=team, owner=owner, sponsor=executive, entered_on=entered_on)
    assert initiative.gates.get().due_on == entered_on + 8 * WEEK
    assert initiative.is_stalled and initiative.is_overdue
    assert initiative.transitions.get().transitioned_at.date() == entered_on


def test_start_uses_the_first_stage_of_the_chosen_framework(team, owner, executive):
    phased = Framework.objects.get(slug="phased-rollout")
    initiative = InitiativeFactory(team=team, owner=owner, sponsor=executive, framework=phased)
    assert initiative.stage.name == "Production-minded PoC"
    assert initiative.gates.get().items.count() == 4
    assert initiative.gate_due_on == timezone.localdate() + 4 * WEEK


def test_start_in_a_framework_without_stages_is_refused(team, owner, executive):
    empty = Framework.objects.create(slug="empty", name="Empty")
    with pytest.raises(ValidationError):
        initiative_start(
            actor=owner, name="X", team=team, owner=owner, sponsor=executive, framework=empty
        )
    assert not Initiative.objects.exists()


def test_editing_a_template_never_rewrites_open_gates(gate, team, owner, executive):
    poc = gate.stage
    first = poc.checklist_templates.get(order=1)
    original = first.text
    first.text = "Accuracy of at least 85% on the held-out set"
    first.save()
    ChecklistItemTemplate.objects.filter(stage=poc, order=7).delete()
    ChecklistItemTemplate.objects.create(stage=poc, order=8, text="Legal sign-off")

    assert item_at(gate, 1).text == original
    assert gate.items.count() == 7
    assert not gate.items.filter(text="Legal sign-off").exists()

    later = InitiativeFactory(team=team, owner=owner, sponsor=executive).gates.get()
    assert item_at(later, 1).text == "Accuracy of at least 85% on the held-out set"
    assert [i.order for i in later.items.order_by("order")] == [1, 2, 3, 4, 5, 6, 8]


# --- Checklist items --------------------------------------------------------------------------


def test_ticking_an_item_marks_it_done_and_logs_it(gate, member):
    item = item_at(gate, 2)
    version = gate.initiative.version

    updated = checklist_item_update(item=item, actor=member, state="done", expected_version=1)

    assert updated.state == ChecklistItem.State.DONE and updated.is_cleared
    assert updated.version == 2
    assert updated.updated_by == member
    entry = Activity.objects.get(verb="item.changed")
    assert (entry.actor, entry.field, entry.before, entry.after) == (
        member,
        "state",
        "open",
        "done",
    )
    assert entry.object_id == str(item.pk)
    gate.initiative.refresh_from_db()
    assert gate.initiative.version == version + 1


def test_unticking_an_item_reopens_it(gate, member):
    item = checklist_item_update(item=item_at(gate, 2), actor=member, state="done")
    item = checklist_item_update(item=item, actor=member, state="open")
    assert item.state == ChecklistItem.State.OPEN
    assert item.version == 3
    assert Activity.objects.filter(verb="item.changed", field="state").count() == 2


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_not_applicable_needs_a_reason(gate, member, reason):
    item = item_at(gate, 2)
    with pytest.raises(ValidationError) as error:
        checklist_item_update(item=item, actor=member, state="not_applicable", na_reason=reason)
    assert "na_reason" in error.value.error_dict
    item.refresh_from_db()
    assert item.state == ChecklistItem.State.OPEN and item.version == 1


def test_not_applicable_with_a_reason_clears_the_item_until_reopened(gate, member):
    item = checklist_item_update(
        item=item_at(gate, 3),
        actor=member,
        state="not_applicable",
        na_reason="  Uses public data only.  ",
    )
    assert item.state == ChecklistItem.State.NOT_APPLICABLE and item.is_cleared
    assert item.na_reason == "Uses public data only."
    assert gate.readiness_counts() == (1, 6)

    item = checklist_item_update(item=item, actor=member, state="open")
    assert item.na_reason == ""
    fields = set(Activity.objects.filter(verb="item.changed").values_list("field", flat=True))
    assert fields == {"state", "na_reason"}


def test_an_unknown_state_is_refused(gate, member):
    with pytest.raises(ValidationError) as error:
        checklist_item_update(item=item_at(gate, 1), actor=member, state="finished")
    assert "state" in error.value.error_dict


@pytest.mark.parametrize(
    "url", ["not a url", "ftp://files.example.com/report.pdf", "javascript:alert(1)", "//x.com"]
)
def test_evidence_url_must_be_a_web_address(gate, member, url):
    item = item_at(gate, 2)
    with pytest.raises(ValidationError) as error:
        checklist_item_update(item=item, actor=member, evidence_url=url)
    assert "evidence_url" in error.value.error_dict
    item.refresh_from_db()
    assert item.evidence_url == ""


def test_evidence_url_and_note_are_stored_and_each_change_logged(gate, member):
    item = checklist_item_update(
        item=item_at(gate, 2),
        actor=member,
        state="done",
        evidence_url=" https://wiki.example.com/poc-scale-test ",
        note="Load test at 3x projected volume.",
    )
    assert item.evidence_url == "https://wiki.example.com/poc-scale-test"
    assert item.note == "Load test at 3x projected volume."
    assert item.version == 2  # one write, however many fields changed
    logged = Activity.objects.filter(verb="item.changed", object_id=str(item.pk))
    assert set(logged.values_list("field", flat=True)) == {"state", "evidence_url", "note"}

    item = checklist_item_update(item=item, actor=member, evidence_url="")
    assert item.evidence_url == ""


def test_an_edit_that_changes_nothing_writes_nothing(gate, member):
    item = item_at(gate, 2)
    before = Activity.objects.count()
    same = checklist_item_update(item=item, actor=member, state="open", note="")
    assert same.version == 1
    assert Activity.objects.count() == before


def test_a_stale_edit_raises_with_the_current_item(gate, member, owner):
    item = item_at(gate, 2)
    checklist_item_update(item=item, actor=member, state="done", expected_version=1)

    with pytest.raises(StaleEdit) as error:
        checklist_item_update(item=item, actor=owner, note="Mine", expected_version=1)

    assert error.value.current.pk == item.pk
    assert error.value.current.version == 2
    assert error.value.current.state == ChecklistItem.State.DONE
    item.refresh_from_db()
    assert item.note == ""


def test_a_decided_gate_checklist_is_frozen(gate, member):
    decide(gate, Decision.STOP)
    with pytest.raises(InvalidState):
        checklist_item_update(item=item_at(gate, 2), actor=member, state="done")


# --- Production bar and measurements ------------------------------------------------------


@pytest.fixture
def accuracy(initiative):
    """An accuracy >= 90% target; it links the PoC item 1 (metric accuracy)."""
    return TargetFactory(initiative=initiative, metric_key="accuracy", threshold=90)


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
    assert "accuracy = 93.5%" in item.note
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


# --- Review ---------------------------------------------------------------------------------


def test_request_review_moves_an_open_gate_into_review(gate, owner):
    gate = gate_request_review(gate=gate, actor=owner)
    gate.refresh_from_db()
    assert gate.state == Gate.State.IN_REVIEW
    assert gate.review_round == 1
    assert gate.review_requested_by == owner
    assert gate.review_requested_at is not None
    assert "gate.review_requested" in verbs(gate.initiative)
    assert list(Gate.objects.awaiting_vote_from(gate.initiative.sponsor)) == [gate]


def test_review_cannot_be_requested_twice(gate, owner):
    gate_request_review(gate=gate, actor=owner)
    with pytest.raises(InvalidState):
        gate_request_review(gate=gate, actor=owner)


def test_review_of_a_decided_gate_is_refused(gate, owner):
    decide(gate, Decision.STOP)
    with pytest.raises(AlreadyDecided):
        gate_request_review(gate=gate, actor=owner)


@pytest.mark.parametrize("status", [Initiative.Status.ON_HOLD, Initiative.Status.STOPPED])
def test_review_needs_an_active_initiative(gate, owner, status):
    Initiative.objects.filter(pk=gate.initiative_id).update(status=status)
    with pytest.raises(InvalidState):
        gate_request_review(gate=gate, actor=owner)


def test_review_needs_a_gatekeeper(gate, owner):
    Gatekeeper.objects.filter(gate=gate).delete()
    with pytest.raises(InvalidState):
        gate_request_review(gate=gate, actor=owner)


# --- Gatekeepers and rule ---------------------------------------------------------------------


def test_adding_a_gatekeeper_is_logged_once(gate, other_executive, admin_user):
    gatekeeper_add(gate=gate, user=other_executive, actor=admin_user)
    gatekeeper_add(gate=gate, user=other_executive, actor=admin_user)
    assert gate.gatekeepers.count() == 2
    assert Activity.objects.filter(verb="gate.gatekeeper_added").count() == 1


def test_gatekeepers_of_a_decided_gate_are_fixed(gate, other_executive, admin_user):
    gate = decide(gate, Decision.STOP)
    with pytest.raises(InvalidState):
        gatekeeper_add(gate=gate, user=other_executive, actor=admin_user)


def test_rule_must_be_any_or_all_and_is_logged(gate, admin_user):
    with pytest.raises(ValidationError):
        gate_rule_set(gate=gate, rule="majority", actor=admin_user)
    gate_rule_set(gate=gate, rule=Gate.Rule.ALL, actor=admin_user)
    gate.refresh_from_db()
    assert gate.rule == Gate.Rule.ALL
    assert Activity.objects.filter(verb="gate.changed", field="rule").count() == 1


def test_rule_of_a_decided_gate_is_fixed(gate, admin_user):
    gate = decide(gate, Decision.STOP)
    with pytest.raises(InvalidState):
        gate_rule_set(gate=gate, rule=Gate.Rule.ALL, actor=admin_user)


# --- Votes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["other_executive", "owner", "admin_user"])
def test_only_gatekeepers_vote(request, gate, persona):
    in_review(gate)
    with pytest.raises(InvalidState):
        gate_vote(
            gate=gate,
            actor=request.getfixturevalue(persona),
            decision=Decision.STOP,
            rationale="No.",
        )
    assert not Vote.objects.exists()


def test_votes_are_only_taken_in_review(gate, executive):
    with pytest.raises(InvalidState):
        gate_vote(gate=gate, actor=executive, decision=Decision.STOP, rationale="Too early.")


def test_a_gatekeeper_votes_once_per_round(two_gatekeepers, executive, admin_user):
    gate_rule_set(gate=two_gatekeepers, rule=Gate.Rule.ALL, actor=admin_user)
    in_review(two_gatekeepers)
    gate_vote(gate=two_gatekeepers, actor=executive, decision=Decision.HOLD, rationale="Wait.")
    with pytest.raises(InvalidState):
        gate_vote(gate=two_gatekeepers, actor=executive, decision=Decision.STOP, rationale="No.")
    assert Vote.objects.filter(voter=executive).count() == 1


@pytest.mark.parametrize("rationale", ["", "   "])
def test_a_vote_needs_a_rationale(gate, executive, rationale):
    in_review(gate)
    with pytest.raises(ValidationError) as error:
        gate_vote(gate=gate, actor=executive, decision=Decision.STOP, rationale=rationale)
    assert "rationale" in error.value.error_dict
    assert not Vote.objects.exists()


def test_an_unknown_decision_is_refused(gate, executive):
    in_review(gate)
    with pytest.raises(ValidationError) as error:
        gate_vote(gate=gate, actor=executive, decision="maybe", rationale="Hmm.")
    assert "decision" in error.value.error_dict


# --- Go -----------------------------------------------------------------------------------


def test_go_is_refused_while_required_items_open(gate, executive):
    in_review(gate)
    with pytest.raises(ValidationError) as error:
        gate_vote(gate=gate, actor=executive, decision=Decision.GO, rationale="Looks fine.")
    assert "override_justification" in error.value.error_dict
    gate.refresh_from_db()
    assert gate.state == Gate.State.IN_REVIEW
    assert not Vote.objects.exists() and not GateDecision.objects.exists()


def test_go_with_override_justification_advances_and_keeps_the_justification(gate, executive):
    decide(gate, Decision.GO, override_justification="Board wants the MVP before Q3.")

    gate.refresh_from_db()
    assert gate.decision == Decision.GO
    assert gate.override_justification == "Board wants the MVP before Q3."
    record = GateDecision.objects.get(gate=gate)
    assert record.override_justification == "Board wants the MVP before Q3."
    assert Vote.objects.get(gate=gate).override_justification == "Board wants the MVP before Q3."
    gate.initiative.refresh_from_db()
    assert gate.initiative.stage.key == "mvp"


def test_go_advances_opens_next_gate_and_records_transition_and_snapshot(
    time_machine, gate, owner, executive, member, accuracy
):
    time_machine.move_to(at(timezone.localdate() + 3 * WEEK), tick=False)
    today = timezone.localdate()
    measurement_record(target=accuracy, value=92, actor=member)
    clear_required(gate, owner)  # the recommended item stays open: it does not block go

    decide(gate, Decision.GO, rationale="Feasible and affordable.")

    initiative = Initiative.objects.get(pk=gate.initiative_id)
    gate.refresh_from_db()
    mvp = initiative.framework.stages.get(key="mvp")
    assert (gate.state, gate.decision) == (Gate.State.DECIDED, Decision.GO)
    assert (gate.decided_by, gate.rationale) == (executive, "Feasible and affordable.")
    assert gate.override_justification == ""
    assert initiative.stage == mvp
    assert initiative.stage_entered_on == today
    assert initiative.stalls_on == today + 16 * WEEK

    next_gate = initiative.gates.get(state=Gate.State.OPEN)
    assert next_gate.stage == mvp
    assert next_gate.due_on == initiative.gate_due_on == today + 16 * WEEK
    assert next_gate.items.count() == 7
    assert [k.user for k in next_gate.gatekeepers.all()] == [executive]

    transition = initiative.transitions.get(gate=gate)
    assert (transition.from_stage.key, transition.to_stage, transition.decision) == (
        "poc",
        mvp,
        Decision.GO,
    )
    assert transition.decided_by == executive

    snapshot = GateDecision.objects.get(gate=gate).snapshot
    assert snapshot == gate.snapshot
    assert snapshot["readiness"] == {"cleared": 6, "required": 6}
    assert len(snapshot["checklist"]) == 7
    assert snapshot["checklist"][6]["state"] == "open"
    assert snapshot["targets"] == [
        {
            "id": accuracy.pk,
            "metric_key": "accuracy",
            "comparator": ">=",
            "threshold": 90.0,
            "unit": "%",
            "latest_value": 92.0,
            "measured_at": snapshot["targets"][0]["measured_at"],
            "status": "met",
        }
    ]
    assert {"gate.voted", "gate.decided", "initiative.stage_changed"} <= set(verbs(initiative))
    assert verbs(initiative)[-1] == "gate.opened"


def test_the_snapshot_does_not_change_with_later_measurements(gate, accuracy, member):
    measurement_record(target=accuracy, value=92, actor=member)
    decide(gate, Decision.STOP)
    measurement_record(target=accuracy, value=10, actor=member)
    gate.refresh_from_db()
    assert gate.snapshot["targets"][0]["latest_value"] == 92


def test_conditional_go_carries_open_required_items_as_conditions(gate, owner):
    for item in gate.items.filter(required=True, order__gt=2):
        checklist_item_update(item=item, actor=owner, state="done")

    decide(gate, Decision.CONDITIONAL_GO)

    initiative = Initiative.objects.get(pk=gate.initiative_id)
    assert initiative.stage.key == "mvp"
    next_gate = initiative.gates.get(state=Gate.State.OPEN)
    conditions = list(next_gate.items.filter(is_condition=True).order_by("order"))
    assert [c.text for c in conditions] == [item_at(gate, 1).text, item_at(gate, 2).text]
    assert [c.order for c in conditions] == [8, 9]
    assert all(c.required and c.state == ChecklistItem.State.OPEN for c in conditions)
    assert all(c.condition_due_on == next_gate.due_on for c in conditions)
    assert next_gate.items.filter(is_condition=False).count() == 7
    # The recommended item that was open is not carried.
    assert not next_gate.items.filter(text=item_at(gate, 7).text).exists()
    assert initiative.transitions.get(gate=gate).decision == Decision.CONDITIONAL_GO


def test_conditions_keep_following_their_target(gate, owner, member, accuracy):
    decide(gate, Decision.CONDITIONAL_GO)
    condition = ChecklistItem.objects.get(is_condition=True, metric_key="accuracy")
    assert condition.target == accuracy
    measurement_record(target=accuracy, value=95, actor=member)
    condition.refresh_from_db()
    assert condition.state == ChecklistItem.State.DONE


# --- Hold, recycle, stop ------------------------------------------------------------------


def test_hold_pauses_the_initiative_and_resume_reopens_its_gate(time_machine, gate, owner):
    decide(gate, Decision.HOLD)

    initiative = Initiative.objects.get(pk=gate.initiative_id)
    gate.refresh_from_db()
    assert initiative.status == Initiative.Status.ON_HOLD
    assert (gate.state, gate.decision) == (Gate.State.DECIDED, Decision.HOLD)
    assert initiative.gate_due_on is None
    assert not initiative.is_overdue
    assert initiative.stage.key == "poc"
    assert not StageTransition.objects.filter(gate=gate).exists()

    time_machine.move_to(at(timezone.localdate() + 10 * WEEK), tick=False)
    initiative = initiative_resume(initiative=initiative, actor=owner)

    gate.refresh_from_db()
    assert initiative.status == Initiative.Status.ACTIVE
    assert (gate.state, gate.decision) == (Gate.State.OPEN, "")
    assert gate.due_on == initiative.gate_due_on == timezone.localdate() + 8 * WEEK
    assert Activity.objects.filter(verb="initiative.changed", field="status").exists()

    # A new round can be asked for and decided.
    decide(gate, Decision.STOP)
    decisions = GateDecision.objects.filter(gate=gate).order_by("round")
    assert list(decisions.values_list("round", "decision")) == [(1, "hold"), (2, "stop")]


def test_only_an_initiative_on_hold_can_be_resumed(initiative, owner):
    with pytest.raises(InvalidState):
        initiative_resume(initiative=initiative, actor=owner)


def test_recycle_reopens_the_gate_with_a_new_due_date(time_machine, gate, executive):
    time_machine.move_to(at(timezone.localdate() + 7 * WEEK), tick=False)
    decide(gate, Decision.RECYCLE, rationale="Accuracy measured on the wrong data.")

    gate.refresh_from_db()
    initiative = gate.initiative
    initiative.refresh_from_db()
    assert (gate.state, gate.decision) == (Gate.State.OPEN, "")
    assert gate.due_on == initiative.gate_due_on == timezone.localdate() + 8 * WEEK
    assert initiative.status == Initiative.Status.ACTIVE
    assert initiative.stage.key == "poc"

    decide(gate, Decision.STOP, rationale="Second look: not worth it.")

    decisions = GateDecision.objects.filter(gate=gate).order_by("round")
    assert [(d.round, d.decision) for d in decisions] == [(1, "recycle"), (2, "stop")]
    assert decisions[0].rationale == "Accuracy measured on the wrong data."
    gate.refresh_from_db()
    assert (gate.state, gate.decision) == (Gate.State.DECIDED, Decision.STOP)


def test_stop_ends_the_initiative(gate):
    decide(gate, Decision.STOP, rationale="Stopping early saves the MVP budget.")
    initiative = Initiative.objects.get(pk=gate.initiative_id)
    gate.refresh_from_db()
    assert initiative.status == Initiative.Status.STOPPED
    assert (gate.state, gate.decision) == (Gate.State.DECIDED, Decision.STOP)
    assert initiative.gate_due_on is None
    assert initiative.stage.key == "poc"
    assert not initiative.gates.pending().exists()


def test_a_vote_after_the_decision_raises_already_decided(two_gatekeepers, other_executive):
    decide(two_gatekeepers, Decision.STOP)
    with pytest.raises(AlreadyDecided):
        gate_vote(
            gate=two_gatekeepers, actor=other_executive, decision=Decision.HOLD, rationale="Hold."
        )
    assert GateDecision.objects.filter(gate=two_gatekeepers).count() == 1


# --- Rule "all" ------------------------------------------------------------------------------


@pytest.fixture
def unanimous_gate(two_gatekeepers, owner, admin_user):
    """Both executives must vote; required items are cleared so go needs no override."""
    gate_rule_set(gate=two_gatekeepers, rule=Gate.Rule.ALL, actor=admin_user)
    clear_required(two_gatekeepers, owner)
    return in_review(two_gatekeepers)


def test_rule_all_waits_for_every_gatekeeper(unanimous_gate, executive, other_executive):
    gate_vote(gate=unanimous_gate, actor=executive, decision=Decision.GO, rationale="Yes.")

    unanimous_gate.refresh_from_db()
    assert unanimous_gate.state == Gate.State.IN_REVIEW
    assert not GateDecision.objects.exists()
    assert list(Gate.objects.awaiting_vote_from(other_executive)) == [unanimous_gate]
    assert not Gate.objects.awaiting_vote_from(executive).exists()

    gate_vote(gate=unanimous_gate, actor=other_executive, decision=Decision.GO, rationale="Yes.")

    initiative = Initiative.objects.get(pk=unanimous_gate.initiative_id)
    assert initiative.stage.key == "mvp"
    record = GateDecision.objects.get(gate=unanimous_gate)
    assert (record.decision, record.decided_by) == (Decision.GO, other_executive)


@pytest.mark.parametrize(
    ("first", "second", "outcome"),
    [
        (Decision.GO, Decision.STOP, Decision.STOP),
        (Decision.GO, Decision.HOLD, Decision.HOLD),
        (Decision.RECYCLE, Decision.GO, Decision.RECYCLE),
        (Decision.HOLD, Decision.RECYCLE, Decision.HOLD),
        (Decision.STOP, Decision.HOLD, Decision.STOP),
        (Decision.GO, Decision.CONDITIONAL_GO, Decision.CONDITIONAL_GO),
    ],
)
def test_rule_all_with_differing_votes_combines_them(
    unanimous_gate, executive, other_executive, first, second, outcome
):
    gate_vote(gate=unanimous_gate, actor=executive, decision=first, rationale="First.")
    gate_vote(gate=unanimous_gate, actor=other_executive, decision=second, rationale="Second.")

    assert GateDecision.objects.get(gate=unanimous_gate).decision == outcome
    initiative = Initiative.objects.get(pk=unanimous_gate.initiative_id)
    advanced = outcome in (Decision.GO, Decision.CONDITIONAL_GO)
    assert (initiative.stage.key == "mvp") is advanced


@pytest.mark.parametrize(
    ("votes", "outcome"),
    [
        (["go"], "go"),
        (["go", "go", "go"], "go"),
        (["go", "conditional_go"], "conditional_go"),
        (["conditional_go", "recycle"], "recycle"),
        (["recycle", "hold", "go"], "hold"),
        (["hold", "stop", "recycle"], "stop"),
    ],
)
def test_combine_votes_takes_the_most_severe_vote_against(votes, outcome):
    assert combine_votes(votes) == outcome


def test_rule_all_go_with_open_items_keeps_each_voters_justification(
    two_gatekeepers, executive, other_executive, admin_user
):
    gate = two_gatekeepers
    gate_rule_set(gate=gate, rule=Gate.Rule.ALL, actor=admin_user)
    in_review(gate)
    gate_vote(
        gate=gate, actor=executive, decision="go", rationale="Go.", override_justification="A"
    )
    gate_vote(
        gate=gate,
        actor=other_executive,
        decision="go",
        rationale="Go.",
        override_justification="B",
    )
    assert GateDecision.objects.get(gate=gate).override_justification == "B"
    votes = Vote.objects.filter(gate=gate).order_by("created_at", "id")
    assert list(votes.values_list("override_justification", flat=True)) == ["A", "B"]


# --- The end of the framework -----------------------------------------------------------------


def test_reaching_scale_leaves_no_gate_due(initiative):
    for _ in range(3):
        go_with_override(initiative)

    initiative.refresh_from_db()
    assert initiative.stage.key == "scale"
    assert initiative.gate_due_on is None
    assert initiative.stalls_on is None
    assert not initiative.gates.pending().exists()
    assert initiative.gates.count() == 3
    assert [t.to_stage.key for t in initiative.transitions.order_by("transitioned_at", "id")] == [
        "poc",
        "mvp",
        "production",
        "scale",
    ]
    assert not initiative.is_overdue and not initiative.is_stalled


def test_conditional_go_into_a_stage_without_exit_gate_is_refused(initiative, executive):
    go_with_override(initiative)
    go_with_override(initiative)
    production_gate = initiative.gates.get(state=Gate.State.OPEN)
    in_review(production_gate)
    with pytest.raises(ValidationError) as error:
        gate_vote(
            gate=production_gate,
            actor=executive,
            decision=Decision.CONDITIONAL_GO,
            rationale="Ship it.",
        )
    assert "decision" in error.value.error_dict


def test_go_on_the_last_stage_is_refused(team, owner, executive):
    single = Framework.objects.create(slug="single", name="Single stage")
    stage = Stage.objects.create(framework=single, order=1, key="only", name="Only", max_weeks=2)
    ChecklistItemTemplate.objects.create(stage=stage, order=1, text="Done?", required=False)
    initiative = InitiativeFactory(team=team, owner=owner, sponsor=executive, framework=single)
    gate = initiative.gates.get()
    in_review(gate)
    with pytest.raises(ValidationError) as error:
        gate_vote(gate=gate, actor=executive, decision=Decision.GO, rationale="Next.")
    assert "decision" in error.value.error_dict
    gate_vote(gate=gate, actor=executive, decision=Decision.STOP, rationale="Finished.")


# --- Business case, initiative edits, memberships -----------------------------------------------


def test_business_case_update_keeps_numbered_revisions_of_what_changed(
    initiative, owner, team_lead
):
    business_case_update(
        initiative=initiative, actor=owner, monthly_volume=20_000, cost_per_task_budget="0.05"
    )
    business_case_update(initiative=initiative, actor=team_lead, cost_per_task_budget=0.04)

    revisions = list(initiative.business_case.revisions.order_by("number"))
    assert [r.number for r in revisions] == [1, 2]
    assert revisions[0].author == owner
    assert revisions[0].changes == {
        "monthly_volume": [0, 20000],
        "cost_per_task_budget": ["0.0000", "0.05"],
    }
    assert revisions[1].author == team_lead
    assert list(revisions[1].changes) == ["cost_per_task_budget"]
    assert revisions[1].snapshot["monthly_volume"] == 20000
    assert Activity.objects.filter(verb="business_case.revised").count() == 2


def test_business_case_update_without_changes_keeps_no_revision(initiative, owner):
    business_case_update(initiative=initiative, actor=owner, monthly_volume=0)
    assert not initiative.business_case.revisions.exists()
    assert not Activity.objects.filter(verb="business_case.revised").exists()


@pytest.mark.parametrize(
    "fields", [{"monthly_volume": -1}, {"expected_annual_value": -5}, {"colour": "red"}]
)
def test_business_case_update_refuses_bad_values(initiative, owner, fields):
    with pytest.raises(ValidationError):
        business_case_update(initiative=initiative, actor=owner, **fields)
    assert not initiative.business_case.revisions.exists()


def test_initiative_update_changes_fields_and_logs_each(initiative, owner, other_pm):
    updated = initiative_update(
        initiative=initiative,
        actor=owner,
        expected_version=initiative.version,
        name="Reply drafting v2",
        owner=other_pm,
        tags=["Support", "llm"],
    )
    assert updated.version == initiative.version + 1
    assert updated.name == "Reply drafting v2"
    assert updated.owner == other_pm
    assert sorted(updated.tags.values_list("name", flat=True)) == ["llm", "support"]
    fields = set(Activity.objects.filter(verb="initiative.changed").values_list("field", flat=True))
    assert fields == {"name", "owner"}


def test_initiative_update_refuses_a_stale_version(initiative, owner, member):
    checklist_item_update(item=initiative.gates.get().items.first(), actor=member, state="done")
    with pytest.raises(StaleEdit) as error:
        initiative_update(
            initiative=initiative, actor=owner, expected_version=initiative.version, name="New"
        )
    assert error.value.current.version == initiative.version + 1
    initiative.refresh_from_db()
    assert initiative.name == "Support reply drafting"


@pytest.mark.parametrize("field", ["stage", "status", "key", "stalls_on"])
def test_initiative_update_refuses_workflow_fields(initiative, owner, field):
    with pytest.raises(ValidationError):
        initiative_update(initiative=initiative, actor=owner, **{field: None})


def test_membership_add_and_remove_are_logged(initiative, owner, outsider):
    membership = membership_add(
        initiative=initiative,
        actor=owner,
        user=outsider,
        stage_role=StageRole.DATA_SCIENTIST,
        allocation_percent=40,
    )
    assert membership.allocation_percent == 40
    membership_remove(membership=membership, actor=owner)

    assert not Membership.objects.filter(user=outsider).exists()
    assert verbs(initiative)[-2:] == ["membership.added", "membership.removed"]


@pytest.mark.parametrize("allocation", [0, 101])
def test_membership_add_refuses_allocation_out_of_range(initiative, owner, outsider, allocation):
    with pytest.raises(ValidationError):
        membership_add(
            initiative=initiative,
            actor=owner,
            user=outsider,
            stage_role=StageRole.DATA_SCIENTIST,
            allocation_percent=allocation,
        )


def test_membership_add_refuses_a_duplicate_role(initiative, owner, member):
    with pytest.raises(ValidationError):
        membership_add(
            initiative=initiative, actor=owner, user=member, stage_role=StageRole.ML_ENGINEER
        )


def test_start_refuses_a_sponsor_who_is_the_owner_or_not_an_executive(team, owner, outsider):
    with pytest.raises(ValidationError) as same:
        initiative_start(actor=owner, name="Mine", team=team, owner=owner, sponsor=owner)
    assert "sponsor" in same.value.message_dict
    with pytest.raises(ValidationError) as not_executive:
        initiative_start(actor=owner, name="Mine", team=team, owner=owner, sponsor=outsider)
    assert "sponsor" in not_executive.value.message_dict
    assert not Initiative.objects.filter(name="Mine").exists()


def test_a_new_sponsor_replaces_the_old_one_on_the_pending_gate(
    initiative, owner, executive, other_executive
):
    from initiatives.services import initiative_update

    initiative_update(initiative=initiative, actor=owner, sponsor=other_executive)
    gate = initiative.gates.get()
    assert list(gate.gatekeepers.values_list("user", flat=True)) == [other_executive.pk]
