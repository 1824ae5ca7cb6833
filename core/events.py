"""The events Tollgate announces, and a tiny registry so services announce them without
importing their listeners.

Services call `publish(Event.X, payload)` (usually from `transaction.on_commit`);
apps such as `apiauth` (webhooks) subscribe from their AppConfig.ready().
A failing listener is logged and never breaks the caller.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from enum import StrEnum

logger = logging.getLogger(__name__)


class Event(StrEnum):
    """Every event name; webhooks may listen to any of them."""

    GATE_DECIDED = "gate.decided"
    INITIATIVE_STAGE_CHANGED = "initiative.stage_changed"
    GATE_OVERDUE = "gate.overdue"
    TARGET_MISSED = "target.missed"
    GATE_REVIEW_REQUESTED = "gate.review_requested"
    GATE_GATEKEEPER_ADDED = "gate.gatekeeper_added"
    ITEM_REOPENED = "item.reopened"
    INITIATIVE_MEMBER_ADDED = "initiative.member_added"
    COMMENT_CREATED = "comment.created"
    # A classification under the EU AI Act confirmed (first time or again).
    INITIATIVE_CLASSIFIED = "initiative.classified"
    # An edited comment that names people it did not name before.
    COMMENT_MENTIONED = "comment.mentioned"


Listener = Callable[[str, dict], None]
ManyListener = Callable[[str, list[dict]], None]
_listeners: dict[str, list[Listener]] = defaultdict(list)
# Optional: a listener's way of taking many events of one kind at once, so a batch
# costs it one lookup rather than one per event.
_many: dict[Listener, ManyListener] = {}


def subscribe(event: Event | str, listener: Listener, *, many: ManyListener | None = None) -> None:
    """Call `listener(event, payload)` whenever `event` is published (`many(event, payloads)`
    for a batch, when given)."""
    if listener not in _listeners[event]:
        _listeners[event].append(listener)
    if many is not None:
        _many[listener] = many


def unsubscribe(event: Event | str, listener: Listener) -> None:
    """Stop calling `listener` for `event`."""
    if listener in _listeners[event]:
        _listeners[event].remove(listener)


def publish(event: Event | str, payload: dict) -> None:
    """Hand the event to every listener; a listener's error is logged, not raised."""
    name = str(event)  # listeners and task queues get the plain name
    for listener in list(_listeners.get(name, ())):
        try:
            listener(name, payload)
        except Exception:
            logger.exception("Listener %r failed on %s", listener, name)


def publish_many(event: Event | str, payloads: list[dict]) -> None:
    """Hand several events of one kind to every listener, in one call where it takes a list."""
    if not payloads:
        return
    name = str(event)
    for listener in list(_listeners.get(name, ())):
        many = _many.get(listener)
        try:
            if many is not None:
                many(name, payloads)
            else:
                for payload in payloads:
                    listener(name, payload)
        except Exception:
            logger.exception("Listener %r failed on %s", listener, name)


def publish_many_on_commit(event: Event, payloads: list[dict]) -> None:
    """Announce several events of one kind once the surrounding transaction commits."""
    from django.db import transaction

    if payloads:
        transaction.on_commit(lambda: publish_many(event, payloads), robust=True)


def publish_on_commit(event: Event, payload: dict) -> None:
    """Announce `event` once the surrounding transaction commits (never if it rolls back)."""
    from django.db import transaction

    transaction.on_commit(lambda: publish(event, payload), robust=True)
