"""Every list endpoint runs a constant number of queries, whatever the number of rows."""

from __future__ import annotations

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gates.services import measurement_record
from initiatives.activity import portfolio_changed
from teams.services import team_member_add
from tests.api.helpers import _fresh_throttle_cache, token_client  # noqa: F401
from tests.factories import InitiativeFactory, MembershipFactory, TargetFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/initiatives/",
    "/api/v1/gates/",
    "/api/v1/checklist-items/",
    "/api/v1/transitions/",
    "/api/v1/targets/",
    "/api/v1/activity/",
    "/api/v1/teams/",
    "/api/v1/portfolio/summary/",
]


def _grow(team, count):
    for initiative in InitiativeFactory.create_batch(count, team=team):
        TargetFactory(initiative=initiative)
        MembershipFactory(initiative=initiative)


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("persona", ["viewer", "team_lead"])
def test_list_queries_are_constant(request, path, persona, team, initiative):
    client = token_client(request.getfixturevalue(persona))
    client.get("/api/v1/")  # stamps the token's last_used_at before measuring

    def count():
        cache.clear()  # count the rows anew, rather than reuse a count kept for readers of all
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, {"page_size": 100} if "summary" not in path else {})
        assert response.status_code == 200
        return len(queries)

    _grow(team, 2)
    small = count()
    _grow(team, 12)
    assert count() == small


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        # The token with its user, the user's roles, the page with its tags: the count is
        # kept per portfolio version, shared by readers of everything...
        ("viewer", 3),
        # ... and kept for one person, for someone who sees only their teams' initiatives.
        ("team_lead", 3),
    ],
)
def test_initiative_list_queries(request, persona, expected, team, initiative):
    initiative.tags.create(name="vision")
    client = token_client(request.getfixturevalue(persona))
    client.get("/api/v1/initiatives/")  # stamps last_used_at; keeps the count
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/initiatives/", {"page_size": 100})
    assert response.status_code == 200
    assert response.json()["results"][0]["tags"] == ["vision"]
    # Elsewhere than on PostgreSQL the page's tags are a query of their own.
    tags_apart = 0 if connection.vendor == "postgresql" else 1
    assert len(queries) == expected + tags_apart, [query["sql"] for query in queries]


@pytest.mark.skipif(
    not isinstance(caches["default"], RedisCache), reason="counts round trips to Redis"
)
def test_initiative_list_makes_two_round_trips_to_redis(monkeypatch, viewer, initiative):
    """The token's throttle count is one (it was three: add, then incr, which asks first
    whether the key exists); the portfolio version and the kept count one more (two)."""
    from redis.connection import Connection

    client = token_client(viewer)
    client.get("/api/v1/initiatives/")  # connects, and keeps the count
    sent = []
    send = Connection.send_packed_command

    def counted(self, command, *args, **kwargs):
        sent.append(command)
        return send(self, command, *args, **kwargs)

    monkeypatch.setattr(Connection, "send_packed_command", counted)
    assert client.get("/api/v1/initiatives/").status_code == 200
    assert len(sent) == 2, sent


def test_a_kept_count_lasts_until_the_portfolio_changes(
    django_capture_on_commit_callbacks, viewer, team, initiative
):
    client = token_client(viewer)
    assert client.get("/api/v1/initiatives/").json()["count"] == 1
    InitiativeFactory(team=team)  # written behind the activity log's back: still 1
    assert client.get("/api/v1/initiatives/").json()["count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        portfolio_changed()
    assert client.get("/api/v1/initiatives/").json()["count"] == 2


def test_a_count_kept_for_one_person_is_theirs_and_follows_their_teams(
    django_capture_on_commit_callbacks, outsider, team_lead, team, initiative
):
    lead, stranger = token_client(team_lead), token_client(outsider)
    assert lead.get("/api/v1/initiatives/").json()["count"] == 1
    assert stranger.get("/api/v1/initiatives/").json()["count"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        team_member_add(team=team, user=outsider)
    assert stranger.get("/api/v1/initiatives/").json()["count"] == 1


def test_a_reading_that_flips_no_target_still_shows_in_a_sync_by_updated_since(
    django_capture_on_commit_callbacks, viewer, initiative
):
    """A reading moves its initiative's updated_at, and only a reading that flips a target
    is logged (and moves the portfolio version on): a count kept for `updated_since`
    answered 0 and so hid the changed initiative from the integration syncing by it."""
    client = token_client(viewer)
    target = TargetFactory(initiative=initiative)
    with django_capture_on_commit_callbacks(execute=True):
        measurement_record(target=target, value=95.0, actor=viewer)  # no data → met
    since = timezone.now().isoformat()
    assert client.get("/api/v1/initiatives/", {"updated_since": since}).json()["count"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        measurement_record(target=target, value=96.0, actor=viewer)  # still met
    body = client.get("/api/v1/initiatives/", {"updated_since": since}).json()
    assert body["count"] == 1
    assert [row["key"] for row in body["results"]] == [initiative.key]
