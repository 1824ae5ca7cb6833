from rest_framework import serializers

from apiauth.serializers import UserRefSerializer
from teams.models import Team, TeamMembership


class TeamMembershipSerializer(serializers.ModelSerializer):
    user = UserRefSerializer(read_only=True)

    class Meta:
        model = TeamMembership
        fields = ["id", "user", "role", "joined_at"]


class TeamSerializer(serializers.ModelSerializer):
    memberships = TeamMembershipSerializer(many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["id", "slug", "name", "description", "created_at", "memberships"]
