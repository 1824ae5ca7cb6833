from celery import shared_task


@shared_task
def overdue_gates_announce_task() -> int:
    """Daily: `gate.overdue` to the webhooks listening for it (see CELERY_BEAT_SCHEDULE)."""
    from gates.services.overdue import overdue_gates_announce

    return overdue_gates_announce()
