from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.htmx import is_htmx, is_partial_request, render_page_or_partial, vary_on_htmx
from core.web import person_name
from initiatives.selectors import (
    FULL_ALLOCATION,
    people_page,
    team_initiatives,
    teams_visible_to,
)
from teams import services
from teams.forms import InvitationForm, PeopleFilterForm, TeamMemberAddForm, TeamMemberRoleForm
from teams.models import Team, TeamMembership
from teams.policy import is_admin, may_manage_team
from teams.roles import forget_roles
from teams.selectors import team_members, with_member_counts


def get_team_for_user(user, slug: str, manage: bool = False) -> Team:
    """The team for a page: 404 for those who cannot see it, 403 for readers who manage."""
    team = teams_visible_to(user).filter(slug=slug).first()
    if team is None:
        raise Http404("No such team.")
    if manage and not may_manage_team(user, team):
        raise PermissionDenied
    return team


def _detail_context(request, team: Team, add_form=None) -> dict:
    can_manage = may_manage_team(request.user, team)
    return {
        "team": team,
        "members": team_members(team),
        "initiatives": team_initiatives(request.user, team),
        "can_manage": can_manage,
        "add_form": add_form or (TeamMemberAddForm(team=team) if can_manage else None),
        "roles": TeamMembership.Role.choices,
    }


def _members_response(request, team: Team, add_form=None, status: int = 200):
    # The user's roles are read once per request; a lead who just stepped down must
    # get the fragment without the controls.
    forget_roles(request.user)
    if is_partial_request(request):
        # htmx swaps only 2xx answers, so the fragment with its errors comes back as a 200.
        return render_page_or_partial(
            request, "teams/detail.html", "members", _detail_context(request, team, add_form)
        )
    if add_form is not None:
        # A form with errors, without JavaScript: show the whole page again.
        return render_page_or_partial(
            request,
            "teams/detail.html",
            "members",
            _detail_context(request, team, add_form),
            status=status,
        )
    return vary_on_htmx(redirect("teams:detail", slug=team.slug))


@login_required
@require_GET
def team_list(request):
    teams = with_member_counts(teams_visible_to(request.user)).order_by("name")
    return render(request, "teams/list.html", {"teams": teams})


@login_required
@require_GET
def team_detail(request, slug: str):
    team = get_team_for_user(request.user, slug)
    return render_page_or_partial(
        request, "teams/detail.html", "members", _detail_context(request, team)
    )


@login_required
@require_POST
def team_member_add(request, slug: str):
    team = get_team_for_user(request.user, slug, manage=True)
    form = TeamMemberAddForm(request.POST, team=team)
    if not form.is_valid():
        return _members_response(request, team, add_form=form, status=422)
    try:
        membership = services.team_member_add(
            team=team, user=form.cleaned_data["user"], role=form.cleaned_data["role"]
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _members_response(request, team, add_form=form, status=422)
    messages.success(
        request,
        f"{person_name(membership.user)} joined {team} as {membership.get_role_display()}.",
    )
    return _members_response(request, team)


@login_required
@require_POST
def team_member_role(request, slug: str, pk: int):
    team = get_team_for_user(request.user, slug, manage=True)
    membership = get_object_or_404(TeamMembership, pk=pk, team=team)
    form = TeamMemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose lead or member.")
        return _members_response(request, team, status=422)
    services.team_member_set_role(membership=membership, role=form.cleaned_data["role"])
    return _members_response(request, team)


@login_required
@require_POST
def team_member_remove(request, slug: str, pk: int):
    team = get_team_for_user(request.user, slug, manage=True)
    membership = get_object_or_404(TeamMembership.objects.select_related("user"), pk=pk, team=team)
    services.team_member_remove(membership=membership)
    messages.success(request, f"{person_name(membership.user)} left {team}.")
    forget_roles(request.user)
    if not teams_visible_to(request.user).filter(pk=team.pk).exists():
        # A lead who took themselves out and no longer sees the team: to the teams list.
        if is_htmx(request):
            response = HttpResponse(status=200)
            response["HX-Redirect"] = reverse("teams:list")
            return response
        return redirect("teams:list")
    return _members_response(request, team)


@login_required
@require_GET
def people(request):
    filters = PeopleFilterForm(request.GET)
    over_only = filters.is_valid() and filters.cleaned_data["over"]
    page = people_page(request.user, over_only=over_only, number=request.GET.get("page"))
    return render_page_or_partial(
        request,
        "teams/people.html",
        "people-table",
        {
            "page": page,
            "filters": filters,
            "over_only": over_only,
            "full_allocation": FULL_ALLOCATION,
            "can_invite": is_admin(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def user_invite(request):
    if not is_admin(request.user):
        raise PermissionDenied
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_invite(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, f"Invited {person_name(user)}: a set-password link went to {user.email}."
            )
            return redirect("teams:people")
    return render(request, "teams/invite.html", {"form": form}, status=422 if form.errors else 200)
