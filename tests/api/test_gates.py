"""Gates, checklist items and transitions over the API."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apiauth.models import IdempotencyKey
from gates.models import ChecklistItem, Gate
from tests.api.helpers import _fresh_throttle_cache, assert_error_shape, token_client  # noqa: F401
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


def item_url(item):
    return f"/api/v1/checklist-items/{item.pk}/"


def _clear_required_items(gate):
    gate.items.filter(required=True).update(state="done")


def test_gate_list_and_detail(gate, member, outsider):
    client = token_client(member)
    rows = client.get("/api/v1/gates/", {"initiative": gate.initiative.key}).json()["results"]
    assert rows[0]["id"] == gate.pk
    assert rows[0]["readiness"] == {"cleared": 0, "required": 6, "ratio": 0.0}
    assert rows[0]["gatekeepers"] == ["exec"]
    detail = client.get(f"/api/v1/gates/{gate.pk}/")
    assert detail["ETag"] == f'"{gate.version}"'
    assert len(detail.json()["items"]) == 7
    assert_error_shape(token_client(outsider).get(f"/api/v1/gates/{gate.pk}/"), 404)
    assert token_client(outsider).get("/api/v1/gates/").json()["count"] == 0
    assert_error_shape(client.get("/api/v1/gates/", {"state": "closed"}), 400)


def test_gate_list_query_count_is_constant(viewer, team, initiative):
    client = token_client(viewer)
    client.get("/api/v1/gates/")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/gates/", {"page_size": 100}).status_code == 200
        return len(queries)

    small = count()
    InitiativeFactory.create_batch(10, team=team)
    assert count() == small


def test_member_ticks_an_item_with_etag(gate, member):
    item = gate.items.get(order=2)
    client = token_client(member)
    etag = client.get(item_url(item))["ETag"]
    response = client.patch(
        item_url(item),
        {"state": "done", "evidence_url": "https://example.com/run/1", "note": "load test"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "done"
    assert response["ETag"] == '"2"'
    stale = client.patch(item_url(item), {"note": "again"}, format="json", HTTP_IF_MATCH=etag)
    assert_error_shape(stale, 412, "precondition_failed")


def test_item_validation(gate, member):
    item = gate.items.get(order=2)
    client = token_client(member)
    error = assert_error_shape(
        client.patch(item_url(item), {"state": "not_applicable"}, format="json"), 400
    )
    assert "na_reason" in error["errors"]
    error = assert_error_shape(
        client.patch(item_url(item), {"state": "finished"}, format="json"), 400
    )
    assert "state" in error["errors"]
    error = assert_error_shape(
        client.patch(item_url(item), {"evidence_url": "ftp://x"}, format="json"), 400
    )
    assert "evidence_url" in error["errors"]
    error = assert_error_shape(
        client.patch(item_url(item), {"text": "rewrite"}, format="json"), 400
    )
    assert error["errors"] == {"text": ["Unknown field."]}
    na = client.patch(
        item_url(item), {"state": "not_applicable", "na_reason": "Single tenant"}, format="json"
    )
    assert na.status_code == 200


def test_item_permissions(gate, viewer, outsider, executive):
    item = gate.items.first()
    assert_error_shape(
        token_client(viewer).patch(item_url(item), {"note": "x"}, format="json"), 403
    )
    assert_error_shape(
        token_client(executive).patch(item_url(item), {"note": "x"}, format="json"), 403
    )
    assert_error_shape(
        token_client(outsider).patch(item_url(item), {"note": "x"}, format="json"), 404
    )
    assert_error_shape(token_client(viewer).put(item_url(item), {"note": "x"}, format="json"), 405)


def test_items_list_filters_by_gate(gate, member):
    client = token_client(member)
    assert client.get("/api/v1/checklist-items/", {"gate": gate.pk}).json()["count"] == 7
    assert_error_shape(client.get("/api/v1/checklist-items/", {"gate": "x"}), 400)


def test_review_and_decision_flow(gate, owner, executive, member, viewer):
    assert_error_shape(token_client(member).post(f"/api/v1/gates/{gate.pk}/request-review/"), 403)
    # Deciding before a review is a state conflict.
    early = token_client(executive).post(
        f"/api/v1/gates/{gate.pk}/decide/", {"decision": "go", "rationale": "x"}, format="json"
    )
    assert_error_shape(early, 409, "invalid_state")
    response = token_client(owner).post(f"/api/v1/gates/{gate.pk}/request-review/")
    assert response.status_code == 200 and response.json()["state"] == "in_review"
    again = token_client(owner).post(f"/api/v1/gates/{gate.pk}/request-review/")
    assert_error_shape(again, 409, "invalid_state")

    assert_error_shape(
        token_client(viewer).post(
            f"/api/v1/gates/{gate.pk}/decide/", {"decision": "go", "rationale": "x"}, format="json"
        ),
        403,
    )
    client = token_client(executive)
    missing = client.post(f"/api/v1/gates/{gate.pk}/decide/", {"decision": "go"}, format="json")
    assert "rationale" in assert_error_shape(missing, 400)["errors"]
    wrong = client.post(
        f"/api/v1/gates/{gate.pk}/decide/", {"decision": "maybe", "rationale": "x"}, format="json"
    )
    assert "decision" in assert_error_shape(wrong, 400)["errors"]
    # Go with open required items needs an override: the service's field error comes through.
    override = client.post(
        f"/api/v1/gates/{gate.pk}/decide/", {"decision": "go", "rationale": "x"}, format="json"
    )
    assert "override_justification" in assert_error_shape(override, 400)["errors"]
    decided = client.post(
        f"/api/v1/gates/{gate.pk}/decide/",
        {"decision": "conditional_go", "rationale": "Promising PoC"},
        format="json",
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["decision"] == "conditional_go"
    twice = client.post(
        f"/api/v1/gates/{gate.pk}/decide/", {"decision": "stop", "rationale": "x"}, format="json"
    )
    assert_error_shape(twice, 409, "already_decided")

    initiative_url = f"/api/v1/initiatives/{gate.initiative.key}/"
    clearance = token_client(member).get(f"{initiative_url}clearance/", {"stage": "poc"}).json()
    assert clearance["cleared"] is True
    assert clearance["decision"] == "conditional_go"
    assert clearance["decided_by"] == "exec"
    assert clearance["snapshot"]["readiness"]["required"] == 6
    assert (
        token_client(member).get(f"{initiative_url}clearance/", {"stage": "mvp"}).json()["cleared"]
        is False
    )
    transitions = (
        token_client(member)
        .get("/api/v1/transitions/", {"initiative": gate.initiative.key})
        .json()["results"]
    )
    assert [t["to_stage"]["key"] for t in transitions] == ["poc", "mvp"]


def test_hold_is_not_clearance(gate, owner, executive):
    token_client(owner).post(f"/api/v1/gates/{gate.pk}/request-review/")
    token_client(executive).post(
        f"/api/v1/gates/{gate.pk}/decide/",
        {"decision": "hold", "rationale": "Budget"},
        format="json",
    )
    clearance = (
        token_client(owner)
        .get(f"/api/v1/initiatives/{gate.initiative.key}/clearance/", {"stage": "poc"})
        .json()
    )
    assert clearance == {**clearance, "cleared": False, "decision": "hold"}


def test_decide_is_idempotent(gate, owner, executive):
    token_client(owner).post(f"/api/v1/gates/{gate.pk}/request-review/")
    client = token_client(executive)
    body = {"decision": "recycle", "rationale": "More data needed"}
    first = client.post(
        f"/api/v1/gates/{gate.pk}/decide/", body, format="json", HTTP_IDEMPOTENCY_KEY="d-1"
    )
    assert first.status_code == 200, first.content
    replay = client.post(
        f"/api/v1/gates/{gate.pk}/decide/", body, format="json", HTTP_IDEMPOTENCY_KEY="d-1"
    )
    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert gate.decisions.count() == 1
    other = client.post(
        f"/api/v1/gates/{gate.pk}/decide/",
        {**body, "decision": "stop"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="d-1",
    )
    assert_error_shape(other, 422, "idempotency_key_reused")
    assert IdempotencyKey.objects.get(key="d-1").state == "done"
    assert Gate.objects.get(pk=gate.pk).state == Gate.State.OPEN
    assert ChecklistItem.objects.filter(gate=gate).count() == 7
