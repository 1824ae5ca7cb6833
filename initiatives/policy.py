"""The one place that answers "may this user do this to this object?".

Views, the API, admin actions and tasks all ask here. Rules:

- Portfolio admins (and superusers) may do everything.
- Executives and viewers read every initiative; everybody else reads the
  initiatives they own, sponsor or are a member of, and those of teams they
  belong to.
- Product managers create initiatives, and edit the ones they own or whose
  team they lead. The owner of an initiative may always edit it.
- Members of an initiative (contributors included) edit its checklists and
  record measurements.
- Gates are decided by their gatekeepers (the sponsor by default, plus the
  executives an admin adds); only the owner's side asks for a review.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Exists, OuterRef, Q

from teams.models import TeamMembership
from teams.policy import CREATE_ROLES, is_admin, may_manage_team, reads_everything, team_role
from teams.roles import PortfolioRole, portfolio_roles


class Action(StrEnum):
    VIEW = "view"
    CREATE = "create"
    EDIT = "edit"
    EDIT_CHECKLIST = "edit_checklist"
    RECORD_MEASUREMENT = "record_measurement"
    REQUEST_REVIEW = "request_review"
    VOTE = "vote"
    MANAGE_GATEKEEPERS = "manage_gatekeepers"
    MANAGE_TEAM = "manage_team"
    VIEW_PORTFOLIO = "view_portfolio"
    IMPORT_PORTFOLIO = "import_portfolio"


def visible_initiatives_filter(user) -> Q | None:
    """None when the user reads everything, an empty Q() when nothing, else a filter."""
    if not user.is_authenticated or not user.is_active:
        return Q()
    if reads_everything(user):
        return None
    from initiatives.models import Membership

    # EXISTS rather than joins: no duplicate rows, so no DISTINCT over the portfolio.
    return (
        Q(owner=user)
        | Q(sponsor=user)
        | Exists(Membership.objects.filter(initiative=OuterRef("pk"), user=user))
        | Exists(TeamMembership.objects.filter(team=OuterRef("team"), user=user))
    )


def _is_member(user, initiative) -> bool:
    # Uses a prefetched memberships list when the caller made one.
    cache = getattr(initiative, "_prefetched_objects_cache", {})
    if "memberships" in cache:
        return any(m.user_id == user.pk for m in cache["memberships"])
    return initiative.memberships.filter(user=user).exists()


def _reads(user, initiative) -> bool:
    if reads_everything(user):
        return True
    if user.pk in (initiative.owner_id, initiative.sponsor_id):
        return True
    return team_role(user, initiative.team_id) is not None or _is_member(user, initiative)


def _edits(user, initiative) -> bool:
    if is_admin(user) or initiative.owner_id == user.pk:
        return True
    return (
        PortfolioRole.PRODUCT_MANAGER in portfolio_roles(user)
        and team_role(user, initiative.team_id) == TeamMembership.Role.LEAD
    )


def can(user, action: Action | str, obj=None) -> bool:
    """May `user` do `action` to `obj`? `obj` is an initiative, a gate, an item, a team or None."""
    action = Action(action)
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    roles = portfolio_roles(user)

    if action == Action.VIEW_PORTFOLIO:
        return True
    if action == Action.IMPORT_PORTFOLIO:
        return is_admin(user)
    if action == Action.CREATE:
        return bool(CREATE_ROLES & roles)
    if action == Action.MANAGE_TEAM:
        if obj is None:
            return is_admin(user)
        # Asked about an initiative (or a team membership), answer for its team.
        return may_manage_team(user, getattr(obj, "team_id", None) or obj.pk)

    initiative, gate = _resolve(obj)
    if initiative is None:
        return False
    if action == Action.VIEW:
        return _reads(user, initiative)
    if action == Action.EDIT:
        return _edits(user, initiative)
    if action in (Action.EDIT_CHECKLIST, Action.RECORD_MEASUREMENT):
        return _edits(user, initiative) or _is_member(user, initiative)
    if action == Action.REQUEST_REVIEW:
        return _edits(user, initiative)
    if action == Action.MANAGE_GATEKEEPERS:
        return is_admin(user)
    if action == Action.VOTE:
        if gate is None:
            return False
        return gate.gatekeepers.filter(user=user).exists()
    return False


def _resolve(obj):
    """Find the initiative (and gate) an object belongs to."""
    from initiatives.models import Initiative

    if isinstance(obj, Initiative):
        return obj, None
    gate = getattr(obj, "gate", None)
    if gate is not None:  # a checklist item
        return gate.initiative, gate
    if hasattr(obj, "gatekeepers"):  # a gate
        return obj.initiative, obj
    initiative = getattr(obj, "initiative", None)
    return initiative, None
