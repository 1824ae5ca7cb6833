"""A person leaves: everything they hold passes to a successor in one transaction."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from departures.selectors import Holdings, holdings_of
from gates.services.decisions import gatekeeper_add, gatekeeper_remove
from gates.services.lifecycle import initiative_update
from initiatives.services import membership_remove
from teams.models import TeamMembership
from teams.policy import may_own_initiatives, may_sponsor_initiatives


def successor_problems(holdings: Holdings, successor) -> dict[str, str]:
    """Why `successor` cannot take on what `holdings.person` holds, by form field."""
    if successor is None:
        if holdings.needs_owner or holdings.needs_sponsor or holdings.teams_led:
            return {"successor": "Choose who takes on what this person holds."}
        return {}
    if successor.pk == holdings.person.pk:
        return {"successor": "Choose somebody else: the successor must stay."}
    if not successor.is_active:
        return {"successor": f"{successor} is deactivated."}
    if holdings.needs_owner and not may_own_initiatives(successor):
        return {"successor": f"{successor} may not own initiatives (product managers, admins)."}
    if holdings.needs_sponsor and not may_sponsor_initiatives(successor):
        return {"successor": f"{successor} may not sponsor or decide gates (executives, admins)."}
    return {}


@transaction.atomic
def departure_complete(*, person, successor, actor) -> Holdings:
    """Deactivate `person` and hand what they hold to `successor`, all or nothing.

    Open initiatives they own or sponsor get the successor as owner or sponsor (and so as
    gatekeeper of the gate in play); the gates they keep that are still undecided get the
    successor instead; teams they lead get the successor as lead; they leave their teams
    and initiative teams; their API tokens are revoked and their watches end. Decided gates,
    votes, comments and the activity log keep their name. Returns what they held.
    Raises ValidationError (by field) when the successor cannot take it on.
    """
    User = get_user_model()
    person = User.objects.select_for_update().get(pk=person.pk)
    holdings = holdings_of(person)
    if problems := successor_problems(holdings, successor):
        raise ValidationError(problems)
    if person.is_active:
        person.is_active = False
        person.save(update_fields=["is_active"])

    for initiative in {i.pk: i for i in [*holdings.owned, *holdings.sponsored]}.values():
        fields = {}
        if initiative.owner_id == person.pk:
            fields["owner"] = successor
        if initiative.sponsor_id == person.pk:
            fields["sponsor"] = successor
        initiative_update(initiative=initiative, actor=actor, **fields)

    # Gates kept by the sponsor moved with the sponsor above; these are the others.
    for keeper in holdings_of(person).gatekeeping:
        gate = keeper.gate
        gatekeeper_add(gate=gate, user=successor, actor=actor)
        # The gate's own rule for removal: logged, and an "all" review that now has every
        # vote it waits for is decided.
        gatekeeper_remove(gate=gate, user=person, actor=actor)

    for team in holdings.teams_led:
        TeamMembership.objects.update_or_create(
            team=team, user=successor, defaults={"role": TeamMembership.Role.LEAD}
        )
    TeamMembership.objects.filter(user=person).delete()
    for membership in holdings.initiative_memberships:
        membership_remove(membership=membership, actor=actor)
    for token in holdings.tokens:
        token.revoke()
    for watch in holdings.watches:
        watch.delete()
    return holdings
