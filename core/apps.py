from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: the event registry, the web and HTMX helpers, /healthz."""

    name = "core"
    verbose_name = "Tollgate core"
