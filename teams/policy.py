"""Rules that depend only on who a person is: portfolio roles and team leadership.

The rules about initiatives build on these in `initiatives.policy`.
"""

from __future__ import annotations

from teams.models import Team, TeamMembership
from teams.roles import PortfolioRole, has_role, team_roles

# Roles that read every initiative in the portfolio.
READ_ALL_ROLES = frozenset(
    {PortfolioRole.ADMIN, PortfolioRole.EXECUTIVE, PortfolioRole.VIEWER, PortfolioRole.COMPLIANCE}
)
# Who may own an initiative, and who may sponsor one (the sponsor is its default gatekeeper).
OWNER_ROLES = frozenset({PortfolioRole.PRODUCT_MANAGER, PortfolioRole.ADMIN})
SPONSOR_ROLES = frozenset({PortfolioRole.EXECUTIVE, PortfolioRole.ADMIN})
# Who may start initiatives, and who may be asked to decide gates.
CREATE_ROLES = OWNER_ROLES
DECIDER_ROLES = frozenset({PortfolioRole.EXECUTIVE, PortfolioRole.ADMIN})


def is_active_user(user) -> bool:
    """Signed in and not deactivated: nobody else may do anything."""
    return user is not None and user.is_authenticated and user.is_active


WRITING_ROLES = frozenset(PortfolioRole) - {PortfolioRole.VIEWER}


def may_write(user) -> bool:
    """Can this person change anything at all? Viewers read, and nothing else."""
    return user.is_superuser or has_role(user, WRITING_ROLES)


def is_admin(user) -> bool:
    """Portfolio admins (and superusers) may do everything."""
    return has_role(user, {PortfolioRole.ADMIN})


def reads_everything(user) -> bool:
    """Admins, executives, viewers and compliance officers read the whole portfolio."""
    return has_role(user, READ_ALL_ROLES)


def may_own_initiatives(user) -> bool:
    """Active product managers and admins may own an initiative."""
    return user.is_active and has_role(user, OWNER_ROLES)


def may_sponsor_initiatives(user) -> bool:
    """Active executives (and admins) may sponsor one, and so be its default gatekeeper."""
    return user.is_active and has_role(user, SPONSOR_ROLES)


def team_role(user, team: Team | int | None) -> str | None:
    """The user's role in the team ("lead", "member"), or None."""
    if team is None:
        return None
    team_id = team if isinstance(team, int) else team.pk
    return team_roles(user).get(team_id)


def may_manage_team(user, team: Team | int | None) -> bool:
    """Admins manage every team; a team's leads manage its members."""
    return is_admin(user) or team_role(user, team) == TeamMembership.Role.LEAD
