import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from teams import services
from teams.models import TeamMembership

pytestmark = pytest.mark.django_db


def test_a_person_joins_a_team_once(team, team_member):
    with pytest.raises(ValidationError):
        services.team_member_add(team=team, user=team_member)


def test_a_team_role_is_lead_or_member(team, team_member):
    membership = TeamMembership.objects.get(team=team, user=team_member)
    with pytest.raises(ValidationError):
        services.team_member_set_role(membership=membership, role="owner")
    assert services.team_member_set_role(membership=membership, role="lead").role == "lead"


def test_removing_a_team_member_keeps_their_initiative_roles(team, team_lead, initiative):
    initiative.memberships.create(user=team_lead, stage_role="product_manager")
    membership = TeamMembership.objects.get(team=team, user=team_lead)
    services.team_member_remove(membership=membership)
    assert not TeamMembership.objects.filter(pk=membership.pk).exists()
    assert initiative.memberships.filter(user=team_lead).exists()


def test_an_invitation_mails_after_the_commit_only(admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        user = services.user_invite(actor=admin_user, username="ines", email="ines@example.com")
    assert mail.outbox == []  # a rolled-back invitation sends nothing
    assert not user.has_usable_password()
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [["ines@example.com"]]
    assert services.invitation_link(user).startswith("http://127.0.0.1:8000/accounts/reset/")


def test_an_invitation_needs_an_email(admin_user):
    with pytest.raises(ValidationError):
        services.user_invite(actor=admin_user, username="ines", email="  ")
