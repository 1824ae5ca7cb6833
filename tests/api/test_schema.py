"""The OpenAPI schema is valid, and the API behaves as it says under generated requests."""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.helpers import _fresh_throttle_cache, token_client  # noqa: F401
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db

# Examples per operation and mode; ~30 operations, so several hundred requests in total.
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "20"))
POSITIVE_CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
# Invalid requests must still get a documented (JSON) answer, never a 500.
NEGATIVE_CHECKS = [not_a_server_error, content_type_conformance]


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"tokenAuth" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI comes from the sidecar package, not a CDN.
    assert b"cdn" not in docs.content.lower()


@pytest.mark.slow
def test_generated_requests_never_500_and_match_the_schema(initiative, gate, owner, settings):
    """Schemathesis against the WSGI app in-process, authenticated as the product manager."""
    settings.TOLLGATE_API_TOKEN_RATE = "100000/minute"
    # Like Django's test client: keep the test's connection (and its transaction)
    # open across the in-process WSGI requests.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        examples, seconds = _fuzz(initiative, gate, owner)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    print(f"schemathesis: {examples} examples in {seconds:.1f}s")
    assert examples >= 200


def _fuzz(initiative, gate, owner) -> tuple[int, float]:
    target = TargetFactory(initiative=initiative, metric_key="accuracy")
    secret = token_client(owner).token_secret
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    # Point path parameters at real rows so requests reach the code behind the 404s.
    named = {"key": initiative.key, "slug": initiative.team.slug}
    ids = {"gates": gate.pk, "checklist-items": gate.items.first().pk, "targets": target.pk}
    examples = 0
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        path_parameters = {k: v for k, v in named.items() if "{" + k + "}" in operation.path}
        for collection, pk in ids.items():
            if operation.path.startswith(f"/api/v1/{collection}/{{id}}"):
                path_parameters["id"] = pk
        strategy = operation.as_strategy(path_parameters=path_parameters) | operation.as_strategy(
            GenerationMode.NEGATIVE, path_parameters=path_parameters
        )

        @given(case=strategy)
        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            nonlocal examples
            examples += 1
            positive = case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
            case.call_and_validate(
                headers={"Authorization": f"Bearer {secret}"},
                checks=POSITIVE_CHECKS if positive else NEGATIVE_CHECKS,
            )

        run()
    return examples, time.monotonic() - started
