"""Business cases and the people on an initiative's team."""

import pytest
from django.core.exceptions import ValidationError

from initiatives.models import (
    Activity,
    Membership,
)
from initiatives.services import business_case_update, membership_add, membership_remove
from teams.roles import StageRole
from tests.gates.helpers import (
    verbs,
)

pytestmark = pytest.mark.django_db


# --- Business case ------------------------------------------------------------------------


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


# --- Team members -------------------------------------------------------------------------


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
