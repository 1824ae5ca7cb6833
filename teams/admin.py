from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Count

from core.formatting import counted
from teams.forms import (
    BoundedAdminAuthenticationForm,
    BoundedAdminPasswordChangeForm,
    BoundedAdminSitePasswordChangeForm,
    BoundedUserChangeForm,
    BoundedUserCreationForm,
)
from teams.models import Team, TeamMembership


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "joined_at"]
    readonly_fields = ["joined_at"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "member_count", "initiative_count", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TeamMembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("memberships", distinct=True),
                initiative_count=Count("initiatives", distinct=True),
            )
        )

    @admin.display(description="members", ordering="member_count")
    def member_count(self, team: Team) -> int:
        return team.member_count

    @admin.display(description="initiatives", ordering="initiative_count")
    def initiative_count(self, team: Team) -> int:
        return team.initiative_count


@admin.register(TeamMembership)
class TeamMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role", "joined_at"]
    list_filter = ["role", "team"]
    list_select_related = ["user", "team"]
    search_fields = [
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__email",
        "team__name",
    ]
    autocomplete_fields = ["user", "team"]


@admin.action(description="Email a set-password link (invitation)")
def send_invitations(modeladmin, request, queryset):
    from django.contrib import messages
    from django.core.exceptions import ValidationError

    from teams.services import invitation_send

    sent = 0
    for user in queryset:
        try:
            invitation_send(user=user, actor=request.user)
        except ValidationError:
            modeladmin.message_user(
                request, f"{user.get_username()} has no email address.", messages.WARNING
            )
        else:
            sent += 1
    modeladmin.message_user(request, f"Sent {counted(sent, 'set-password link')}.")


# The admin's sign-in and change-my-password forms, bounded like every other.
admin.site.login_form = BoundedAdminAuthenticationForm
admin.site.password_change_form = BoundedAdminSitePasswordChangeForm

# Django's own user admin gains the action, and its forms are the bounded ones.
_user_admin = admin.site._registry.get(get_user_model())
if _user_admin is not None:

    class BoundedUserAdmin(type(_user_admin)):
        form = BoundedUserChangeForm
        add_form = BoundedUserCreationForm
        change_password_form = BoundedAdminPasswordChangeForm
        actions = [*(_user_admin.actions or []), send_invitations]

    admin.site.unregister(get_user_model())
    admin.site.register(get_user_model(), BoundedUserAdmin)
