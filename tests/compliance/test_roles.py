"""The compliance officer is a portfolio role like the others: given on the invitation page,
reading the whole portfolio, confirming classifications, holding a read-and-write token."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apiauth.models import ApiToken
from compliance.models import COMPLIANCE_GROUP, Classification
from compliance.policy import may_confirm
from teams.policy import reads_everything
from teams.roles import PortfolioRole
from tests.api.helpers import _fresh_throttle_cache, token_client  # noqa: F401
from tests.compliance.conftest import HIGH_RISK

pytestmark = pytest.mark.django_db


def test_compliance_is_a_portfolio_role():
    assert PortfolioRole(COMPLIANCE_GROUP) == PortfolioRole.COMPLIANCE


@pytest.mark.parametrize("role", PortfolioRole.values)
def test_every_portfolio_role_is_offered_and_given_on_the_invitation_page(client, admin_user, role):
    assert Group.objects.filter(name=role).exists()
    client.force_login(admin_user)
    assert f'value="{role}"' in client.get("/people/invite/").content.decode()
    response = client.post(
        "/people/invite/",
        {"username": "newbie", "email": "newbie@example.com", "roles": [role]},
    )
    assert response.status_code == 302, response.content
    user = get_user_model().objects.get(username="newbie")
    assert set(user.groups.values_list("name", flat=True)) == {role}


def test_a_compliance_officer_reads_every_initiative_and_confirms(
    client, compliance_officer, initiative, other_initiative, owner
):
    assert reads_everything(compliance_officer) and may_confirm(compliance_officer)
    client.force_login(compliance_officer)
    for each in (initiative, other_initiative):
        assert client.get(each.get_absolute_url()).status_code == 200
    api = token_client(compliance_officer)
    listed = {row["key"] for row in api.get("/api/v1/initiatives/").json()["results"]}
    assert listed == {initiative.key, other_initiative.key}

    token_client(owner).post(
        f"/api/v1/initiatives/{initiative.key}/classification/",
        {"answers": HIGH_RISK},
        format="json",
    )
    response = client.post(
        f"/initiatives/{initiative.key}/classification/confirm/", {"revision": 1}
    )
    assert response.status_code == 302
    assert Classification.objects.get(initiative=initiative).tier == "high_risk"


def test_a_compliance_officer_may_hold_a_read_and_write_token(client, compliance_officer):
    client.force_login(compliance_officer)
    assert 'value="read_write"' in client.get("/account/tokens/").content.decode()
    response = client.post(
        "/account/tokens/", {"name": "register sync", "scope": "read_write", "expires_in": "90"}
    )
    assert response.status_code in (200, 302), response.content
    assert ApiToken.objects.get(user=compliance_officer).scope == ApiToken.Scope.READ_WRITE
