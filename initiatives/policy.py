"""The one place that answers "may this user do this to this object?".

Views, the API, admin actions and tasks all ask here. A page decides once per request:
`get_for_user(user, queryset, action=..., **lookup)` returns the object and an
`InitiativeAccess`, everything the person may do with its initiative, built by
`access_for` from one read of their roles and relations. `can(user, action, obj)` answers a
single question the same way. Rules:

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
- Everybody who reads an initiative reads its comments and files. Everybody who
  reads it may comment, except those whose only tie is the viewer role: owner,
  sponsor, members, the team's people, executives and admins. Authors edit their
  own comments (within the edit window); authors and admins delete them. Files
  go on checklist items for those who edit the checklist; a file is deleted by
  whoever uploaded it or edits the initiative.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from teams.models import TeamMembership
from teams.policy import (
    CREATE_ROLES,
    READ_ALL_ROLES,
    is_admin,
    may_manage_team,
    reads_everything,
    team_role,
)
from teams.roles import (
    PortfolioRole,
    has_role,
    portfolio_roles,
    read_roles,
    roles_are_read,
)


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
    COMMENT = "comment"
    EDIT_COMMENT = "edit_comment"
    DELETE_COMMENT = "delete_comment"
    DELETE_ATTACHMENT = "delete_attachment"
    IMPORT_PORTFOLIO = "import_portfolio"


# Asked about one comment or file, not about its initiative: the answer depends on who wrote it.
CONTRIBUTION_ACTIONS = frozenset(
    {Action.EDIT_COMMENT, Action.DELETE_COMMENT, Action.DELETE_ATTACHMENT}
)


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


def sight_key(user) -> str:
    """Who sees the same initiatives as `user`, as part of a cache key: "all" for readers
    of everything (they share one copy), "person:<id>" for everyone else, whose part of
    the portfolio is theirs alone. What changes a person's part (their initiatives, team
    memberships, roles) moves the portfolio version on (`core.versions`)."""
    return "all" if reads_everything(user) else f"person:{user.pk}"


def initiative_readers(initiative) -> QuerySet:
    """Active people who may read `initiative`: the twin, person by person, of
    `visible_initiatives_filter` (a test holds the two to the same answer)."""
    from django.contrib.auth import get_user_model

    from initiatives.models import Membership

    User = get_user_model()
    # EXISTS for every tie: no joins, so no duplicate people and no DISTINCT.
    return User.objects.filter(is_active=True).filter(
        Q(is_superuser=True)
        | Exists(
            User.groups.through.objects.filter(
                user=OuterRef("pk"), group__name__in=list(READ_ALL_ROLES)
            )
        )
        | Q(pk__in=[initiative.owner_id, initiative.sponsor_id])
        | Exists(Membership.objects.filter(initiative=initiative.pk, user=OuterRef("pk")))
        | Exists(TeamMembership.objects.filter(team=initiative.team_id, user=OuterRef("pk")))
    )


@dataclass(frozen=True)
class InitiativeAccess:
    """What one person may do with one initiative: decided once, then read many times.

    Build it with `access_for` (one read of the person's roles and relations at most);
    views get it with the object from `get_for_user` and pass it to whatever they render.
    """

    user_id: int | None = None
    can_view: bool = False
    can_edit: bool = False
    is_member: bool = False
    is_admin: bool = False
    # Readers write comments, except those whose only tie is the viewer role.
    can_comment: bool = False

    @property
    def can_edit_checklist(self) -> bool:
        """Tick items and attach evidence: the owner's side and the initiative's members."""
        return self.can_edit or self.is_member

    @property
    def can_record_measurement(self) -> bool:
        return self.can_edit_checklist

    @property
    def can_request_review(self) -> bool:
        return self.can_edit

    @property
    def can_manage_gatekeepers(self) -> bool:
        return self.is_admin

    def can_vote(self, gate) -> bool:
        """Only a gate's own gatekeepers decide it (admins included only when named)."""
        if gate is None or self.user_id is None:
            return False
        # Uses the gatekeepers the caller prefetched, when it did.
        cache = getattr(gate, "_prefetched_objects_cache", {})
        if "gatekeepers" in cache:
            return any(keeper.user_id == self.user_id for keeper in cache["gatekeepers"])
        return gate.gatekeepers.filter(user_id=self.user_id).exists()

    def allows(self, action: Action | str, gate=None) -> bool:
        """May the person do `action` to the initiative (or to `gate`, for a vote)?"""
        action = Action(action)
        return {
            Action.VIEW: lambda: self.can_view,
            Action.EDIT: lambda: self.can_edit,
            Action.EDIT_CHECKLIST: lambda: self.can_edit_checklist,
            Action.RECORD_MEASUREMENT: lambda: self.can_record_measurement,
            Action.REQUEST_REVIEW: lambda: self.can_request_review,
            Action.MANAGE_GATEKEEPERS: lambda: self.can_manage_gatekeepers,
            Action.VOTE: lambda: self.can_vote(gate),
            Action.COMMENT: lambda: self.can_comment,
        }.get(action, lambda: False)()


NO_ACCESS = InitiativeAccess()


def access_for(user, initiative) -> InitiativeAccess:
    """Everything `user` may do with `initiative`, from at most one query.

    Reads the person's portfolio and team roles (kept on the user for the request) and,
    unless the initiative's memberships were prefetched, whether they are on its team.
    """
    if user is None or not user.is_authenticated or not user.is_active or initiative is None:
        return NO_ACCESS
    member_ids = _prefetched_member_ids(initiative)
    if member_ids is not None:
        is_member = user.pk in member_ids
        portfolio_roles(user)  # no query once the roles were read
    elif not roles_are_read(user):
        # One query for the roles and the membership together.
        from initiatives.models import Membership

        on_team = Membership.objects.filter(initiative=initiative.pk, user=OuterRef("pk"))
        is_member = bool(read_roles(user, on_initiative=Exists(on_team)).get("on_initiative"))
    else:
        is_member = initiative.memberships.filter(user=user).exists()
    admin = is_admin(user)
    owns = user.pk == initiative.owner_id
    lead = team_role(user, initiative.team_id)
    tied = user.pk in (initiative.owner_id, initiative.sponsor_id) or lead is not None or is_member
    can_view = reads_everything(user) or tied
    return InitiativeAccess(
        user_id=user.pk,
        can_view=can_view,
        can_comment=can_view and (tied or bool(portfolio_roles(user) - {PortfolioRole.VIEWER})),
        can_edit=admin
        or owns
        or (has_role(user, {PortfolioRole.PRODUCT_MANAGER}) and lead == TeamMembership.Role.LEAD),
        is_member=is_member,
        is_admin=admin,
    )


def _prefetched_member_ids(initiative) -> set[int] | None:
    cache = getattr(initiative, "_prefetched_objects_cache", {})
    if "memberships" not in cache:
        return None
    return {membership.user_id for membership in cache["memberships"]}


def can(user, action: Action | str, obj=None) -> bool:
    """May `user` do `action` to `obj`? `obj` is an initiative, a gate, an item, a target,
    a team or None. For several questions about one initiative, ask `access_for` once."""
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

    if action in CONTRIBUTION_ACTIONS:
        return _changes_own_contribution(user, action, obj)

    initiative, gate = _resolve(obj)
    return access_for(user, initiative).allows(action, gate)


def get_for_user(user, queryset: QuerySet, *, action: Action | None = None, **lookup):
    """(object, access): the object `lookup` finds in `queryset`, and what the user may do
    with its initiative.

    Raises Http404 when there is no such object or the user may not see its initiative
    (outsiders learn nothing), PermissionDenied when the user may see it but not do
    `action`.
    """
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise Http404("Nothing here.")
    initiative, gate = _resolve(obj)
    access = access_for(user, initiative)
    if not access.can_view:
        raise Http404("Nothing here.")
    if action is not None and not access.allows(action, gate):
        raise PermissionDenied
    return obj, access


def _changes_own_contribution(user, action: Action, obj) -> bool:
    """A comment's author edits it; authors and admins delete comments; files go with
    their uploader or the initiative's editors. Nobody acts on what they cannot read."""
    access = access_for(user, obj.initiative)
    if not access.can_view:
        return False
    if action == Action.EDIT_COMMENT:
        return obj.author_id == user.pk
    if action == Action.DELETE_COMMENT:
        return obj.author_id == user.pk or access.is_admin
    return obj.uploaded_by_id == user.pk or access.can_edit


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
