"""The portfolio's version: one number in the shared cache that moves on whenever the
portfolio changes, and is part of the key of every figure kept between requests.

Every change to initiatives and gates writes the activity log, which calls
`portfolio_changed`; changes that decide who sees what, or how it is named, without
touching an initiative (team membership, people's names, teams, frameworks, stages) call
it too (`teams.apps`, `initiatives.apps`). A change of portfolio role changes the
person's sight of the portfolio, part of each kept figure's key. A figure kept under an
older version is never read again and expires on its own.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

PORTFOLIO_VERSION_KEY = "portfolio-version"


def portfolio_version() -> int:
    """A number that changes whenever the portfolio does: part of every cached figure's key."""
    version = cache.get(PORTFOLIO_VERSION_KEY)
    if version is None:
        # A new cache, or one that was flushed: start from a number no old key used.
        version = time.time_ns()
        cache.add(PORTFOLIO_VERSION_KEY, version, timeout=None)
    return version


def portfolio_cached(key: str | tuple, compute: Callable[[], Any], timeout: int) -> Any:
    """`compute()`, kept in the cache under `key` until the portfolio next changes.

    A tuple key (a scope: the filters, the day, the reader's sight...) is hashed, as the
    query strings in it are the client's and may be long.

    The value is kept with the version it was computed at, so the version and the value
    come back in one read of the cache, not two in a row (each a round trip to Redis).
    """
    if isinstance(key, tuple):
        key = f"{key[0]}:" + hashlib.sha256(repr(key[1:]).encode()).hexdigest()
    found = cache.get_many([PORTFOLIO_VERSION_KEY, key])
    version = found.get(PORTFOLIO_VERSION_KEY)
    if version is None:
        version = portfolio_version()
    kept = found.get(key)
    if isinstance(kept, tuple) and kept[0] == version:
        return kept[1]
    value = compute()
    cache.set(key, (version, value), timeout)
    return value


def portfolio_changed() -> None:
    """Once the current transaction commits, the cached figures of the portfolio are
    stale and are recomputed on demand (at once outside a transaction)."""

    def bump():
        try:
            cache.incr(PORTFOLIO_VERSION_KEY)
        except ValueError:  # not there: the next reader starts a fresh number
            cache.add(PORTFOLIO_VERSION_KEY, time.time_ns(), timeout=None)

    transaction.on_commit(bump, robust=True)


def saves_move_the_version(*models, fields: frozenset[str] | None = None) -> None:
    """Move the version on whenever a row of `models` is saved or deleted: for tables
    that boards and lists show or filter by but that change without the activity log
    (the admin, departures). Call from an AppConfig's ready().

    With `fields`, only saves that write one of them count: for tables whose other
    columns change often and show nowhere (a person's last_login is written at every
    sign-in, and would drop every kept board). A save without `update_fields` (the
    admin's, say) may have changed any column.
    """

    def saved(update_fields=None, **kwargs):
        if fields is None or update_fields is None or not fields.isdisjoint(update_fields):
            portfolio_changed()

    def deleted(**kwargs):
        portfolio_changed()

    for model in models:
        label = model._meta.label_lower
        post_save.connect(saved, sender=model, weak=False, dispatch_uid=f"version-saved-{label}")
        post_delete.connect(
            deleted, sender=model, weak=False, dispatch_uid=f"version-deleted-{label}"
        )
