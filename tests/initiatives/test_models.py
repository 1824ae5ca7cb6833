import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from gates.models import ChecklistItem, Decision, Gate, GateDecision, StageTransition
from gates.services import measurement_record, target_create
from initiatives.models import (
    Activity,
    BusinessCase,
    Framework,
    Initiative,
    Membership,
    Stage,
    Target,
)
from initiatives.services import business_case_update
from teams.roles import StageRole
from tests.factories import InitiativeFactory, MembershipFactory, TargetFactory

pytestmark = pytest.mark.django_db


def ai_maturity() -> Framework:
    return Framework.objects.get(slug="ai-maturity")


# --- Database constraints ------------------------------------------------------------


def test_only_one_framework_can_be_the_default():
    with pytest.raises(IntegrityError), transaction.atomic():
        Framework.objects.create(slug="second", name="Second", is_default=True)


def test_several_frameworks_may_be_non_default():
    Framework.objects.create(slug="a", name="A")
    Framework.objects.create(slug="b", name="B")
    assert Framework.objects.filter(is_default=True).count() == 1


def test_stage_max_weeks_cannot_be_below_min_weeks():
    framework = Framework.objects.create(slug="custom", name="Custom")
    with pytest.raises(IntegrityError), transaction.atomic():
        Stage.objects.create(
            framework=framework, order=1, key="bad", name="Bad", min_weeks=8, max_weeks=4
        )
    # Equal bounds and open-ended stages are fine.
    Stage.objects.create(
        framework=framework, order=1, key="eq", name="Eq", min_weeks=4, max_weeks=4
    )
    Stage.objects.create(framework=framework, order=2, key="open", name="Open", min_weeks=9)


def test_stage_rejects_unknown_recommended_roles():
    stage = Stage(framework=ai_maturity(), order=9, key="x", recommended_roles=["wizard"])
    with pytest.raises(ValidationError) as error:
        stage.clean_fields(exclude=["framework"])
    assert "recommended_roles" in error.value.error_dict


def test_a_metric_appears_once_in_an_initiatives_production_bar(initiative):
    fields = {"metric_key": "accuracy", "category": "quality", "comparator": ">="}
    Target.objects.create(initiative=initiative, threshold=90, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Target.objects.create(initiative=initiative, threshold=95, **fields)


@pytest.mark.parametrize("allocation", [0, 101])
def test_membership_allocation_is_between_1_and_100(initiative, outsider, allocation):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(
            initiative=initiative,
            user=outsider,
            stage_role=StageRole.DATA_SCIENTIST,
            allocation_percent=allocation,
        )


@pytest.mark.parametrize("allocation", [1, 100])
def test_membership_allocation_bounds_are_allowed(initiative, outsider, allocation):
    Membership.objects.create(
        initiative=initiative,
        user=outsider,
        stage_role=StageRole.DATA_SCIENTIST,
        allocation_percent=allocation,
    )


def test_not_applicable_item_needs_a_reason(gate):
    item = gate.items.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ChecklistItem.objects.filter(pk=item.pk).update(state="not_applicable", na_reason="")
    ChecklistItem.objects.filter(pk=item.pk).update(state="not_applicable", na_reason="No data")


def test_an_initiative_has_one_pending_gate_at_a_time(initiative, gate):
    mvp = initiative.framework.stages.get(key="mvp")
    with pytest.raises(IntegrityError), transaction.atomic():
        Gate.objects.create(initiative=initiative, stage=mvp, state=Gate.State.IN_REVIEW)
    # A decided gate of another stage does not count as pending.
    Gate.objects.create(initiative=initiative, stage=mvp, state="decided", decision="go")


def test_a_decided_gate_needs_a_decision(gate):
    with pytest.raises(IntegrityError), transaction.atomic():
        Gate.objects.filter(pk=gate.pk).update(state=Gate.State.DECIDED, decision="")


def test_an_undecided_gate_cannot_carry_a_decision(gate):
    with pytest.raises(IntegrityError), transaction.atomic():
        Gate.objects.filter(pk=gate.pk).update(state=Gate.State.OPEN, decision=Decision.GO)


def test_a_gate_gets_one_decision_per_review_round(gate, executive):
    GateDecision.objects.create(
        gate=gate, round=1, decision="hold", decided_by=executive, rationale="r", snapshot={}
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        GateDecision.objects.create(
            gate=gate, round=1, decision="go", decided_by=executive, rationale="r", snapshot={}
        )
    GateDecision.objects.create(
        gate=gate, round=2, decision="go", decided_by=executive, rationale="r", snapshot={}
    )


def test_a_gate_advances_an_initiative_once(initiative, gate):
    poc, mvp = initiative.stage, initiative.framework.stages.get(key="mvp")
    StageTransition.objects.create(initiative=initiative, from_stage=poc, to_stage=mvp, gate=gate)
    with pytest.raises(IntegrityError), transaction.atomic():
        StageTransition.objects.create(
            initiative=initiative, from_stage=poc, to_stage=mvp, gate=gate
        )


# --- Activity is append-only ------------------------------------------------------------


def test_saving_an_existing_activity_row_is_refused(initiative):
    entry = Activity.objects.filter(initiative=initiative).first()
    entry.message = "rewritten history"
    with pytest.raises(TypeError):
        entry.save()
    entry.refresh_from_db()
    assert entry.message != "rewritten history"


def test_deleting_an_activity_row_is_refused(initiative):
    entry = Activity.objects.filter(initiative=initiative).first()
    with pytest.raises(TypeError):
        entry.delete()
    assert Activity.objects.filter(pk=entry.pk).exists()


def test_bulk_update_and_delete_of_activity_are_refused(initiative):
    count = Activity.objects.count()
    with pytest.raises(TypeError):
        Activity.objects.filter(initiative=initiative).update(message="x")
    with pytest.raises(TypeError):
        Activity.objects.filter(initiative=initiative).delete()
    with pytest.raises(TypeError):
        Activity.objects.all().delete()
    assert Activity.objects.count() == count


# --- Keys --------------------------------------------------------------------------------


def test_keys_are_sequential(initiative):
    second = InitiativeFactory(team=initiative.team)
    assert (initiative.key, second.key) == ("AI-001", "AI-002")


def test_keys_are_never_reused_after_a_delete(initiative, team):
    second = InitiativeFactory(team=team)
    assert second.key == "AI-002"
    second.delete()
    assert InitiativeFactory(team=team).key == "AI-003"


def test_deleting_an_initiative_cascades_but_keeps_its_activity(initiative, member, executive):
    target = TargetFactory(initiative=initiative)
    measurement_record(target=target, value=95, actor=member)
    business_case_update(initiative=initiative, actor=initiative.owner, monthly_volume=10)
    key, pk = initiative.key, initiative.pk
    logged = Activity.objects.filter(initiative=initiative).count()

    initiative.delete()

    assert not Initiative.objects.filter(pk=pk).exists()
    assert not Gate.objects.filter(initiative_id=pk).exists()
    assert not ChecklistItem.objects.filter(gate__initiative_id=pk).exists()
    assert not StageTransition.objects.filter(initiative_id=pk).exists()
    assert not BusinessCase.objects.filter(initiative_id=pk).exists()
    assert not Target.objects.filter(initiative_id=pk).exists()
    assert not Membership.objects.filter(initiative_id=pk).exists()
    # The audit trail outlives the initiative, keyed by text.
    assert Activity.objects.filter(initiative_key=key, initiative__isnull=True).count() == logged


def test_a_team_with_initiatives_cannot_be_deleted(initiative):
    with pytest.raises(ProtectedError), transaction.atomic():
        initiative.team.delete()


def test_an_owner_or_sponsor_of_an_initiative_cannot_be_deleted(initiative, owner, executive):
    with pytest.raises(ProtectedError), transaction.atomic():
        owner.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        executive.delete()


# --- Business case ------------------------------------------------------------------------


def test_unit_economics_at_1_10_and_100_times_volume(initiative):
    case = business_case_update(
        initiative=initiative,
        actor=initiative.owner,
        cost_per_task_budget="0.02",
        monthly_volume=10_000,
        expected_annual_value="250000",
    )
    rows = case.unit_economics()
    assert [row["multiplier"] for row in rows] == [1, 10, 100]
    assert [row["monthly_volume"] for row in rows] == [10_000, 100_000, 1_000_000]
    assert [row["monthly_cost"] for row in rows] == [Decimal(200), Decimal(2000), Decimal(20000)]
    assert [row["annual_cost"] for row in rows] == [
        Decimal(2400),
        Decimal(24000),
        Decimal(240000),
    ]
    assert rows[2]["annual_value"] == Decimal(25_000_000)


def test_unit_economics_are_zero_without_a_volume(initiative):
    rows = initiative.business_case.unit_economics()
    assert all(row["monthly_cost"] == 0 and row["monthly_volume"] == 0 for row in rows)


def test_total_investment_sums_spent_and_planned(initiative):
    case = business_case_update(
        initiative=initiative,
        actor=initiative.owner,
        investment_to_date=100,
        planned_team_cost=200,
        planned_infra_cost=50,
    )
    assert case.total_investment == Decimal(350)


# --- Derived flags --------------------------------------------------------------------------


@pytest.fixture
def started_on_monday(time_machine, team, owner, executive):
    """An initiative started on 2026-03-02; PoC allows 8 weeks, so it stalls after 2026-04-27."""
    time_machine.move_to(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.UTC), tick=False)
    return InitiativeFactory(team=team, owner=owner, sponsor=executive)


def test_days_in_stage_counts_calendar_days(started_on_monday, time_machine):
    assert started_on_monday.days_in_stage == 0
    time_machine.move_to(datetime.datetime(2026, 3, 12, 10, 0, tzinfo=datetime.UTC), tick=False)
    assert started_on_monday.days_in_stage == 10


def test_initiative_stalls_the_day_after_the_stage_max_runs_out(started_on_monday, time_machine):
    initiative = started_on_monday
    assert initiative.stalls_on == datetime.date(2026, 4, 27)

    time_machine.move_to(datetime.datetime(2026, 4, 27, 23, 0, tzinfo=datetime.UTC), tick=False)
    assert not initiative.is_stalled
    assert not Initiative.objects.stalled().exists()

    time_machine.move_to(datetime.datetime(2026, 4, 28, 1, 0, tzinfo=datetime.UTC), tick=False)
    assert initiative.days_in_stage == 57
    assert initiative.is_stalled
    assert list(Initiative.objects.stalled()) == [initiative]


def test_initiative_is_overdue_once_its_gate_due_date_passes(started_on_monday, time_machine):
    initiative = started_on_monday
    gate = initiative.gates.get()
    assert initiative.gate_due_on == gate.due_on == datetime.date(2026, 4, 27)
    assert not initiative.is_overdue

    time_machine.move_to(datetime.datetime(2026, 4, 28, 1, 0, tzinfo=datetime.UTC), tick=False)
    assert initiative.is_overdue
    assert gate.is_overdue
    assert list(Initiative.objects.overdue()) == [initiative]


def test_an_initiative_on_hold_is_neither_stalled_nor_overdue(started_on_monday, time_machine):
    initiative = started_on_monday
    Initiative.objects.filter(pk=initiative.pk).update(status=Initiative.Status.ON_HOLD)
    initiative.refresh_from_db()
    time_machine.move_to(datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.UTC), tick=False)
    assert not initiative.is_stalled
    assert not initiative.is_overdue
    assert not Initiative.objects.stalled().exists()
    assert not Initiative.objects.overdue().exists()


def test_an_open_ended_stage_never_stalls(initiative):
    scale = initiative.framework.stages.get(key="scale")
    assert scale.expected_range == "open-ended"
    Initiative.objects.filter(pk=initiative.pk).update(
        stage=scale, stalls_on=None, stage_entered_on=datetime.date(2020, 1, 1)
    )
    initiative.refresh_from_db()
    assert initiative.days_in_stage > 365
    assert not initiative.is_stalled


# --- Readiness and composition --------------------------------------------------------------


def test_readiness_counts_required_items_done_or_not_applicable(gate):
    items = list(gate.items.order_by("order"))
    ChecklistItem.objects.filter(pk=items[0].pk).update(state="done")
    ChecklistItem.objects.filter(pk=items[1].pk).update(state="not_applicable", na_reason="n/a")
    # The recommended item does not count, done or not.
    ChecklistItem.objects.filter(pk=items[6].pk).update(state="done")

    assert gate.readiness_counts() == (2, 6)
    assert gate.readiness == pytest.approx(2 / 6)
    annotated = Gate.objects.with_readiness().get(pk=gate.pk)
    assert annotated.readiness_counts() == (2, 6)


def test_composition_gap_lists_unheld_roles_of_this_and_next_stage(initiative, member):
    # PoC recommends ml_engineer and product_manager; MVP adds software_engineer, ux_designer.
    assert initiative.composition_gap() == ["product_manager", "software_engineer", "ux_designer"]
    MembershipFactory(initiative=initiative, stage_role=StageRole.UX_DESIGNER)
    assert initiative.composition_gap() == ["product_manager", "software_engineer"]


def test_target_comparators(initiative):
    at_least = target_create(initiative=initiative, actor=None, metric_key="uptime", threshold=99)
    at_most = target_create(
        initiative=initiative, actor=None, metric_key="latency_p95_ms", threshold=800
    )
    assert at_least.is_satisfied_by(99) and not at_least.is_satisfied_by(98.9)
    assert at_most.is_satisfied_by(800) and not at_most.is_satisfied_by(801)
