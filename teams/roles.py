"""Who people are in Tollgate: portfolio roles (Django groups), team roles and stage roles."""

from __future__ import annotations

import contextlib

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Q, QuerySet


class PortfolioRole(models.TextChoices):
    """Each is a Django group; a user may be in several."""

    ADMIN = "portfolio_admin", "Portfolio admin"
    EXECUTIVE = "executive", "Executive"
    PRODUCT_MANAGER = "product_manager", "Product manager"
    CONTRIBUTOR = "contributor", "Contributor"
    VIEWER = "viewer", "Viewer"
    # Reads the whole portfolio and confirms EU AI Act classifications (compliance.policy).
    COMPLIANCE = "compliance", "Compliance officer"


class StageRole(models.TextChoices):
    """The role a person plays on an initiative's team."""

    ML_ENGINEER = "ml_engineer", "ML engineer"
    DATA_SCIENTIST = "data_scientist", "Data scientist"
    PRODUCT_MANAGER = "product_manager", "Product manager"
    SOFTWARE_ENGINEER = "software_engineer", "Software engineer"
    UX_DESIGNER = "ux_designer", "UX designer"
    DATA_ENGINEER = "data_engineer", "Data engineer"
    MLOPS_ENGINEER = "mlops_engineer", "MLOps engineer"
    PLATFORM_ENGINEER = "platform_engineer", "Platform engineer"
    DOMAIN_EXPERT = "domain_expert", "Domain expert"
    EXECUTIVE_SPONSOR = "executive_sponsor", "Executive sponsor"


def portfolio_roles(user) -> set[str]:
    """The portfolio roles of a user, read once per user object (see `read_roles`)."""
    if not user.is_authenticated:
        return set()
    return _load_roles(user)[0]


def team_roles(user) -> dict[int, str]:
    """{team id: "lead" or "member"} for every team the user is in, read with the roles."""
    if not user.is_authenticated:
        return {}
    return _load_roles(user)[1]


def forget_roles(user) -> None:
    """Drop what `read_roles` kept, so the next question reads the roles again."""
    # `del`, not a __dict__ lookup: request.user is a lazy object that forwards attributes.
    with contextlib.suppress(AttributeError):
        del user._tollgate_roles


def roles_are_read(user) -> bool:
    """Were the user's roles read already (so asking about them costs no query)?"""
    return getattr(user, "_tollgate_roles", None) is not None


def read_roles(user, **also) -> dict:
    """Read the user's portfolio and team roles in one query and keep them for the request.

    `also` are expressions about the user row (an Exists, say) that the caller wants from
    the same query; their values come back in a dict. The query joins the user's groups
    and team memberships; both lists are short, so their product is a handful of rows.
    """
    groups: set[str] = set()
    teams: dict[int, str] = {}
    extra: dict = {}
    rows = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(**also)
        .values_list("groups__name", "team_memberships__team_id", "team_memberships__role", *also)
    )
    for group, team_id, role, *values in rows:
        if group is not None:
            groups.add(group)
        if team_id is not None:
            teams[team_id] = role
        extra = dict(zip(also, values, strict=True))
    if user.is_superuser:
        groups.add(PortfolioRole.ADMIN)
    user._tollgate_roles = (groups, teams)
    return extra


def _load_roles(user) -> tuple[set[str], dict[int, str]]:
    if not roles_are_read(user):
        read_roles(user)
    return user._tollgate_roles


def has_role(user, roles) -> bool:
    """Does the user hold any of `roles` (superusers hold the admin role)?"""
    return bool(set(roles) & portfolio_roles(user))


def users_with_roles(roles) -> QuerySet:
    """Active people who hold any of `roles`: the query twin of `has_role`."""
    holds = Q(groups__name__in=list(roles))
    if PortfolioRole.ADMIN in roles:
        holds |= Q(is_superuser=True)
    return get_user_model().objects.filter(holds, is_active=True).distinct()
