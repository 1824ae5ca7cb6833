"""Celery tasks of the initiatives app: thin wrappers that call the services."""

from __future__ import annotations

from celery import shared_task

from initiatives import services


# Under the broker's one-hour visibility timeout, so a long run is never handed out twice.
@shared_task(soft_time_limit=1700, time_limit=1800, acks_late=True)
def measurements_downsample_task() -> dict:
    result = services.measurements_downsample()
    return {"folded": result.folded, "days": result.days, "chunks": result.chunks}
