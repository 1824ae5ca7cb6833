from django.apps import AppConfig


class ApiAuthConfig(AppConfig):
    """API tokens, the API's error shape, idempotency, throttling and webhooks."""

    name = "apiauth"
    verbose_name = "API and integrations"

    def ready(self) -> None:
        # The services publish events without knowing who listens; webhooks listen here.
        from apiauth import webhooks
        from core import events

        for event in events.Event:
            events.subscribe(event, webhooks.webhooks_enqueue, many=webhooks.webhooks_enqueue_many)
