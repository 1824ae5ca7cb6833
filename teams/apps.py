from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = "Teams and people"

    def ready(self):
        from core.versions import saves_move_the_version
        from teams.models import Team, TeamMembership

        # A team's members see its initiatives, and boards show and filter by team
        # names: neither change writes the activity log. (A change of portfolio role
        # changes the person's sight, which is part of the kept figures' keys.)
        saves_move_the_version(Team, TeamMembership)
