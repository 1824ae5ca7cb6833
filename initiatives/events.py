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
_listeners: dict[str, list[Listener]] = defaultdict(list)


def subscribe(event: str, listener: Listener) -> None:
    if listener not in _listeners[event]:
        _listeners[event].append(listener)


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
