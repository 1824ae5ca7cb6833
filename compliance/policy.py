"""Who may classify an initiative and who may confirm a classification."""

from __future__ import annotations

from compliance.models import COMPLIANCE_GROUP
from teams.policy import is_admin
from teams.roles import portfolio_roles


def may_confirm(user) -> bool:
    """Portfolio admins and the compliance role confirm classifications."""
    return bool(user.is_authenticated and user.is_active) and (
        is_admin(user) or COMPLIANCE_GROUP in portfolio_roles(user)
    )
