"""A small hand-built portfolio whose every dashboard figure is worked out by hand in the tests.

Today is Monday 15 June 2026. All six initiatives follow the default ai-maturity
framework: Proof of concept (4-8 weeks), MVP (8-16), Production (4-8), Scale (open).
Team A is `team` (owner `owner`), team B is `other_team` (owner `other_pm`).

    A1  started 2026-01-05; MVP 2026-02-16; Production 2026-05-11  active, 500k, invested 160k
    A2  started 2026-02-02; still in PoC (stalled since 2026-03-30)  active, value 100k
    A3  started 2025-03-03; MVP 2025-04-14; Production 2025-08-04; Scale 2025-09-29
                                                                     active, value 2M, invested 400k
    A4  started 2026-04-20; stopped in PoC                           stopped, value 50k
    B1  started 2026-03-02; MVP 2026-04-13                           active, value 300k
    B2  started 2025-11-03; MVP 2025-12-29 (stalled since 2026-04-20) active, no value
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from gates.models import Decision, Gate, StageTransition
from gates.services import gate_open
from initiatives.models import Initiative, Target, stalls_on_for
from teams.roles import StageRole
from tests.factories import InitiativeFactory, MembershipFactory, TargetFactory, UserFactory

TODAY = datetime.date(2026, 6, 15)


def at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 0)))


def advance(initiative: Initiative, stage_key: str, on: datetime.date) -> Initiative:
    """Move an initiative to the next stage on a given day, as a go decision would."""
    stage = initiative.framework.stages.get(key=stage_key)
    gate = initiative.gates.get(state__in=[Gate.State.OPEN, Gate.State.IN_REVIEW])
    Gate.objects.filter(pk=gate.pk).update(
        state=Gate.State.DECIDED, decision=Decision.GO, decided_at=at(on)
    )
    StageTransition.objects.create(
        initiative=initiative,
        from_stage=initiative.stage,
        to_stage=stage,
        gate=gate,
        decision=Decision.GO,
        decided_by=initiative.sponsor,
        transitioned_at=at(on),
    )
    initiative.stage = stage
    initiative.stage_entered_on = on
    initiative.stalls_on = stalls_on_for(stage, on)
    initiative.save(update_fields=["stage", "stage_entered_on", "stalls_on"])
    gate_open(initiative=initiative, stage=stage, actor=initiative.owner, opened_on=on)
    return initiative


def stop(initiative: Initiative, on: datetime.date) -> None:
    Gate.objects.filter(initiative=initiative, state=Gate.State.OPEN).update(
        state=Gate.State.DECIDED, decision=Decision.STOP, decided_at=at(on)
    )
    Initiative.objects.filter(pk=initiative.pk).update(
        status=Initiative.Status.STOPPED, gate_due_on=None
    )


def case(value: int, invested: int = 0, team_cost: int = 0, infra_cost: int = 0) -> dict:
    return {
        "expected_annual_value": Decimal(value),
        "investment_to_date": Decimal(invested),
        "planned_team_cost": Decimal(team_cost),
        "planned_infra_cost": Decimal(infra_cost),
    }


def target(initiative: Initiative, metric_key: str, status: str) -> Target:
    made = TargetFactory(initiative=initiative, metric_key=metric_key)
    Target.objects.filter(pk=made.pk).update(status=status)
    return made


@pytest.fixture
def today(time_machine):
    time_machine.move_to(at(TODAY).replace(hour=12), tick=False)
    return TODAY


@pytest.fixture
def portfolio(today, team, owner, executive, other_team, other_pm, other_executive):
    def start(name, on, team_, owner_, sponsor, value):
        return InitiativeFactory(
            name=name,
            team=team_,
            owner=owner_,
            sponsor=sponsor,
            entered_on=on,
            business_case=value,
        )

    d = datetime.date
    a1 = start(
        "Support reply drafting",
        d(2026, 1, 5),
        team,
        owner,
        executive,
        case(500_000, 120_000, 30_000, 10_000),
    )
    advance(a1, "mvp", d(2026, 2, 16))
    advance(a1, "production", d(2026, 5, 11))

    a2 = start("Ticket triage", d(2026, 2, 2), team, owner, executive, case(100_000))

    a3 = start("Knowledge answers", d(2025, 3, 3), team, owner, executive, case(2_000_000, 400_000))
    advance(a3, "mvp", d(2025, 4, 14))
    advance(a3, "production", d(2025, 8, 4))
    advance(a3, "scale", d(2025, 9, 29))

    a4 = start("Call summaries", d(2026, 4, 20), team, owner, executive, case(50_000))
    stop(a4, d(2026, 5, 4))

    b1 = start(
        "Invoice matching", d(2026, 3, 2), other_team, other_pm, other_executive, case(300_000)
    )
    advance(b1, "mvp", d(2026, 4, 13))

    b2 = start("Expense auditing", d(2025, 11, 3), other_team, other_pm, other_executive, case(0))
    advance(b2, "mvp", d(2025, 12, 29))

    # Production bar of the active initiatives: 2 met of 4; the stopped one's target is ignored.
    target(a1, "accuracy", Target.Status.MET)
    target(a1, "latency_p95_ms", Target.Status.MISSED)
    target(a2, "accuracy", Target.Status.NO_DATA)
    target(b1, "uptime", Target.Status.MET)
    target(a4, "accuracy", Target.Status.MET)

    # B1 holds every role of MVP and Production: no gap. A2 has half the PoC/MVP roles.
    for role in [
        StageRole.ML_ENGINEER,
        StageRole.PRODUCT_MANAGER,
        StageRole.SOFTWARE_ENGINEER,
        StageRole.UX_DESIGNER,
        StageRole.DATA_ENGINEER,
        StageRole.MLOPS_ENGINEER,
    ]:
        MembershipFactory(initiative=b1, user=UserFactory(), stage_role=role)
    for role in [StageRole.ML_ENGINEER, StageRole.PRODUCT_MANAGER]:
        MembershipFactory(initiative=a2, user=UserFactory(), stage_role=role)

    return SimpleNamespace(
        **{
            name: Initiative.objects.get(pk=obj.pk)
            for name, obj in {"a1": a1, "a2": a2, "a3": a3, "a4": a4, "b1": b1, "b2": b2}.items()
        }
    )
