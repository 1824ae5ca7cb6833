from django.apps import AppConfig


class InitiativesConfig(AppConfig):
    name = "initiatives"

    def ready(self):
        from core.versions import saves_move_the_version
        from initiatives.models import Framework, Membership, Stage

        # Boards are drawn from frameworks and their stages, edited in the admin without
        # the activity log; so is a membership's allocation, which the people view
        # kept for readers of everything sums.
        saves_move_the_version(Framework, Stage, Membership)
