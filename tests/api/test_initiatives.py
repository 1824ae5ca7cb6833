"""Initiatives over the API: visibility, filters, writes through the policy, ETag/If-Match."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apiauth.models import ApiToken
from initiatives.models import Initiative
from tests.api.helpers import _fresh_throttle_cache, assert_error_shape, token_client  # noqa: F401
from tests.factories import InitiativeFactory, TargetFactory

pytestmark = pytest.mark.django_db


def url(initiative=None):
    return f"/api/v1/initiatives/{initiative.key}/" if initiative else "/api/v1/initiatives/"


def keys(response):
    return [row["key"] for row in response.json()["results"]]


def test_list_shows_only_what_the_user_can_see(initiative, other_initiative, owner, outsider):
    assert keys(token_client(owner).get(url())) == [initiative.key]
    assert keys(token_client(outsider).get(url())) == []


def test_executive_and_viewer_read_everything(initiative, other_initiative, executive, viewer):
    for user in (executive, viewer):
        assert keys(token_client(user).get(url())) == [initiative.key, other_initiative.key]


def test_outsider_gets_404_not_403(initiative, outsider):
    assert_error_shape(token_client(outsider).get(url(initiative)), 404, "not_found")


def test_retrieve_sends_an_etag_from_the_version(initiative, member):
    response = token_client(member).get(url(initiative))
    assert response.status_code == 200
    assert response["ETag"] == f'"{initiative.version}"'
    assert response.json()["stage"]["key"] == "poc"


def test_filters(initiative, other_initiative, viewer, owner):
    client = token_client(viewer)
    assert keys(client.get(url(), {"team": "support-ai"})) == [initiative.key]
    assert keys(client.get(url(), {"owner": "pm2"})) == [other_initiative.key]
    assert keys(client.get(url(), {"framework": "ai-maturity", "stage": "poc"})) == [
        initiative.key,
        other_initiative.key,
    ]
    assert keys(client.get(url(), {"status": "stopped"})) == []
    assert keys(client.get(url(), {"stage": "mvp"})) == []
    assert keys(client.get(url(), {"overdue": "true"})) == []
    assert len(keys(client.get(url(), {"overdue": "false", "stalled": "false"}))) == 2
    future = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    assert keys(client.get(url(), {"updated_since": future})) == []


def test_overdue_and_stalled_filters(viewer, initiative, other_initiative):
    long_ago = timezone.localdate() - datetime.timedelta(days=200)
    Initiative.objects.filter(pk=initiative.pk).update(gate_due_on=long_ago, stalls_on=long_ago)
    client = token_client(viewer)
    assert keys(client.get(url(), {"overdue": "true"})) == [initiative.key]
    assert keys(client.get(url(), {"stalled": "true"})) == [initiative.key]
    assert keys(client.get(url(), {"stalled": "false"})) == [other_initiative.key]


@pytest.mark.slow  # a hundred initiatives
def test_ordering_and_page_size_cap(
    viewer, initiative, other_initiative, django_capture_on_commit_callbacks
):
    client = token_client(viewer)
    assert keys(client.get(url(), {"ordering": "-key"})) == [other_initiative.key, initiative.key]
    response = client.get(url(), {"page_size": 1})
    assert response.json()["count"] == 2 and len(response.json()["results"]) == 1
    # Committed, so the count kept for readers of everything moves on too.
    with django_capture_on_commit_callbacks(execute=True):
        InitiativeFactory.create_batch(101 - 2, team=initiative.team)
    assert len(client.get(url(), {"page_size": 100}).json()["results"]) == 100
    # Over the cap is refused by name, not quietly cut to 100.
    assert "page_size" in client.get(url(), {"page_size": 1000}).json()["errors"]


def test_bad_filters_are_400(viewer):
    client = token_client(viewer)
    assert_error_shape(client.get(url(), {"status": "sleeping"}), 400, "invalid")
    assert_error_shape(client.get(url(), {"updated_since": "yesterday"}), 400, "invalid")
    assert_error_shape(client.get(url(), {"overdue": "maybe"}), 400, "invalid")


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(), {"page_size": 100})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["viewer", "team_lead"])
def test_list_query_count_does_not_grow_with_rows(request, persona, team, initiative):
    user = request.getfixturevalue(persona)
    client = token_client(user)
    InitiativeFactory.create_batch(2, team=team)
    client.get(url())  # the first request also stamps the token's last_used_at
    small = _list_queries(client)
    for created in InitiativeFactory.create_batch(20, team=team):
        created.tags.create(name=f"tag-{created.pk}")
    assert _list_queries(client) == small


def test_create_by_a_product_manager(owner, executive, team):
    response = token_client(owner).post(
        url(),
        {"name": "Churn prediction", "team": team.slug, "sponsor": executive.username},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"]["username"] == owner.username
    assert body["stage"]["key"] == "poc"
    assert Initiative.objects.get(key=body["key"]).gates.count() == 1


@pytest.mark.parametrize("persona", ["viewer", "member", "executive"])
def test_create_is_refused_to_non_managers(request, persona, team, owner):
    user = request.getfixturevalue(persona)
    response = token_client(user).post(
        url(), {"name": "X", "team": team.slug, "sponsor": owner.username}, format="json"
    )
    assert_error_shape(response, 403, "permission_denied")


def test_create_rejects_unknown_fields_and_bad_choices(owner, executive, team):
    client = token_client(owner)
    body = {"name": "X", "team": team.slug, "sponsor": executive.username}
    error = assert_error_shape(client.post(url(), {**body, "colour": "red"}, format="json"), 400)
    assert "colour" in error["errors"]
    error = assert_error_shape(
        client.post(url(), {**body, "maturity_level": 7}, format="json"), 400
    )
    assert "maturity_level" in error["errors"]
    error = assert_error_shape(client.post(url(), {**body, "team": "nope"}, format="json"), 400)
    assert "team" in error["errors"]


def test_owner_patches_and_the_etag_moves(initiative, owner):
    client = token_client(owner)
    etag = client.get(url(initiative))["ETag"]
    response = client.patch(
        url(initiative), {"name": "Renamed", "tags": ["nlp"]}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Renamed"
    assert response.json()["tags"] == ["nlp"]
    assert response["ETag"] != etag


def test_stale_if_match_is_412(initiative, owner):
    client = token_client(owner)
    etag = client.get(url(initiative))["ETag"]
    first = client.patch(url(initiative), {"name": "One"}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    response = client.patch(url(initiative), {"name": "Two"}, format="json", HTTP_IF_MATCH=etag)
    assert_error_shape(response, 412, "precondition_failed")
    assert Initiative.objects.get(pk=initiative.pk).name == "One"


def test_garbage_if_match_is_400(initiative, owner):
    response = token_client(owner).patch(
        url(initiative), {"name": "x"}, format="json", HTTP_IF_MATCH="not-a-version"
    )
    assert_error_shape(response, 400, "invalid")


def test_put_needs_every_field(initiative, owner, executive):
    client = token_client(owner)
    assert_error_shape(client.put(url(initiative), {"name": "x"}, format="json"), 400)
    full = {
        "name": "Full",
        "summary": "s",
        "problem": "p",
        "team": initiative.team.slug,
        "owner": owner.username,
        "sponsor": executive.username,
        "maturity_level": 1,
    }
    response = client.put(url(initiative), full, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code in (200, 412)
    response = client.put(url(initiative), full, format="json")
    assert response.status_code == 200 and response.json()["maturity_level"] == 1


@pytest.mark.parametrize("persona", ["viewer", "member", "executive"])
def test_readers_cannot_patch(request, persona, initiative):
    user = request.getfixturevalue(persona)
    response = token_client(user).patch(url(initiative), {"name": "x"}, format="json")
    assert_error_shape(response, 403)


def test_outsider_patch_is_404(initiative, outsider):
    response = token_client(outsider).patch(url(initiative), {"name": "x"}, format="json")
    assert_error_shape(response, 404)


def test_team_lead_may_edit(initiative, team_lead):
    response = token_client(team_lead).patch(url(initiative), {"summary": "new"}, format="json")
    assert response.status_code == 200


def test_business_case_update_keeps_revisions(initiative, owner, viewer):
    client = token_client(owner)
    response = client.patch(
        f"{url(initiative)}business-case/",
        {"expected_annual_value": "120000.00", "monthly_volume": 1000},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["unit_economics"][1]["monthly_volume"] == 10000
    revisions = client.get(f"{url(initiative)}business-case/revisions/").json()["results"]
    assert revisions[0]["number"] == 1
    assert set(revisions[0]["changes"]) == {"expected_annual_value", "monthly_volume"}
    bad = client.patch(
        f"{url(initiative)}business-case/", {"expected_annual_value": "-1"}, format="json"
    )
    assert_error_shape(bad, 400)
    denied = token_client(viewer).patch(
        f"{url(initiative)}business-case/", {"monthly_volume": 1}, format="json"
    )
    assert_error_shape(denied, 403)


def test_targets_create_and_list(initiative, owner, member):
    client = token_client(owner)
    response = client.post(
        f"{url(initiative)}targets/", {"metric_key": "accuracy", "threshold": 90}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["comparator"] == ">="
    duplicate = client.post(
        f"{url(initiative)}targets/", {"metric_key": "accuracy", "threshold": 80}, format="json"
    )
    assert_error_shape(duplicate, 400)
    bad = client.post(
        f"{url(initiative)}targets/",
        {"metric_key": "x", "threshold": 1, "comparator": "=="},
        format="json",
    )
    assert "comparator" in assert_error_shape(bad, 400)["errors"]
    listed = token_client(member).get(f"{url(initiative)}targets/").json()["results"]
    assert [t["metric_key"] for t in listed] == ["accuracy"]
    denied = token_client(member).post(
        f"{url(initiative)}targets/", {"metric_key": "uptime", "threshold": 99}, format="json"
    )
    assert_error_shape(denied, 403)


def test_memberships_and_clearance_read(initiative, member):
    client = token_client(member, scope=ApiToken.Scope.READ)
    memberships = client.get(f"{url(initiative)}memberships/").json()["results"]
    assert [m["user"]["username"] for m in memberships] == ["contrib"]
    clearance = client.get(f"{url(initiative)}clearance/", {"stage": "poc"}).json()
    assert clearance["cleared"] is False and clearance["decision"] is None
    assert_error_shape(client.get(f"{url(initiative)}clearance/"), 400)
    assert_error_shape(client.get(f"{url(initiative)}clearance/", {"stage": "nope"}), 400)


def test_top_level_targets_list_is_filtered_by_visibility(initiative, other_initiative, owner):
    TargetFactory(initiative=initiative, metric_key="accuracy")
    TargetFactory(initiative=other_initiative, metric_key="uptime", threshold=99)
    rows = token_client(owner).get("/api/v1/targets/").json()["results"]
    assert [row["initiative"] for row in rows] == [initiative.key]


def test_an_owner_cannot_name_themselves_sponsor(owner, team):
    # The sponsor is the default gatekeeper: self-sponsorship would be self-approval.
    response = token_client(owner).post(
        url(),
        {"name": "Self-approved", "team": team.slug, "sponsor": owner.username},
        format="json",
    )
    error = assert_error_shape(response, 400)
    assert "sponsor" in error["errors"]
    assert not Initiative.objects.filter(name="Self-approved").exists()


def test_patching_the_sponsor_to_the_owner_is_refused(initiative, owner):
    response = token_client(owner).patch(
        url(initiative), {"sponsor": owner.username}, format="json"
    )
    error = assert_error_shape(response, 400)
    assert "sponsor" in error["errors"]


def test_handing_an_initiative_to_someone_else_answers_with_the_result(initiative, owner, other_pm):
    # The owner gives the initiative away and may no longer read it: still a clean 200.
    response = token_client(owner).patch(
        url(initiative), {"owner": other_pm.username}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["owner"]["username"] == other_pm.username


@pytest.mark.parametrize("tags_apart", [False, True], ids=["tags-in-rows", "tags-apart"])
@pytest.mark.parametrize("persona", ["viewer", "owner", "team_lead"])
def test_list_rows_match_the_model_serializer_field_for_field(
    request, persona, tags_apart, monkeypatch, team, initiative, other_initiative
):
    """The list is built from plain values for speed; it must say exactly what
    InitiativeSerializer (the documented schema) says of each initiative. Its tags
    come with the rows on PostgreSQL, and from a query of their own elsewhere."""
    from initiatives.api import serializers
    from initiatives.api.serializers import InitiativeSerializer

    if tags_apart:
        monkeypatch.setattr(serializers, "_tags_in_rows", lambda: False)
    user = request.getfixturevalue(persona)
    extra = InitiativeFactory(team=team, name="Tagged, stalled and on hold")
    extra.tags.create(name="zeta")
    extra.tags.create(name="alpha")
    Initiative.objects.filter(pk=extra.pk).update(
        status=Initiative.Status.ON_HOLD, stalls_on=timezone.localdate() - datetime.timedelta(3)
    )
    Initiative.objects.filter(pk=initiative.pk).update(
        stalls_on=timezone.localdate() - datetime.timedelta(3),
        gate_due_on=timezone.localdate() - datetime.timedelta(1),
    )
    listed = token_client(user).get(url(), {"page_size": 100}).json()["results"]
    expected = InitiativeSerializer(
        Initiative.objects.visible_to(user).order_by("key"), many=True
    ).data
    assert listed
    assert listed == [dict(row) for row in expected]
    # The owner is on the team (owners join their initiative's team), so all three see it.
    assert any(row["tags"] == ["alpha", "zeta"] for row in listed)
    assert any(row["is_overdue"] for row in listed)


def test_list_times_are_written_in_the_current_time_zone_as_the_serializer_does(
    settings, viewer, initiative
):
    from initiatives.api.serializers import InitiativeSerializer

    settings.TIME_ZONE = "Asia/Kolkata"
    listed = token_client(viewer).get(url()).json()["results"]
    expected = InitiativeSerializer(Initiative.objects.order_by("key"), many=True).data
    assert [(row["created_at"], row["updated_at"]) for row in listed] == [
        (row["created_at"], row["updated_at"]) for row in expected
    ]
    assert listed[0]["created_at"].endswith("+05:30")
