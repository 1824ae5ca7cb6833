"""Celery tasks: thin wrappers that take ids and call the services."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from notifications import services

# Exponential backoff between send attempts: 30 s, 60 s, 120 s, ... capped here.
# The start-up check (notifications.checks) keeps the cap under the broker's
# visibility timeout, or Redis would hand a waiting retry to a second worker.
SEND_RETRY_BACKOFF = 30
SEND_RETRY_BACKOFF_MAX = 600
# No task here is queued with a countdown or an ETA; if one ever is, list the
# longest here so the start-up check covers it too.
TASK_COUNTDOWNS: list[int] = []


@shared_task(
    bind=True,
    autoretry_for=services.SEND_ERRORS,
    retry_backoff=SEND_RETRY_BACKOFF,
    retry_backoff_max=SEND_RETRY_BACKOFF_MAX,
    retry_jitter=True,
    # The row's `attempts` decides when to give up (it survives re-drives);
    # Celery only needs to allow at least that many tries.
    max_retries=services.DEFAULT_RULES["max_send_attempts"],
)
def notification_send_task(self, notification_id: int) -> str | None:
    # One notification: kept for tasks queued one per row before batches existed.
    notification = services.notification_send(notification_id=notification_id)
    return notification.state if notification is not None else None


@shared_task(bind=True, max_retries=services.DEFAULT_RULES["max_send_attempts"])
def notifications_send_task(self, notification_ids: list[int]) -> dict[str, int]:
    """One batch over one mail connection; the rows left for a retry are retried together."""
    counts = services.notifications_send_batch(notification_ids=notification_ids)
    if counts["retry_later"]:
        # Rows sent or failed meanwhile are skipped on the retry: only pending rows are sent.
        # The same exponential backoff as the single-row task, capped the same way.
        countdown = min(SEND_RETRY_BACKOFF * 2**self.request.retries, SEND_RETRY_BACKOFF_MAX)
        raise self.retry(countdown=countdown)
    return counts


@shared_task
def reminder_scan_task() -> dict:
    result = services.reminder_scan()
    return {"created": result.created, "redriven": result.redriven, "queued": len(result.to_send)}


@shared_task
def weekly_digest_task() -> dict:
    result = services.digest_send()
    return {"created": result.created, "queued": len(result.to_send)}


@shared_task(
    bind=True,
    # The database was away: try again later; the unique keys make a rerun harmless.
    autoretry_for=(DatabaseError,),
    retry_backoff=SEND_RETRY_BACKOFF,
    retry_backoff_max=SEND_RETRY_BACKOFF_MAX,
    max_retries=5,
)
def notices_for_event_task(self, event: str, payload: dict) -> int:
    """Insert an event's notices; running it again (a retry, a redelivery) adds nothing."""
    from notifications.notices import notices_for_event

    return len(notices_for_event(event=event, payload=payload))


@shared_task
def daily_summary_task() -> int:
    from notifications.notices import daily_summary_send

    return daily_summary_send()
