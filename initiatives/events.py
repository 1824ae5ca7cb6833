"""A tiny publish/subscribe registry so services can announce events without importing listeners.

Services call `publish(name, payload)` (usually from `transaction.on_commit`);
apps such as `apiauth` (webhooks) subscribe from their AppConfig.ready().
A failing listener is logged and never breaks the caller.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

logger = logging.getLogger(__name__)

Listener = Callable[[str, dict], None]
ManyListener = Callable[[str, list[dict]], None]
_listeners: dict[str, list[Listener]] = defaultdict(list)
# Optional: a listener's way of taking many events of one kind at once, so a batch
# costs it one lookup rather than one per event.
_many: dict[Listener, ManyListener] = {}


def subscribe(event: str, listener: Listener, *, many: ManyListener | None = None) -> None:
    if listener not in _listeners[event]:
        _listeners[event].append(listener)
    if many is not None:
        _many[listener] = many


def unsubscribe(event: str, listener: Listener) -> None:
    if listener in _listeners[event]:
        _listeners[event].remove(listener)


def publish(event: str, payload: dict) -> None:
    """Hand the event to every listener; a listener's error is logged, not raised."""
    for listener in list(_listeners.get(event, ())):
        try:
            listener(event, payload)
        except Exception:
            logger.exception("Listener %r failed on %s", listener, event)


def publish_many(event: str, payloads: list[dict]) -> None:
    """Hand several events of one kind to every listener, in one call where it takes a list."""
    if not payloads:
        return
    for listener in list(_listeners.get(event, ())):
        many = _many.get(listener)
        try:
            if many is not None:
                many(event, payloads)
            else:
                for payload in payloads:
                    listener(event, payload)
        except Exception:
            logger.exception("Listener %r failed on %s", listener, event)
