"""Every operation in the OpenAPI schema shows an example of what it takes and answers.

The operations are discovered from the generated schema, so a new endpoint without an
example fails here; each example is also checked against its own schema.
"""

from __future__ import annotations

import copy

import pytest
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft202012Validator

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _json_schema(schema: dict) -> dict:
    """OpenAPI 3.0's `nullable` as JSON Schema; everything else is compatible enough."""
    if isinstance(schema, list):
        return [_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: _json_schema(value) for key, value in schema.items()}
    if converted.pop("nullable", False):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def _media(schema):
    """(label, media type object) for every request body and JSON response in the schema."""
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            label = f"{method.upper()} {path}"
            for content_type, media in operation.get("requestBody", {}).get("content", {}).items():
                yield f"{label} request {content_type}", media
            for code, response in operation.get("responses", {}).items():
                for content_type, media in response.get("content", {}).items():
                    if content_type.endswith("json"):
                        yield f"{label} {code} {content_type}", media


def test_every_request_body_and_json_answer_has_an_example(schema):
    seen = list(_media(schema))
    missing = [label for label, media in seen if "example" not in media and "examples" not in media]
    assert len(seen) > 300  # ~40 operations, each with its error answers
    assert not missing, "\n".join(missing)


def test_every_example_validates_against_its_own_schema(schema):
    components = _json_schema(copy.deepcopy(schema["components"]))
    invalid = []
    for label, media in _media(schema):
        examples = [media["example"]] if "example" in media else []
        examples += [entry["value"] for entry in media.get("examples", {}).values()]
        validator = Draft202012Validator(
            {**_json_schema(media["schema"]), "components": components}
        )
        for example in examples:
            for error in validator.iter_errors(example):
                invalid.append(f"{label}: {error.json_path}: {error.message}")
    assert not invalid, "\n".join(invalid[:40])


def test_examples_are_served_in_the_public_schema(client):
    answer = client.get("/api/schema/", {"format": "json"})
    body = answer.json()
    post = body["paths"]["/api/v1/measurements/"]["post"]
    assert "example" in post["requestBody"]["content"]["application/json"]
    assert post["responses"]["400"]["content"]["application/json"]["example"]["code"] == "invalid"


def test_the_people_teams_and_frameworks_in_examples_are_the_demos(db):
    # "sponsor": "sam" and "team": "platform" named nobody: sent as shown, a 400.
    import csv
    from pathlib import Path

    from django.conf import settings

    from apiauth.schema import EXAMPLE_NAMES
    from initiatives.models import Framework

    data = Path(settings.BASE_DIR) / "demo" / "data"
    with open(data / "people.csv") as people:
        usernames = {row["username"] for row in csv.DictReader(people)}
    with open(data / "teams.csv") as teams:
        slugs = {row["slug"] for row in csv.DictReader(teams)}
    for name in ("username", "owner", "sponsor", "gatekeeper", "user"):
        assert EXAMPLE_NAMES[name] in usernames, name
    assert {EXAMPLE_NAMES["team"], EXAMPLE_NAMES["slug"]} <= slugs
    assert Framework.objects.filter(slug=EXAMPLE_NAMES["framework"]).exists()


def test_the_create_example_creates_an_initiative_as_shown(schema, owner, executive):
    from apiauth.schema import EXAMPLE_NAMES
    from tests.api.helpers import token_client
    from tests.factories import TeamFactory, TeamMembershipFactory

    team = TeamFactory(slug=EXAMPLE_NAMES["team"], name="Customer Operations")
    TeamMembershipFactory(team=team, user=owner)
    media = schema["paths"]["/api/v1/initiatives/"]["post"]["requestBody"]["content"]
    example = media["application/json"]["example"]
    response = token_client(owner).post("/api/v1/initiatives/", example, format="json")
    assert response.status_code == 201, response.content
