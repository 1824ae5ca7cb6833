"""Personas shared by every test file: one user per way of relating to `initiative`.

`initiative` is in the first stage of the default ai-maturity framework, owned by
`owner`, sponsored by `executive` (its only gatekeeper), in `team` led by
`team_lead`; `team_member` is a plain member of that team and `member` is on the
initiative itself. `other_pm` leads `other_team`, which has nothing to do with it.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache

from teams.models import TeamMembership
from teams.roles import PortfolioRole, StageRole
from tests.factories import (
    InitiativeFactory,
    MembershipFactory,
    TeamFactory,
    TeamMembershipFactory,
    UserFactory,
)

# Kinds of test that are slow by nature; `make test-fast` (-m "not slow") leaves them out.
SLOW_MARKERS = {"browser", "celery_worker"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_MARKERS & {marker.name for marker in item.iter_markers()}:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _empty_cache():
    # Cached figures and counters must not leak from one test into the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def admin_user(db):
    """A portfolio admin (group, staff, not superuser); overrides pytest-django's."""
    return UserFactory(username="admin", is_staff=True, groups=[PortfolioRole.ADMIN])


@pytest.fixture
def executive(db):
    """An executive; the sponsor and gatekeeper of `initiative`."""
    return UserFactory(username="exec", groups=[PortfolioRole.EXECUTIVE])


@pytest.fixture
def other_executive(db):
    """An executive with no tie to `initiative` (not a gatekeeper until added)."""
    return UserFactory(username="exec2", groups=[PortfolioRole.EXECUTIVE])


@pytest.fixture
def owner(db):
    """A product manager who owns `initiative` (not in its team)."""
    return UserFactory(username="pm", groups=[PortfolioRole.PRODUCT_MANAGER])


@pytest.fixture
def team(db):
    """The team `initiative` belongs to."""
    return TeamFactory(name="Customer Support AI", slug="support-ai")


@pytest.fixture
def team_lead(team):
    """A product manager who leads `team`."""
    user = UserFactory(username="lead", groups=[PortfolioRole.PRODUCT_MANAGER])
    TeamMembershipFactory(team=team, user=user, role=TeamMembership.Role.LEAD)
    return user


@pytest.fixture
def team_member(team):
    """A contributor who is a plain member of `team` but not on `initiative`."""
    user = UserFactory(username="teammate", groups=[PortfolioRole.CONTRIBUTOR])
    TeamMembershipFactory(team=team, user=user, role=TeamMembership.Role.MEMBER)
    return user


@pytest.fixture
def other_team(db):
    """A second team, unrelated to `initiative`."""
    return TeamFactory(name="Finance Automation", slug="finance-automation")


@pytest.fixture
def other_pm(other_team):
    """A product manager who leads `other_team`."""
    user = UserFactory(username="pm2", groups=[PortfolioRole.PRODUCT_MANAGER])
    TeamMembershipFactory(team=other_team, user=user, role=TeamMembership.Role.LEAD)
    return user


@pytest.fixture
def outsider(db):
    """A contributor with no relation to any initiative."""
    return UserFactory(username="outsider", groups=[PortfolioRole.CONTRIBUTOR])


@pytest.fixture
def viewer(db):
    """A read-only viewer."""
    return UserFactory(username="viewer", groups=[PortfolioRole.VIEWER])


@pytest.fixture
def inactive_user(db):
    """A deactivated portfolio admin: being inactive must outweigh every role."""
    return UserFactory(username="gone", is_active=False, groups=[PortfolioRole.ADMIN])


@pytest.fixture
def anonymous():
    """The anonymous user of a request without a session."""
    return AnonymousUser()


@pytest.fixture
def initiative(team, team_lead, owner, executive):
    """An ai-maturity initiative in its first stage (PoC) with its first gate open."""
    return InitiativeFactory(
        name="Support reply drafting", team=team, owner=owner, sponsor=executive
    )


@pytest.fixture
def gate(initiative):
    """The open exit gate of `initiative`'s current stage."""
    return initiative.gates.get()


@pytest.fixture
def member(initiative):
    """A contributor on `initiative` as its ML engineer."""
    user = UserFactory(username="contrib", groups=[PortfolioRole.CONTRIBUTOR])
    MembershipFactory(initiative=initiative, user=user, stage_role=StageRole.ML_ENGINEER)
    return user


@pytest.fixture
def other_initiative(other_team, other_pm, other_executive):
    """An initiative of `other_team`, owned by `other_pm` and sponsored by `other_executive`."""
    return InitiativeFactory(
        name="Invoice matching", team=other_team, owner=other_pm, sponsor=other_executive
    )
