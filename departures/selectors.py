"""What a person holds in Tollgate: everything that would wait on them if they left."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q

from apiauth.models import ApiToken
from collaboration.models import Watch
from gates.models import Gate, Gatekeeper
from initiatives.models import Initiative, Membership
from teams.models import TeamMembership

OPEN_STATUSES = [Initiative.Status.ACTIVE, Initiative.Status.ON_HOLD]


@dataclass
class Holdings:
    """Lists of what `person` holds; `count` is how many things that is."""

    person: object
    owned: list = field(default_factory=list)
    sponsored: list = field(default_factory=list)
    gatekeeping: list = field(default_factory=list)  # Gatekeeper rows on undecided gates
    teams_led: list = field(default_factory=list)
    team_memberships: list = field(default_factory=list)
    initiative_memberships: list = field(default_factory=list)
    tokens: list = field(default_factory=list)
    watches: list = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(
            len(getattr(self, name))
            for name in (
                "owned",
                "sponsored",
                "gatekeeping",
                "team_memberships",
                "initiative_memberships",
                "tokens",
                "watches",
            )
        )

    @property
    def needs_owner(self) -> bool:
        return bool(self.owned)

    @property
    def needs_sponsor(self) -> bool:
        return bool(self.sponsored or self.gatekeeping)


def holdings_of(person) -> Holdings:
    """Everything `person` holds that somebody else must take on when they leave.

    Initiatives that ended (stopped, done) keep their owner and sponsor as history.
    """
    return Holdings(
        person=person,
        owned=list(
            Initiative.objects.filter(owner=person, status__in=OPEN_STATUSES).order_by("key")
        ),
        sponsored=list(
            Initiative.objects.filter(sponsor=person, status__in=OPEN_STATUSES).order_by("key")
        ),
        gatekeeping=list(
            Gatekeeper.objects.filter(user=person)
            .exclude(gate__state=Gate.State.DECIDED)
            .select_related("gate__initiative", "gate__stage")
            .order_by("gate__initiative__key", "pk")
        ),
        teams_led=[
            m.team
            for m in TeamMembership.objects.filter(
                user=person, role=TeamMembership.Role.LEAD
            ).select_related("team")
        ],
        team_memberships=list(
            TeamMembership.objects.filter(user=person).select_related("team").order_by("pk")
        ),
        initiative_memberships=list(
            Membership.objects.filter(user=person)
            .select_related("initiative")
            .order_by("initiative__key", "pk")
        ),
        tokens=list(ApiToken.objects.filter(user=person).usable().order_by("pk")),
        watches=list(
            Watch.objects.filter(user=person, watching=True)
            .select_related("initiative")
            .order_by("pk")
        ),
    )


def people_who_left_holding_something():
    """Deactivated people who still own, sponsor, keep a gate or lead a team."""
    User = get_user_model()
    open_initiatives = Initiative.objects.filter(status__in=OPEN_STATUSES)
    return (
        User.objects.filter(is_active=False)
        .filter(
            Q(Exists(open_initiatives.filter(owner=OuterRef("pk"))))
            | Q(Exists(open_initiatives.filter(sponsor=OuterRef("pk"))))
            | Q(
                Exists(
                    Gatekeeper.objects.filter(user=OuterRef("pk")).exclude(
                        gate__state=Gate.State.DECIDED
                    )
                )
            )
            | Q(Exists(TeamMembership.objects.filter(user=OuterRef("pk"))))
            | Q(Exists(Membership.objects.filter(user=OuterRef("pk"))))
        )
        .order_by("username", "pk")
    )
