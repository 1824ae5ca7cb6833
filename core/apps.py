import os
import sys

from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: the event registry, the web and HTMX helpers, /healthz."""

    name = "core"
    verbose_name = "Tollgate core"

    def ready(self) -> None:
        from core import beat

        # Without a broker, the development server runs the beat schedule itself (core.beat).
        if beat.should_start(sys.argv, os.environ):
            from config.celery import app

            beat.start(app)
