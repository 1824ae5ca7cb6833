"""Reviews, gatekeepers, votes and what each decision does to the initiative."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from gates.models import (
    ChecklistItem,
    Decision,
    Gate,
    GateDecision,
    Gatekeeper,
    Vote,
)
from gates.services import (
    checklist_item_update,
    combine_votes,
    gate_request_review,
    gate_rule_set,
    gate_vote,
    gatekeeper_add,
    measurement_record,
)
from initiatives.exceptions import AlreadyDecided, InvalidState
from initiatives.models import (
    Activity,
    ChecklistItemTemplate,
    Framework,
    Initiative,
    Stage,
)
from tests.factories import InitiativeFactory
from tests.gates.helpers import (
    WEEK,
    at,
    clear_required,
    decide,
    go_with_override,
    in_review,
    item_at,
    verbs,
)

pytestmark = pytest.mark.django_db


# --- Review -------------------------------------------------------------------------------


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


# --- Gatekeepers and rule -----------------------------------------------------------------


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


# --- Votes --------------------------------------------------------------------------------


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


# --- Rule "all" ---------------------------------------------------------------------------


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


# --- The end of the framework -------------------------------------------------------------


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
