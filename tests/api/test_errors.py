"""Every 4xx has the same JSON shape; bad input never becomes a 500."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from tests.api.helpers import _fresh_throttle_cache, assert_error_shape, token_client  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(owner):
    return token_client(owner)


def test_malformed_json_is_400(client, initiative):
    response = client.generic(
        "PATCH",
        f"/api/v1/initiatives/{initiative.key}/",
        '{"name": "unterminated',
        content_type="application/json",
    )
    assert_error_shape(response, 400, "malformed_request")


def test_a_json_array_where_an_object_belongs_is_400(client, initiative):
    response = client.generic(
        "PATCH", f"/api/v1/initiatives/{initiative.key}/", "[1, 2]", content_type="application/json"
    )
    assert_error_shape(response, 400, "invalid")


def test_unknown_field_is_400(client, initiative):
    response = client.patch(
        f"/api/v1/initiatives/{initiative.key}/", {"key": "AI-999"}, format="json"
    )
    assert assert_error_shape(response, 400, "invalid")["errors"] == {"key": ["Unknown field."]}


def test_invalid_choice_is_400(client, initiative):
    response = client.patch(
        f"/api/v1/initiatives/{initiative.key}/", {"maturity_level": "high"}, format="json"
    )
    assert "maturity_level" in assert_error_shape(response, 400, "invalid")["errors"]


def test_body_over_one_megabyte_is_413(client, initiative):
    body = json.dumps({"name": "x" * (1024 * 1024 + 10)})
    response = client.generic(
        "PATCH", f"/api/v1/initiatives/{initiative.key}/", body, content_type="application/json"
    )
    assert_error_shape(response, 413, "payload_too_large")


def test_large_measurement_batch_is_413(client):
    rows = [{"target": 1, "value": 1.0, "measured_at": "2026-01-01T00:00:00Z"}] * 30000
    response = client.post("/api/v1/measurements/", {"measurements": rows}, format="json")
    assert_error_shape(response, 413)


def test_wrong_content_type_is_415(client, initiative):
    response = client.generic(
        "PATCH",
        f"/api/v1/initiatives/{initiative.key}/",
        "name=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert_error_shape(response, 415, "unsupported_media_type")


def test_missing_credentials_is_401_with_the_shape():
    response = APIClient().get("/api/v1/initiatives/")
    assert_error_shape(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_route_under_the_api_is_json_404(client):
    assert_error_shape(client.get("/api/v1/initiatives/NOPE-1/"), 404, "not_found")
    assert_error_shape(client.get("/api/v1/gates/999999/"), 404)
    assert_error_shape(client.get("/api/v1/initiatives/", {"page": 99}), 404)


def test_method_not_allowed_is_405_with_the_shape(client, initiative):
    assert_error_shape(client.delete(f"/api/v1/initiatives/{initiative.key}/"), 405)


def test_nan_and_huge_numbers_do_not_500(client, initiative):
    response = client.generic(
        "POST",
        "/api/v1/measurements/",
        '{"target": 1, "value": NaN}',
        content_type="application/json",
    )
    assert_error_shape(response, 400)
    response = client.generic(
        "POST",
        f"/api/v1/initiatives/{initiative.key}/targets/",
        '{"metric_key": "accuracy", "threshold": 1e400}',
        content_type="application/json",
    )
    assert "threshold" in assert_error_shape(response, 400)["errors"]


def test_null_bytes_in_path_or_query_are_400(client, initiative):
    assert_error_shape(client.get("/api/v1/gates/", {"initiative": "AI\x00"}), 400)
    assert_error_shape(client.get("/api/v1/initiatives/AI%00-1/"), 400)


@pytest.mark.parametrize("depth", [33, 1000, 1500, 100_000])
def test_deeply_nested_json_is_400_malformed_request(client, depth):
    # 1,500 levels overflowed the decoder's recursion limit and answered 500.
    for body in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        response = client.generic(
            "POST", "/api/v1/measurements/", body, content_type="application/json"
        )
        assert_error_shape(response, 400, "malformed_request")


def test_json_nested_a_few_levels_is_read(client):
    body = {"measurements": [{"target": 999_999, "value": 1.0}]}
    response = client.post("/api/v1/measurements/", body, format="json")
    # Parsed and validated: the target does not exist, so the error names it.
    assert response.status_code in (400, 404), response.content
    assert response.json()["code"] != "malformed_request"
