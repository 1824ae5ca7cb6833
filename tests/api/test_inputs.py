"""API inputs refused with a 400 naming the field, where they were stored or answered 500."""

from __future__ import annotations

import pytest

from initiatives.models import BusinessCase, BusinessCaseRevision, Measurement
from tests.api.helpers import _fresh_throttle_cache, assert_error_shape, token_client  # noqa: F401
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(owner):
    return token_client(owner)


@pytest.fixture
def target(initiative):
    return TargetFactory(initiative=initiative, metric_key="accuracy", threshold=80)


def test_business_case_figures_whose_unit_economics_overflow_are_refused(client, initiative):
    # Stored with a revision, then every read of the business case answered 500.
    url = f"/api/v1/initiatives/{initiative.key}/business-case/"
    response = client.patch(
        url, {"cost_per_task_budget": "39000000", "monthly_volume": 2147483647}, format="json"
    )
    errors = assert_error_shape(response, 400, "invalid")["errors"]
    assert "cost_per_task_budget" in errors and "monthly_volume" in errors
    assert not BusinessCaseRevision.objects.filter(business_case__initiative=initiative).exists()
    assert client.get(url).status_code == 200


def test_the_largest_business_case_that_fits_is_saved_and_read(client, initiative):
    url = f"/api/v1/initiatives/{initiative.key}/business-case/"
    # 10^20 / (100 * 12) per month: just under the limit of the annual cost at 100x.
    body = {"cost_per_task_budget": "40000000", "monthly_volume": 2_000_000_000}
    response = client.patch(url, body, format="json")
    assert response.status_code == 200, response.content
    assert client.get(url).status_code == 200
    case = BusinessCase.objects.get(initiative=initiative)
    assert case.unit_economics()[-1]["annual_cost"] < BusinessCase.DERIVED_COST_LIMIT


@pytest.mark.parametrize("value", [True, False, "1.5", "85", [1], {"v": 1}])
def test_a_measurement_value_must_be_a_number(client, target, value):
    # true was stored as 1.0, false as 0.0.
    response = client.post(
        "/api/v1/measurements/", {"target": target.pk, "value": value}, format="json"
    )
    assert "value" in assert_error_shape(response, 400, "invalid")["errors"]
    assert not Measurement.objects.exists()


@pytest.mark.parametrize("value", [1.79e308, -1.79e308, 1e16])
def test_a_measurement_beyond_the_float_limit_is_refused(client, target, value):
    response = client.post(
        "/api/v1/measurements/", {"target": target.pk, "value": value}, format="json"
    )
    assert "value" in assert_error_shape(response, 400, "invalid")["errors"]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Los_Angeles", "Pacific/Kiritimati"])
@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00", "0001-01-01T00:00:00Z", "1899-12-31T23:00:00", "9999-12-31"]
)
def test_a_measurement_far_from_today_is_refused_in_every_time_zone(
    client, target, settings, zone, moment
):
    # TIME_ZONE=Europe/Berlin with 0001-01-01T00:00:00 overflowed: 500.
    settings.TIME_ZONE = zone
    single = client.post(
        "/api/v1/measurements/",
        {"target": target.pk, "value": 1, "measured_at": moment},
        format="json",
    )
    assert "measured_at" in assert_error_shape(single, 400, "invalid")["errors"]
    batch = client.post(
        "/api/v1/measurements/",
        {"measurements": [{"target": target.pk, "value": 1, "measured_at": moment}]},
        format="json",
    )
    assert "measurements.0.measured_at" in assert_error_shape(batch, 400, "invalid")["errors"]
    assert not Measurement.objects.exists()


def test_text_fields_take_text_only(client, initiative, gate):
    # Integers were accepted (and stored as "5").
    item = gate.items.first()
    response = client.patch(f"/api/v1/checklist-items/{item.pk}/", {"note": 5}, format="json")
    assert "note" in assert_error_shape(response, 400, "invalid")["errors"]
    response = client.post(
        f"/api/v1/initiatives/{initiative.key}/targets/",
        {"metric_key": "accuracy", "threshold": 90, "description": 5},
        format="json",
    )
    assert "description" in assert_error_shape(response, 400, "invalid")["errors"]


@pytest.mark.parametrize("field", ["maturity_level"])
def test_a_choice_is_not_a_boolean(client, initiative, field):
    response = client.patch(f"/api/v1/initiatives/{initiative.key}/", {field: True}, format="json")
    assert field in assert_error_shape(response, 400, "invalid")["errors"]


def test_unbounded_text_is_bounded(client, initiative):
    response = client.patch(
        f"/api/v1/initiatives/{initiative.key}/", {"summary": "x" * 20_001}, format="json"
    )
    assert "summary" in assert_error_shape(response, 400, "invalid")["errors"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/activity/?since=",
        "/api/v1/initiatives/?updated_since=",
        "/api/v1/initiatives/?page_size=null",
        "/api/v1/initiatives/?page_size=0",
        "/api/v1/initiatives/?page_size=101",
        "/api/v1/initiatives/?status=",
        "/api/v1/gates/?initiative=",
        "/api/v1/initiatives/?page_size=5&page_size=6",
    ],
)
def test_a_query_parameter_without_a_usable_value_is_refused_by_name(client, url):
    # Each was silently ignored: the whole list came back.
    name = url.split("?")[1].split("=")[0]
    response = client.get(url)
    assert name in assert_error_shape(response, 400, "invalid")["errors"]


def test_an_empty_series_bound_is_refused(client, target):
    response = client.get(f"/api/v1/targets/{target.pk}/measurements/?to=")
    assert "to" in assert_error_shape(response, 400, "invalid")["errors"]


def test_the_schema_documents_exactly_the_fields_patch_accepts():
    from drf_spectacular.generators import SchemaGenerator

    from initiatives.api.serializers import InitiativeUpdateSerializer

    schema = SchemaGenerator().get_schema(request=None, public=True)
    patch = schema["paths"]["/api/v1/initiatives/{key}/"]["patch"]
    ref = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    # It documented status and stage_entered_on (refused) and left out owner, team, sponsor
    # and tags (accepted).
    assert set(component["properties"]) == set(InitiativeUpdateSerializer().fields)
    assert component["additionalProperties"] is False


@pytest.mark.parametrize("field", ["team", "owner", "sponsor"])
def test_a_null_character_in_a_related_field_is_refused(client, initiative, field):
    # Looked up as sent, PostgreSQL refused the query: a 500.
    body = {"name": "New", "team": initiative.team.slug, "sponsor": initiative.sponsor.username}
    body[field] = "a\x00b"
    response = client.post("/api/v1/initiatives/", body, format="json")
    assert field in assert_error_shape(response, 400, "invalid")["errors"]
