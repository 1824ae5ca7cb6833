"""Writes to teams and people: team membership and invitations."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core import background
from core.tasks import email_send_task
from teams.models import Team, TeamMembership


@transaction.atomic
def team_member_add(*, team: Team, user, role: str = TeamMembership.Role.MEMBER) -> TeamMembership:
    """Put a person in a team as lead or member."""
    if TeamMembership.objects.filter(team=team, user=user).exists():
        raise ValidationError(f"{user} is already in {team}.")
    membership = TeamMembership(team=team, user=user, role=role)
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def team_member_set_role(*, membership: TeamMembership, role: str) -> TeamMembership:
    """Make a team member a lead, or a lead a plain member."""
    if role not in TeamMembership.Role.values:
        raise ValidationError(f"Unknown team role: {role}.")
    locked = TeamMembership.objects.select_for_update().get(pk=membership.pk)
    locked.role = role
    locked.save(update_fields=["role"])
    return locked


@transaction.atomic
def team_member_remove(*, membership: TeamMembership) -> None:
    """Take a person out of a team (their initiative memberships stay)."""
    TeamMembership.objects.filter(pk=membership.pk).delete()


def invitation_link(user) -> str:
    """An absolute set-password link for the user, valid as long as a password reset link."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL.rstrip("/") + path


def _send_invitation(user_id: int, inviter_name: str) -> None:
    """Render the invitation and hand it to a worker (a background thread without a
    broker): the mail server's seconds are never part of the admin's request."""
    user = get_user_model().objects.get(pk=user_id)
    context = {"user": user, "inviter": inviter_name, "link": invitation_link(user)}
    background.dispatch(
        email_send_task,
        render_to_string("teams/email/invitation_subject.txt", context).strip(),
        render_to_string("teams/email/invitation.txt", context),
        [user.email],
    )


@transaction.atomic
def user_invite(
    *,
    actor: AbstractBaseUser,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    roles: list[str] | None = None,
):
    """Create a user without a password and email them a link to set one."""
    user_model = get_user_model()
    email = user_model.objects.normalize_email(email).strip()
    if not email:
        raise ValidationError({"email": "An invitation needs an email address."})
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "That username is taken."})
    if user_model.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "Somebody already uses that email address."})
    user = user_model(username=username, email=email, first_name=first_name, last_name=last_name)
    # Nobody knows an unusable password, so the emailed link is the only way in.
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if roles:
        user.groups.add(*Group.objects.filter(name__in=roles))
    invitation_send(user=user, actor=actor)
    return user


def invitation_send(*, user: AbstractBaseUser, actor: AbstractBaseUser) -> None:
    """Email the user a set-password link once the surrounding transaction commits."""
    if not user.email:
        raise ValidationError({"email": f"{user.get_username()} has no email address."})
    inviter = actor.get_full_name() or actor.get_username()
    transaction.on_commit(lambda: _send_invitation(user.pk, inviter))
