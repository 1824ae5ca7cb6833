"""If-Match per RFC 9110 on every operation that documents it: lists, `*`, strong comparison.

The operations are read from the OpenAPI schema, so an endpoint that starts serving ETags and
accepting If-Match is covered here by itself (it needs a body below, or the test says so).
"""

from __future__ import annotations

import json

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.api.helpers import _fresh_throttle_cache, assert_error_shape, token_client  # noqa: F401

pytestmark = pytest.mark.django_db

# A harmless body per operation that takes If-Match.
BODIES = {
    ("PATCH", "/api/v1/initiatives/{key}/"): {"summary": "Checked"},
    ("PUT", "/api/v1/initiatives/{key}/"): None,  # needs every field; built in the test
    ("PATCH", "/api/v1/checklist-items/{id}/"): {"note": "Checked"},
}


def _if_match_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            if "If-Match" in names:
                found.append((method.upper(), path))
    return sorted(found)


@pytest.fixture
def target(initiative, gate, owner, executive):
    """(client, url, body builder) for one operation."""

    def build(method: str, path: str):
        assert (method, path) in BODIES, f"Add a body for {method} {path} to BODIES"
        url = path.replace("{key}", initiative.key).replace("{id}", str(gate.items.first().pk))
        body = BODIES[(method, path)]
        if body is None:
            body = {
                "name": initiative.name,
                "summary": "Checked",
                "problem": initiative.problem,
                "team": initiative.team.slug,
                "owner": owner.username,
                "sponsor": executive.username,
                "maturity_level": 0,
            }
        return token_client(owner), url, body

    return build


def test_the_operations_that_take_if_match_are_found():
    assert ("PATCH", "/api/v1/initiatives/{key}/") in _if_match_operations()
    assert ("PATCH", "/api/v1/checklist-items/{id}/") in _if_match_operations()


@pytest.mark.parametrize("operation", _if_match_operations())
@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("{current}", 200),
        ('"98", {current}', 200),  # answered 412: only the first tag was read
        ('{current}, "98"', 200),
        ('"98",{current} , "99"', 200),
        ("*", 200),
        ('"99"', 412),
        ('"98", "99"', 412),
        ("W/{current}", 412),  # weak tags never match strongly
        ('W/"98", W/{current}', 412),
    ],
)
def test_if_match_follows_rfc_9110(operation, header, status, target):
    client, url, body = target(*operation)
    current = client.get(url)["ETag"]
    response = client.generic(
        operation[0],
        url,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_IF_MATCH=header.format(current=current),
    )
    if status == 200:
        assert response.status_code == 200, response.content
    else:
        assert_error_shape(response, 412, "precondition_failed")


@pytest.mark.parametrize("operation", _if_match_operations())
@pytest.mark.parametrize("header", ["3", '"3', "W/3", '"1" "2"', ",", "1e309"])
def test_malformed_if_match_is_400_naming_the_header(operation, header, target):
    client, url, body = target(*operation)
    response = client.generic(
        operation[0],
        url,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_IF_MATCH=header,
    )
    assert "If-Match" in assert_error_shape(response, 400, "invalid")["errors"]
