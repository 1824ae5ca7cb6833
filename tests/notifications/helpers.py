"""Shared steps for the notifications tests."""

from __future__ import annotations

import datetime

from django.utils import timezone

from notifications.models import Notification


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    """A moment on `day` in the project's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


def keys(kind: str | None = None) -> list[tuple[str, str]]:
    """(kind, recipient username) of every notification, sorted."""
    rows = Notification.objects.all()
    if kind:
        rows = rows.filter(kind=kind)
    return sorted(rows.values_list("kind", "recipient__username"))
