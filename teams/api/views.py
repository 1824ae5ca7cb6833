"""The teams API (read-only): business units and who is in them."""

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets

from initiatives.selectors import teams_visible_to
from teams.api.serializers import TeamSerializer
from teams.models import TeamMembership


@extend_schema_view(
    retrieve=extend_schema(parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH)])
)
class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """Teams you belong to or whose initiatives you can see (every team for readers-of-all)."""

    serializer_class = TeamSerializer
    lookup_field = "slug"

    def get_queryset(self):
        teams = teams_visible_to(self.request.user)
        members = TeamMembership.objects.select_related("user").order_by("role", "user_id")
        return teams.prefetch_related(Prefetch("memberships", queryset=members)).order_by("name")
