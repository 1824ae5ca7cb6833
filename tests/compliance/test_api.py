"""Classification over the API: the same services and confirmation rule as the pages."""

from __future__ import annotations

import pytest

from compliance.models import Classification
from gates.models import Decision, Gate
from tests.api.helpers import _fresh_throttle_cache, assert_error_shape, token_client  # noqa: F401
from tests.compliance.conftest import PROHIBITED
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


def url(initiative, rest: str = "") -> str:
    return f"/api/v1/initiatives/{initiative.key}/classification/{rest}"


CREDIT_SCORING = {
    "questionnaire_version": 1,
    "answers": {
        "role": "deployer",
        "annex_iii_area": "essential_services",
        "essential_service_use": "credit_scoring",
    },
}


def test_propose_then_confirm(owner, admin_user, initiative, gate):
    client = token_client(owner)
    response = client.post(url(initiative), CREDIT_SCORING, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["tier"], body["state"], body["number"]) == ("high_risk", "proposed", 1)
    assert "fria_required" in body["flags"]
    assert body["answers"]["essential_service_use"] == "credit_scoring"

    assert_error_shape(client.post(url(initiative, "confirm/"), {}, format="json"), 403)
    confirmed = token_client(admin_user).post(
        url(initiative, "confirm/"), {"revision": 1}, format="json"
    )
    assert confirmed.status_code == 200
    document = confirmed.json()
    assert document["tier"] == "high_risk"
    assert document["current"]["confirmed_by"]["username"] == "admin"
    codes = {row["code"]: row["state"] for row in document["obligations"]}
    assert codes["art27-fria"] == "not_on_a_gate_yet"  # evidenced at the MVP exit
    assert codes["art4-ai-literacy"] == "open"

    read = client.get(url(initiative)).json()
    assert read == document


def test_confirming_a_replaced_proposal_or_nothing_is_a_conflict(owner, admin_user, initiative):
    admin = token_client(admin_user)
    assert_error_shape(admin.post(url(initiative, "confirm/"), {"revision": 1}, format="json"), 409)
    owner_client = token_client(owner)
    owner_client.post(url(initiative), CREDIT_SCORING, format="json")
    owner_client.post(url(initiative), CREDIT_SCORING, format="json")
    assert_error_shape(admin.post(url(initiative, "confirm/"), {"revision": 1}, format="json"), 409)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answers": {"role": "deployer", "public_body": "yes"}}, "answers.public_body"),
        ({"answers": {"role": "deployer", "public_body": 1}}, "answers.public_body"),
        ({"answers": {"role": "tenant"}}, "answers.role"),
        ({"answers": {"role": "provider", "horoscope": True}}, "answers.horoscope"),
        ({"answers": {"role": "provider"}, "questionnaire_version": 7}, "questionnaire_version"),
        ({"answers": {"role": "provider", "transparency": ["x"]}}, "answers.transparency.0"),
        ({}, "answers"),
    ],
)
def test_bad_answers_are_named(owner, initiative, body, field):
    response = token_client(owner).post(url(initiative), body, format="json")
    assert_error_shape(response, 400)
    assert field in response.json()["errors"]


def test_readers_may_read_but_not_propose(viewer, outsider, initiative):
    assert token_client(viewer).get(url(initiative)).json()["tier"] is None
    assert_error_shape(
        token_client(viewer).post(url(initiative), CREDIT_SCORING, format="json"), 403
    )
    assert_error_shape(token_client(outsider).get(url(initiative)), 404)


def test_a_prohibited_initiative_cannot_advance_by_the_api(initiative, gate, classify, executive):
    classify(initiative, PROHIBITED)
    Gate.objects.filter(pk=gate.pk).update(state=Gate.State.IN_REVIEW)
    response = token_client(executive).post(
        f"/api/v1/gates/{gate.pk}/decide/",
        {"decision": Decision.CONDITIONAL_GO, "rationale": "Ship it."},
        format="json",
    )
    assert_error_shape(response, 400)
    assert "cannot pass any gate" in response.json()["errors"]["decision"][0]
    initiative.refresh_from_db()
    assert initiative.stage.key == "poc"


def test_the_initiative_list_filters_by_tier(viewer, initiative, team, owner, executive, classify):
    other = InitiativeFactory(name="Unclassified one", team=team, owner=owner, sponsor=executive)
    classify(initiative, PROHIBITED)
    client = token_client(viewer)

    def keys(tier):
        return [
            row["key"]
            for row in client.get("/api/v1/initiatives/", {"ai_tier": tier}).json()["results"]
        ]

    assert keys("prohibited") == [initiative.key]
    assert keys("unclassified") == [other.key]
    assert keys("high_risk") == []
    assert_error_shape(client.get("/api/v1/initiatives/", {"ai_tier": "spicy"}), 400)
    assert Classification.objects.count() == 1


@pytest.mark.parametrize("body", [{}, {"revision": None}, {"revision": "latest"}, {"revision": 0}])
def test_confirming_needs_the_number_of_the_proposal_seen(owner, admin_user, initiative, body):
    # Without it, whatever proposal waited was confirmed, even one made after the reading.
    token_client(owner).post(url(initiative), CREDIT_SCORING, format="json")
    response = token_client(admin_user).post(url(initiative, "confirm/"), body, format="json")
    assert_error_shape(response, 400)
    assert "revision" in str(response.json())


def test_the_initiative_list_and_detail_say_the_tier_they_filter_on(
    viewer, initiative, team, owner, executive, classify
):
    """What ?ai_tier= filters on is shown: the list (built from plain values) and the detail
    (the documented serializer) say the same, null for an unclassified initiative."""
    from initiatives.api.serializers import InitiativeSerializer
    from initiatives.models import Initiative

    other = InitiativeFactory(name="Unclassified one", team=team, owner=owner, sponsor=executive)
    classify(initiative, PROHIBITED)
    client = token_client(viewer)
    listed = {row["key"]: row for row in client.get("/api/v1/initiatives/").json()["results"]}
    assert listed[initiative.key]["ai_tier"] == "prohibited"
    assert listed[other.key]["ai_tier"] is None
    assert client.get(f"/api/v1/initiatives/{initiative.key}/").json()["ai_tier"] == "prohibited"
    assert client.get(f"/api/v1/initiatives/{other.key}/").json()["ai_tier"] is None
    expected = InitiativeSerializer(
        Initiative.objects.filter(pk__in=[initiative.pk, other.pk]).order_by("key"), many=True
    ).data
    assert [listed[row["key"]] for row in expected] == [dict(row) for row in expected]


def test_the_schema_documents_the_tier_of_an_initiative(client):
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)
    field = schema["components"]["schemas"]["Initiative"]["properties"]["ai_tier"]
    assert field["readOnly"] and field["nullable"]
    assert {"$ref": "#/components/schemas/TierEnum"} in field["oneOf"]
