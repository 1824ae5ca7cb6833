from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = "Teams and people"

    def ready(self):
        from django.contrib.auth import get_user_model

        from core.versions import saves_move_the_version
        from teams.models import Team, TeamMembership

        # A team's members see its initiatives, and boards show and filter by team
        # names: neither change writes the activity log. (A change of portfolio role
        # changes the person's sight, which is part of the kept figures' keys.)
        saves_move_the_version(Team, TeamMembership)
        # Cards and the owner filter show people by name; a person renamed in the admin
        # (or deactivated, which hides what they see) writes no activity log either.
        saves_move_the_version(
            get_user_model(), fields=frozenset({"first_name", "last_name", "username", "is_active"})
        )
