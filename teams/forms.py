from django import forms
from django.contrib.admin import forms as admin_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    AuthenticationForm,
    PasswordChangeForm,
    SetPasswordForm,
    UserChangeForm,
)

from core.forms import BoundedForm, BoundedFormMixin
from core.web import person_name
from teams.models import Team, TeamMembership
from teams.roles import PortfolioRole


def _person_label(user) -> str:
    return person_name(user)


class TeamMemberAddForm(BoundedForm):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label="Person")
    role = forms.ChoiceField(
        choices=TeamMembership.Role.choices, initial=TeamMembership.Role.MEMBER
    )

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(is_active=True)
            .exclude(team_memberships__team=team)
            .order_by("first_name", "last_name", "username")
        )
        self.fields["user"].label_from_instance = _person_label


class TeamMemberRoleForm(BoundedForm):
    role = forms.ChoiceField(choices=TeamMembership.Role.choices)


class InvitationForm(BoundedForm):
    username = forms.CharField(max_length=150)
    email = forms.EmailField()
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    roles = forms.MultipleChoiceField(
        choices=PortfolioRole.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Portfolio roles",
        initial=[PortfolioRole.CONTRIBUTOR],
    )

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken.")
        return username

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("Somebody already uses that email address.")
        return email


class PeopleFilterForm(BoundedForm):
    over = forms.BooleanField(required=False, label="Only over 100%")


class SignInForm(BoundedFormMixin, AuthenticationForm):
    """The sign-in form with every field bounded: a username longer than the column is
    refused by the form, before the lockout records the attempt (it answered 500)."""


# Django's own account and admin forms, bounded like every form of Tollgate's (a new
# password is hashed: an unbounded one lets a single request hold a worker). The URL conf
# and the user admin use these; tests/test_input_properties.py finds every form they use.
class BoundedSetPasswordForm(BoundedFormMixin, SetPasswordForm):
    pass


class BoundedPasswordChangeForm(BoundedFormMixin, PasswordChangeForm):
    pass


class BoundedAdminAuthenticationForm(BoundedFormMixin, admin_forms.AdminAuthenticationForm):
    pass


class BoundedAdminSitePasswordChangeForm(BoundedFormMixin, admin_forms.AdminPasswordChangeForm):
    """The admin's own "change my password" (asks for the old one)."""


class BoundedAdminPasswordChangeForm(BoundedFormMixin, AdminPasswordChangeForm):
    """An admin setting somebody's password (no old one)."""


class BoundedUserCreationForm(BoundedFormMixin, AdminUserCreationForm):
    pass


class BoundedUserChangeForm(BoundedFormMixin, UserChangeForm):
    pass
