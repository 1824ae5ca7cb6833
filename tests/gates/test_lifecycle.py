"""Starting an initiative, changing it, and resuming it: the gate lifecycle services."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from gates.models import (
    ChecklistItem,
    Decision,
    Gate,
    GateDecision,
    StageTransition,
)
from gates.services import (
    checklist_item_update,
    initiative_resume,
    initiative_start,
    initiative_update,
)
from initiatives.exceptions import InvalidState, StaleEdit
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
    decide,
    item_at,
    verbs,
)

pytestmark = pytest.mark.django_db


# --- Starting an initiative ---------------------------------------------------------------


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


def test_start_refuses_a_sponsor_who_is_the_owner_or_not_an_executive(team, owner, outsider):
    with pytest.raises(ValidationError) as same:
        initiative_start(actor=owner, name="Mine", team=team, owner=owner, sponsor=owner)
    assert "sponsor" in same.value.message_dict
    with pytest.raises(ValidationError) as not_executive:
        initiative_start(actor=owner, name="Mine", team=team, owner=owner, sponsor=outsider)
    assert "sponsor" in not_executive.value.message_dict
    assert not Initiative.objects.filter(name="Mine").exists()


# --- Changing an initiative ---------------------------------------------------------------


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


def test_a_new_sponsor_replaces_the_old_one_on_the_pending_gate(
    initiative, owner, executive, other_executive
):
    initiative_update(initiative=initiative, actor=owner, sponsor=other_executive)
    gate = initiative.gates.get()
    assert list(gate.gatekeepers.values_list("user", flat=True)) == [other_executive.pk]


# --- Hold and resume ----------------------------------------------------------------------


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


def test_rescheduling_a_gate_moves_the_boards_copy_and_is_logged(gate, admin_user):
    from gates.services import gate_reschedule
    from initiatives.models import Activity

    later = gate.due_on + datetime.timedelta(days=14)
    saved = gate_reschedule(gate=gate, due_on=later, actor=admin_user)

    assert saved.due_on == later and saved.version == gate.version + 1
    assert Initiative.objects.get(pk=gate.initiative_id).gate_due_on == later
    logged = Activity.objects.filter(verb="gate.changed", field="due_on").get()
    assert (logged.before, logged.after) == (gate.due_on.isoformat(), later.isoformat())
    # The same date again changes nothing.
    assert gate_reschedule(gate=saved, due_on=later, actor=admin_user).version == saved.version


def test_a_decided_gate_keeps_its_due_date(gate, admin_user):
    from gates.services import gate_reschedule

    Gate.objects.filter(pk=gate.pk).update(state=Gate.State.DECIDED, decision=Decision.STOP)
    with pytest.raises(InvalidState):
        gate_reschedule(
            gate=gate, due_on=gate.due_on + datetime.timedelta(days=1), actor=admin_user
        )
