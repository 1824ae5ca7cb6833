"""People who leave: no workflow waits on them, an admin sees what they held on one page
and hands it to a successor in one step (one transaction)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apiauth.models import ApiToken
from collaboration.models import Watch
from departures.selectors import holdings_of, people_who_left_holding_something
from departures.services import departure_complete
from gates.models import Gate, Gatekeeper
from gates.services.decisions import gate_request_review, gate_rule_set, gate_vote, gatekeeper_add
from initiatives.exceptions import InvalidState
from teams.models import TeamMembership
from teams.roles import PortfolioRole
from tests.api.helpers import token_client
from tests.factories import InitiativeFactory, UserFactory
from tests.test_input_properties import form_arguments  # noqa: F401

pytestmark = pytest.mark.django_db


def _deactivate(person) -> None:
    person.is_active = False
    person.save(update_fields=["is_active"])


# --- No workflow waits on an inactive person ---------------------------------------------


def test_no_review_can_be_asked_of_gatekeepers_who_all_left(gate, owner, executive):
    _deactivate(executive)  # the sponsor, the gate's only gatekeeper
    with pytest.raises(InvalidState, match="active"):
        gate_request_review(gate=gate, actor=owner)
    gate.refresh_from_db()
    assert gate.state == Gate.State.OPEN
    # Over the API the owner gets the same refusal as a 4xx with the reason, not a review.
    response = token_client(owner).post(f"/api/v1/gates/{gate.pk}/request-review/")
    assert response.status_code in (400, 409) and "active" in response.json()["message"]


def test_under_all_an_inactive_gatekeeper_is_not_waited_for(
    gate, owner, executive, other_executive, admin_user
):
    gatekeeper_add(gate=gate, user=other_executive, actor=admin_user)
    gate_rule_set(gate=gate, rule=Gate.Rule.ALL, actor=admin_user)
    gate_request_review(gate=gate, actor=owner)
    _deactivate(other_executive)
    gate_vote(gate=gate, actor=executive, decision="hold", rationale="Not yet")
    gate.refresh_from_db()
    assert gate.state == Gate.State.DECIDED and gate.decision == "hold"


def test_under_all_active_gatekeepers_are_still_waited_for(
    gate, owner, executive, other_executive, admin_user
):
    gatekeeper_add(gate=gate, user=other_executive, actor=admin_user)
    gate_rule_set(gate=gate, rule=Gate.Rule.ALL, actor=admin_user)
    gate_request_review(gate=gate, actor=owner)
    gate_vote(gate=gate, actor=executive, decision="hold", rationale="Not yet")
    gate.refresh_from_db()
    assert gate.state == Gate.State.IN_REVIEW


def test_tokens_of_people_who_left_are_refused(owner):
    client = token_client(owner)
    assert client.get("/api/v1/initiatives/").status_code == 200
    _deactivate(owner)
    assert client.get("/api/v1/initiatives/").status_code == 401


def test_no_pending_email_goes_to_somebody_who_left(initiative, member):
    from django.core import mail

    from notifications.models import Notification
    from notifications.services import notifications_send_batch

    notice = Notification.objects.create(
        recipient=member,
        kind="due_soon",
        initiative=initiative,
        dedupe_key="left",
        subject="Gate due soon",
        body_text="Soon.",
    )
    _deactivate(member)
    counts = notifications_send_batch(notification_ids=[notice.pk])
    notice.refresh_from_db()
    assert counts["sent"] == 0 and mail.outbox == []
    assert notice.state == Notification.State.SKIPPED


# Pickers that choose a person to take something on. The departures page's own picker of
# whom to hand over from lists people who left on purpose.
CHOOSING_WHO_LEFT = {"departures.forms.PersonChoiceForm"}


def test_every_person_picker_offers_only_active_people(form_arguments):  # noqa: F811
    """Every form field that picks a person (found in every form, as the input property
    test finds them) leaves out people who were deactivated, whatever roles they held."""
    from django import forms
    from django.contrib.auth import get_user_model

    gone = UserFactory(username="gone", groups=list(PortfolioRole))
    _deactivate(gone)

    from tests.test_input_properties import _build_form, _forms

    pickers = 0
    for form_class in _forms():
        if f"{form_class.__module__}.{form_class.__qualname__}" in CHOOSING_WHO_LEFT:
            continue
        form = _build_form(form_class, None, form_arguments)
        for name, field in form.fields.items():
            if not isinstance(field, forms.ModelChoiceField):
                continue
            if field.queryset is None or field.queryset.model is not get_user_model():
                continue
            pickers += 1
            offered = set(field.queryset.values_list("pk", flat=True))
            assert gone.pk not in offered, f"{form_class.__name__}.{name}"
    assert pickers >= 5  # owner, sponsor, team member, gatekeeper, successor, ...


# --- What a person holds, and handing it over ------------------------------------------


@pytest.fixture
def departing(team, owner, executive, other_executive, admin_user):
    """An executive who sponsors one initiative, keeps another's gate, leads the team,
    is on an initiative's team, holds a token and watches an initiative."""
    from tests.factories import MembershipFactory

    person = UserFactory(username="leaving", groups=[PortfolioRole.EXECUTIVE])
    sponsored = InitiativeFactory(team=team, owner=owner, sponsor=person)
    kept = InitiativeFactory(team=team, owner=owner, sponsor=executive)
    gatekeeper_add(gate=kept.gates.get(), user=person, actor=admin_user)
    TeamMembership.objects.create(team=team, user=person, role=TeamMembership.Role.LEAD)
    MembershipFactory(initiative=kept, user=person)
    ApiToken.issue(user=person, name="laptop")
    Watch.objects.create(initiative=kept, user=person, watching=True)
    return {"person": person, "sponsored": sponsored, "kept": kept}


def test_holdings_list_everything_a_person_holds(departing):
    held = holdings_of(departing["person"])
    assert [i.pk for i in held.sponsored] == [departing["sponsored"].pk]
    assert {k.gate.initiative_id for k in held.gatekeeping} == {
        departing["sponsored"].pk,
        departing["kept"].pk,
    }
    assert len(held.teams_led) == 1 and len(held.initiative_memberships) == 1
    assert len(held.tokens) == 1 and len(held.watches) == 1


def test_handing_over_moves_everything_at_once(departing, other_executive, admin_user, owner):
    person = departing["person"]
    departure_complete(person=person, successor=other_executive, actor=admin_user)
    person.refresh_from_db()
    assert not person.is_active
    departing["sponsored"].refresh_from_db()
    assert departing["sponsored"].sponsor == other_executive
    for initiative in (departing["sponsored"], departing["kept"]):
        keepers = set(initiative.gates.get().gatekeepers.values_list("user", flat=True))
        assert person.pk not in keepers and other_executive.pk in keepers
    lead = TeamMembership.objects.get(team=departing["kept"].team, user=other_executive)
    assert lead.role == TeamMembership.Role.LEAD
    assert holdings_of(person).count == 0
    assert not ApiToken.objects.filter(user=person).usable().exists()
    assert person not in people_who_left_holding_something()
    # The owner can ask for a review again: somebody active keeps the gate.
    gate_request_review(gate=departing["sponsored"].gates.get(), actor=owner)


def test_a_successor_who_may_not_take_it_on_changes_nothing(departing, owner, admin_user):
    from django.core.exceptions import ValidationError

    person = departing["person"]
    with pytest.raises(ValidationError) as refused:
        departure_complete(person=person, successor=owner, actor=admin_user)  # a PM
    assert "successor" in refused.value.message_dict
    person.refresh_from_db()
    assert person.is_active and holdings_of(person).count == holdings_of(person).count > 0
    assert Gatekeeper.objects.filter(user=person).count() == 2


def test_the_departures_page_shows_and_hands_over(client, departing, admin_user, other_executive):
    person = departing["person"]
    client.force_login(admin_user)
    page = client.get(reverse("departures:person", args=[person.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert departing["sponsored"].key in html and departing["kept"].key in html
    assert "laptop" in html
    refused = client.post(reverse("departures:person", args=[person.pk]), {"successor": ""})
    assert refused.status_code == 200 and "Choose who takes on" in refused.content.decode()
    done = client.post(
        reverse("departures:person", args=[person.pk]), {"successor": other_executive.pk}
    )
    assert done.status_code == 302
    person.refresh_from_db()
    assert not person.is_active and holdings_of(person).count == 0
    # People and the departures list lead there.
    assert reverse("departures:list") in client.get(reverse("teams:people")).content.decode()
    listing = client.get(reverse("departures:list"), {"person": other_executive.pk})
    assert listing.url == reverse("departures:person", args=[other_executive.pk])


def test_deactivating_in_the_admin_leads_to_the_departures_page(client, departing):
    from django.contrib.auth import get_user_model

    person = departing["person"]
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-12345678")
    client.force_login(root)
    form = client.get(f"/admin/auth/user/{person.pk}/change/").context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("password", "is_active")
    }
    data["groups"] = [g.pk for g in person.groups.all()]
    data["user_permissions"] = []
    data["date_joined_0"], data["date_joined_1"] = (
        person.date_joined.strftime("%Y-%m-%d"),
        person.date_joined.strftime("%H:%M:%S"),
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = client.post(f"/admin/auth/user/{person.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert response.url == reverse("departures:person", args=[person.pk])
    person.refresh_from_db()
    assert not person.is_active
    # Another admin sees who left still holding something.
    assert person in people_who_left_holding_something()
