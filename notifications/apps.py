from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from core import events
        from notifications import (
            checks,  # noqa: F401  (registers the start-up check)
            notices,
        )

        # Notices follow what the services announce; no service knows this app.
        for event in notices.EVENTS:
            events.subscribe(event, notices.on_event)
