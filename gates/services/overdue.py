"""Announcing the gates that are past their due date to the integrations listening."""

from __future__ import annotations

import datetime

from django.utils import timezone

from apiauth.webhooks import listening_hooks, webhooks_enqueue
from core.events import Event
from gates.models import Gate


def overdue_gates_announce(*, today: datetime.date | None = None) -> int:
    """Send `gate.overdue` for every pending gate of an active initiative past its due date.

    Run once a day (see CELERY_BEAT_SCHEDULE), so each overdue gate is announced daily.
    Returns the number of gates announced; reads no gate when no webhook listens.
    """
    hooks = listening_hooks(Event.GATE_OVERDUE)
    if not hooks:
        return 0
    today = today or timezone.localdate()
    gates = (
        Gate.objects.overdue(today).select_related("initiative", "stage").order_by("due_on", "pk")
    )
    count = 0
    for gate in gates.iterator(chunk_size=500):
        webhooks_enqueue(
            Event.GATE_OVERDUE,
            {
                "initiative": gate.initiative.key,
                "initiative_name": gate.initiative.name,
                "gate": gate.pk,
                "stage": gate.stage.key,
                "stage_name": gate.stage.name,
                "due_on": gate.due_on.isoformat(),
                "days_overdue": (today - gate.due_on).days,
            },
            hooks=hooks,
        )
        count += 1
    return count
