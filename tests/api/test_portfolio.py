"""Portfolio summary, activity feed and teams over the API."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gates.services import measurement_record
from initiatives.models import Initiative
from tests.api.helpers import _fresh_throttle_cache, assert_error_shape, token_client  # noqa: F401
from tests.factories import InitiativeFactory, TargetFactory

pytestmark = pytest.mark.django_db


def test_summary_counts(initiative, other_initiative, viewer, owner):
    met = TargetFactory(initiative=initiative, metric_key="accuracy", threshold=90)
    missed = TargetFactory(initiative=initiative, metric_key="uptime", threshold=99)
    TargetFactory(initiative=other_initiative, metric_key="accuracy", threshold=90)
    measurement_record(target=met, value=95, actor=owner)
    measurement_record(target=missed, value=90, actor=owner)
    long_ago = timezone.localdate() - datetime.timedelta(days=300)
    Initiative.objects.filter(pk=initiative.pk).update(gate_due_on=long_ago, stalls_on=long_ago)
    Initiative.objects.filter(pk=other_initiative.pk).update(status="on_hold")

    summary = token_client(viewer).get("/api/v1/portfolio/summary/").json()
    assert summary["total"] == 2
    assert summary["by_stage"] == [
        {"framework": "ai-maturity", "stage": "poc", "stage_name": "Proof of concept", "count": 2}
    ]
    assert summary["by_status"] == {"active": 1, "on_hold": 1, "stopped": 0, "completed": 0}
    assert summary["overdue"] == 1 and summary["stalled"] == 1
    assert summary["targets"] == {"met": 1, "missed": 1, "no_data": 1}
    # The owner sees only their own initiative.
    assert token_client(owner).get("/api/v1/portfolio/summary/").json()["total"] == 1


@pytest.mark.parametrize("persona", ["viewer", "team_lead"])
def test_summary_query_count_is_constant(request, persona, team, initiative):
    client = token_client(request.getfixturevalue(persona))
    client.get("/api/v1/")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/portfolio/summary/").status_code == 200
        return len(queries)

    small = count()
    for created in InitiativeFactory.create_batch(10, team=team):
        TargetFactory(initiative=created)
    assert count() == small


def test_activity_feed_filters(initiative, other_initiative, owner, viewer):
    client = token_client(owner)
    rows = client.get("/api/v1/activity/").json()["results"]
    assert rows and {row["initiative"] for row in rows} == {initiative.key}
    everyone = token_client(viewer).get("/api/v1/activity/").json()["results"]
    assert {row["initiative"] for row in everyone} == {initiative.key, other_initiative.key}
    by_key = token_client(viewer).get("/api/v1/activity/", {"initiative": other_initiative.key})
    assert {row["initiative"] for row in by_key.json()["results"]} == {other_initiative.key}
    future = (timezone.now() + datetime.timedelta(minutes=5)).isoformat()
    assert client.get("/api/v1/activity/", {"since": future}).json()["count"] == 0
    assert_error_shape(client.get("/api/v1/activity/", {"since": "soon"}), 400)


def test_activity_list_query_count_is_constant(viewer, team, initiative):
    client = token_client(viewer)
    client.get("/api/v1/")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/activity/", {"page_size": 100}).status_code == 200
        return len(queries)

    small = count()
    InitiativeFactory.create_batch(10, team=team)
    assert count() == small


def test_teams_are_read_only_and_scoped(team, other_team, team_lead, other_pm, outsider, viewer):
    rows = token_client(team_lead).get("/api/v1/teams/").json()["results"]
    assert [row["slug"] for row in rows] == [team.slug]
    assert rows[0]["memberships"][0]["user"]["username"] == "lead"
    assert token_client(outsider).get("/api/v1/teams/").json()["count"] == 0
    assert token_client(viewer).get("/api/v1/teams/").json()["count"] == 2
    assert token_client(team_lead).get(f"/api/v1/teams/{team.slug}/").status_code == 200
    assert_error_shape(token_client(team_lead).get(f"/api/v1/teams/{other_team.slug}/"), 404)
    assert_error_shape(
        token_client(team_lead).post("/api/v1/teams/", {"name": "x"}, format="json"), 405
    )
