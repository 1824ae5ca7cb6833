from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def _team_membership_changed(**kwargs) -> None:
    from core.versions import portfolio_changed

    portfolio_changed()


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = "Teams and people"

    def ready(self):
        from teams.models import TeamMembership

        # A team's members see its initiatives: joining or leaving a team changes the
        # boards and counts kept per portfolio version and per person without writing
        # the activity log, so it moves the version on itself. Signals rather than the
        # services alone: the admin and departures change memberships too. (A change of
        # portfolio role changes the person's sight, which is part of those keys.)
        post_save.connect(
            _team_membership_changed, sender=TeamMembership, dispatch_uid="teams-member-saved"
        )
        post_delete.connect(
            _team_membership_changed, sender=TeamMembership, dispatch_uid="teams-member-deleted"
        )
