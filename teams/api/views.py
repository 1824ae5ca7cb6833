"""The teams API (read-only): business units and who is in them."""

from django.db.models import Prefetch, Q
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets

from initiatives.models import Initiative
from initiatives.policy import reads_everything
from teams.api.serializers import TeamSerializer
from teams.models import Team, TeamMembership


@extend_schema_view(
    retrieve=extend_schema(parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH)])
)
class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """Teams you belong to or whose initiatives you can see (every team for readers-of-all)."""

    serializer_class = TeamSerializer
    lookup_field = "slug"

    def get_queryset(self):
        user = self.request.user
        teams = Team.objects.all()
        if not reads_everything(user):
            mine = Team.objects.filter(
                Q(memberships__user=user)
                | Q(pk__in=Initiative.objects.visible_to(user).values("team_id"))
            )
            teams = teams.filter(pk__in=mine.values("pk"))
        members = TeamMembership.objects.select_related("user").order_by("role", "user_id")
        return teams.prefetch_related(Prefetch("memberships", queryset=members)).order_by("name")
