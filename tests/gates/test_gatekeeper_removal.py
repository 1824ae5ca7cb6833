"""Gatekeepers can be removed (an executive who left must not block an "all" gate for ever):
on the initiative page, through the API and in the admin. The last active gatekeeper of a
gate in review stays."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gates.models import Decision, Gate, GateDecision, Gatekeeper
from gates.services import gate_rule_set, gate_vote, gatekeeper_add, gatekeeper_remove
from initiatives.exceptions import InvalidState
from tests.api.helpers import assert_error_shape, token_client
from tests.gates.helpers import in_review

pytestmark = pytest.mark.django_db


def test_an_executive_who_left_no_longer_blocks_an_all_gate(gate, executive, other_executive):
    """All must vote; one left the company. Removing them lets the votes cast decide."""
    gatekeeper_add(gate=gate, user=other_executive, actor=executive)
    gate_rule_set(gate=gate, rule=Gate.Rule.ALL, actor=executive)
    in_review(gate)
    gate_vote(gate=gate, actor=executive, decision=Decision.RECYCLE, rationale="Not yet.")
    other_executive.is_active = False
    other_executive.save()

    gatekeeper_remove(gate=gate, user=other_executive, actor=executive)
    decision = GateDecision.objects.get(gate=gate)
    assert decision.decision == Decision.RECYCLE
    assert not Gatekeeper.objects.filter(gate=gate, user=other_executive).exists()


def test_the_last_active_gatekeeper_of_a_gate_in_review_stays(gate, executive, other_executive):
    gatekeeper_add(gate=gate, user=other_executive, actor=executive)
    other_executive.is_active = False
    other_executive.save()
    in_review(gate)
    with pytest.raises(InvalidState, match="last active gatekeeper"):
        gatekeeper_remove(gate=gate, user=executive, actor=executive)
    # The inactive one can go.
    gatekeeper_remove(gate=gate, user=other_executive, actor=executive)
    assert list(gate.gatekeepers.values_list("user", flat=True)) == [executive.pk]


def test_an_admin_removes_a_gatekeeper_on_the_initiative_page(
    client, admin_user, gate, executive, other_executive
):
    gatekeeper_add(gate=gate, user=other_executive, actor=admin_user)
    client.force_login(admin_user)
    page = client.get(gate.initiative.get_absolute_url()).content.decode()
    url = reverse("gates:gatekeeper-remove", args=[gate.pk, other_executive.pk])
    assert f'action="{url}"' in page
    response = client.post(url, follow=True)
    assert response.status_code == 200
    assert f"{other_executive.get_full_name()} is no longer a gatekeeper." in (
        response.content.decode()
    )
    assert not gate.gatekeepers.filter(user=other_executive).exists()

    # The last one of a gate in review: refused with a clear message.
    in_review(gate)
    url = reverse("gates:gatekeeper-remove", args=[gate.pk, executive.pk])
    response = client.post(url, follow=True)
    assert "last active gatekeeper" in response.content.decode()
    assert gate.gatekeepers.filter(user=executive).exists()


def test_an_admin_removes_a_gatekeeper_through_the_api(
    admin_user, executive, other_executive, gate
):
    gatekeeper_add(gate=gate, user=other_executive, actor=admin_user)
    api = token_client(admin_user)
    response = api.delete(f"/api/v1/gates/{gate.pk}/gatekeepers/{other_executive.pk}/")
    assert response.status_code == 200, response.content
    assert response.json()["gatekeepers"] == [executive.username]
    assert_error_shape(
        api.delete(f"/api/v1/gates/{gate.pk}/gatekeepers/{other_executive.pk}/"), 404
    )
    in_review(gate)
    assert_error_shape(api.delete(f"/api/v1/gates/{gate.pk}/gatekeepers/{executive.pk}/"), 409)
    # Only portfolio admins.
    assert_error_shape(
        token_client(executive).delete(f"/api/v1/gates/{gate.pk}/gatekeepers/{executive.pk}/"),
        403,
    )


def test_the_django_admin_offers_removal_while_the_gate_is_pending(
    client, admin_user, gate, executive
):
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    url = reverse("admin:gates_gate_change", args=[gate.pk])
    assert 'name="gatekeepers-0-DELETE"' in client.get(url).content.decode()
