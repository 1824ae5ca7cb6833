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
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
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


# Every check schemathesis has (status codes, content types, response schemas, negative data
# rejected, positive data accepted, missing headers, unsupported methods, ignored auth, ...).
ALL_CHECKS_EXAMPLES = int(os.environ.get("SCHEMATHESIS_ALL_CHECKS_EXAMPLES", "25"))


@pytest.mark.slow
def test_every_check_passes_on_every_operation(initiative, gate, owner, admin_user, settings):
    """All of schemathesis's checks, positive and negative data, every operation: zero failures.

    Failures are collected rather than raised, so one run reports every operation that
    disagrees with its schema, with the counts (cases, operations, failures).
    """
    settings.TOLLGATE_API_TOKEN_RATE = "100000/minute"
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        report = _fuzz_all_checks(initiative, gate, owner)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    print(
        f"schemathesis all checks: {report['cases']} cases, {report['operations']} operations, "
        f"{report['failing_cases']} failing cases, {len(report['failures'])} distinct failures "
        f"in {report['seconds']:.1f}s"
    )
    assert report["operations"] >= 30
    assert not report["failures"], "\n".join(report["failures"][:40])


# Schema-valid data may still name a team, person or stage that does not exist, which the
# API answers with its documented 400 naming the field. Everything else that refuses
# valid data (405, 406, 415, 422, 5xx) fails, as schemathesis's positive_data_acceptance.
ACCEPTED_FOR_VALID_DATA = {400, 401, 403, 404, 409, 412, 429}


def valid_data_is_not_refused_for_its_form(ctx, response, case):
    positive = case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE
    if positive and not (
        200 <= response.status_code < 400 or response.status_code in ACCEPTED_FOR_VALID_DATA
    ):
        raise AssertionError(f"Schema-valid request answered {response.status_code}")
    return None


def _fuzz_all_checks(initiative, gate, owner) -> dict:
    target = TargetFactory(initiative=initiative, metric_key="accuracy")
    secret = token_client(owner).token_secret
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    named = {"key": initiative.key, "slug": initiative.team.slug}
    ids = {"gates": gate.pk, "checklist-items": gate.items.first().pk, "targets": target.pk}
    cases = 0
    failing_cases = 0
    operations = 0
    failures: list[str] = []
    failures_seen: set[str] = set()
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        path_parameters = {k: v for k, v in named.items() if "{" + k + "}" in operation.path}
        for collection, pk in ids.items():
            if operation.path.startswith(f"/api/v1/{collection}/{{id}}"):
                path_parameters["id"] = pk
        strategy = operation.as_strategy(path_parameters=path_parameters) | operation.as_strategy(
            GenerationMode.NEGATIVE, path_parameters=path_parameters
        )

        @given(case=strategy)
        @hypothesis_settings(
            max_examples=ALL_CHECKS_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            nonlocal cases
            cases += 1
            try:
                case.call_and_validate(
                    headers={"Authorization": f"Bearer {secret}"},
                    excluded_checks=[positive_data_acceptance],
                    additional_checks=[valid_data_is_not_refused_for_its_form],
                )
            except FailureGroup as group:
                nonlocal failing_cases
                failing_cases += 1
                for failure in group.exceptions:
                    text = f"{case.operation.label}: {failure.title}"
                    if text not in failures_seen:
                        failures_seen.add(text)
                        detail = " ".join(failure.message.split())[:300]
                        sent = (
                            f"{case.method} {case.path_parameters} q={case.query} b={case.body!r}"
                        )
                        failures.append(f"{text}\n    {detail}\n    {sent[:300]}")

        run()
    return {
        "cases": cases,
        "operations": operations,
        "failures": failures,
        "failing_cases": failing_cases,
        "seconds": time.monotonic() - started,
    }
