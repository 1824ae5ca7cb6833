"""The initiative page shows unit economics only once there is a volume to compute them from."""

from __future__ import annotations

from decimal import Decimal

import pytest

from initiatives.services import business_case_update

pytestmark = pytest.mark.django_db

TABLE = "<caption>Unit economics at scale</caption>"
EMPTY = 'id="unit-economics-empty"'


def test_a_new_business_case_shows_where_unit_economics_come_from_not_a_table_of_zeros(
    client, owner, initiative
):
    business_case_update(initiative=initiative, actor=owner, outcome="Faster replies.")
    client.force_login(owner)

    page = client.get(f"/initiatives/{initiative.key}/").content.decode()

    assert TABLE not in page
    assert EMPTY in page


def test_with_a_volume_the_table_shows_the_figures(client, owner, initiative):
    business_case_update(
        initiative=initiative,
        actor=owner,
        monthly_volume=1000,
        cost_per_task_budget=Decimal("0.01"),
        expected_annual_value=Decimal("5000"),
    )
    client.force_login(owner)

    page = client.get(f"/initiatives/{initiative.key}/").content.decode()

    assert TABLE in page
    assert EMPTY not in page
    assert "100,000" in page  # tasks a month at 100x
