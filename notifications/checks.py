"""Start-up checks: no task waits longer than the broker keeps an unacknowledged message."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def check_countdowns_within_visibility_timeout(app_configs=None, **kwargs):
    from notifications import services, tasks

    messages = []
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    visibility_timeout = options.get("visibility_timeout")
    delays = {"retry backoff of notification_send_task (max)": tasks.SEND_RETRY_BACKOFF_MAX}
    delays.update({f"task countdown of {value}s": value for value in tasks.TASK_COUNTDOWNS})
    if visibility_timeout is not None:
        for name, seconds in delays.items():
            if seconds >= visibility_timeout:
                messages.append(
                    checks.Error(
                        f"The {name} is {seconds}s, not below the broker visibility_timeout "
                        f"({visibility_timeout}s).",
                        hint="With acks_late, Redis hands a message that waited longer than the "
                        "visibility timeout to a second worker. Lower the delay or raise "
                        "CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'].",
                        id="notifications.E001",
                    )
                )
    redrive_seconds = services.reminder_defaults()["redrive_after_minutes"] * 60
    if redrive_seconds <= tasks.SEND_RETRY_BACKOFF_MAX:
        messages.append(
            checks.Warning(
                f"TOLLGATE_REMINDERS['redrive_after_minutes'] ({redrive_seconds}s) is not longer "
                f"than the longest retry backoff ({tasks.SEND_RETRY_BACKOFF_MAX}s).",
                hint="The scan would re-queue notifications whose retry is still waiting.",
                id="notifications.W001",
            )
        )
    return messages
