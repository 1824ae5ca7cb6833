import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction

from teams.models import TeamMembership
from teams.roles import PortfolioRole, portfolio_roles
from tests.factories import TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_person_is_in_a_team_once(team, team_lead):
    with pytest.raises(IntegrityError), transaction.atomic():
        TeamMembershipFactory(team=team, user=team_lead, role=TeamMembership.Role.MEMBER)


def test_team_role_is_lead_or_member(team, outsider):
    with pytest.raises(IntegrityError), transaction.atomic():
        TeamMembershipFactory(team=team, user=outsider, role="owner")


def test_portfolio_roles_come_from_groups(owner, viewer):
    assert portfolio_roles(owner) == {PortfolioRole.PRODUCT_MANAGER}
    assert portfolio_roles(viewer) == {PortfolioRole.VIEWER}


def test_a_superuser_holds_the_admin_role():
    assert PortfolioRole.ADMIN in portfolio_roles(UserFactory(is_superuser=True))


def test_anonymous_has_no_roles():
    assert portfolio_roles(AnonymousUser()) == set()


def test_roles_are_read_once_per_user_object(executive, django_assert_num_queries):
    portfolio_roles(executive)
    with django_assert_num_queries(0):
        assert portfolio_roles(executive) == {PortfolioRole.EXECUTIVE}
