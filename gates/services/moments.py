"""When an event happened: now, or, for history brought in by an import, the time it says."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from gates.models import StageTransition
from initiatives.models import Initiative

# Clocks differ a little between machines; an event this far ahead is still "now".
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)


def event_time(
    at: datetime.datetime | None, initiative: Initiative | None = None, *, not_before=None
) -> datetime.datetime:
    """Now, or `at` for imported history; `at` is bounded.

    Not in the future, not before the initiative started and not before
    `not_before` (when the gate opened, or its review was asked for).
    """
    now = timezone.now()
    if at is None:
        return now
    if at > now + FUTURE_TOLERANCE:
        raise ValidationError({"at": "An event cannot have happened in the future."})
    if initiative is not None and initiative.pk is not None:
        started = (
            StageTransition.objects.filter(initiative=initiative, from_stage__isnull=True)
            .order_by("transitioned_at")
            .values_list("transitioned_at", flat=True)
            .first()
        )
        if started is not None and at < started:
            day = timezone.localtime(started)
            raise ValidationError(
                {"at": f"This is before the initiative started ({day:%Y-%m-%d})."}
            )
    if not_before is not None and at < not_before:
        moment = timezone.localtime(not_before)
        raise ValidationError(
            {
                "at": f"This is before {moment:%Y-%m-%d %H:%M}, when the gate was opened or last "
                "changed."
            }
        )
    return at
