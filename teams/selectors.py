"""Reads of teams alone. Which teams a person sees depends on initiatives, so that list,
a team's initiatives and people's allocations are in `initiatives.selectors`."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from teams.models import Team, TeamMembership


def with_member_counts(teams: QuerySet[Team]) -> QuerySet[Team]:
    """Each team with `member_count` and `lead_count`."""
    return teams.annotate(
        member_count=Count("memberships", distinct=True),
        lead_count=Count(
            "memberships", filter=Q(memberships__role=TeamMembership.Role.LEAD), distinct=True
        ),
    )


def team_members(team: Team) -> list[TeamMembership]:
    """Leads first, then by name."""
    return list(
        team.memberships.select_related("user").order_by(
            "role", "user__first_name", "user__last_name", "user__username"
        )
    )
