"""Writing the append-only activity log. Every service that changes something calls here."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone

from initiatives.models import Activity


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    return value


def activity_entry(
    *,
    actor,
    initiative,
    verb: str,
    obj: models.Model | None = None,
    field: str = "",
    before: Any = None,
    after: Any = None,
    message: str = "",
    at: datetime.datetime | None = None,
) -> Activity:
    """An unsaved log entry; pass several to activity_log_many to write them in one insert."""
    target = obj if obj is not None else initiative
    return Activity(
        created_at=at or timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        initiative=initiative,
        initiative_key=initiative.key if initiative is not None else "",
        verb=verb,
        object_type=target._meta.model_name if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:300] if target is not None else "",
        field=field,
        before=_jsonable(before),
        after=_jsonable(after),
        message=message,
    )


def field_changes_apply(
    target: models.Model,
    values: dict[str, Any],
    *,
    actor,
    initiative,
    verb: str,
    at: datetime.datetime | None = None,
) -> list[Activity]:
    """Set each field of `target` whose value differs, and return an unsaved log entry for
    each change (write them with activity_log_many once the row is saved); `at` dates
    them (imported history)."""
    entries = []
    for field, value in values.items():
        before = getattr(target, field)
        if before != value:
            setattr(target, field, value)
            entries.append(
                activity_entry(
                    actor=actor,
                    initiative=initiative,
                    verb=verb,
                    obj=target,
                    field=field,
                    before=before,
                    after=value,
                    at=at,
                )
            )
    return entries


def activity_log(**kwargs) -> Activity:
    """Write one entry of the activity log."""
    entry = activity_entry(**kwargs)
    entry.save(force_insert=True)
    portfolio_changed()
    return entry


def activity_log_many(entries: list[Activity]) -> None:
    Activity.objects.bulk_create(entries)
    if entries:
        portfolio_changed()


PORTFOLIO_VERSION_KEY = "portfolio-version"


def portfolio_version() -> int:
    """A number that changes whenever the portfolio does: part of every cached figure's key."""
    version = cache.get(PORTFOLIO_VERSION_KEY)
    if version is None:
        # A new cache, or one that was flushed: start from a number no old key used.
        version = time.time_ns()
        cache.add(PORTFOLIO_VERSION_KEY, version, timeout=None)
    return version


def portfolio_cached(key: str, compute: Callable[[], Any], timeout: int) -> Any:
    """`compute()`, kept in the cache under `key` until the portfolio next changes.

    The value is kept with the version it was computed at, so the version and the value
    come back in one read of the cache, not two in a row (each a round trip to Redis).
    """
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
    """Every change writes the activity log, and so comes here: once the transaction
    commits, the cached figures of the portfolio are stale and are recomputed on demand."""

    def bump():
        try:
            cache.incr(PORTFOLIO_VERSION_KEY)
        except ValueError:  # not there: the next reader starts a fresh number
            cache.add(PORTFOLIO_VERSION_KEY, time.time_ns(), timeout=None)

    transaction.on_commit(bump, robust=True)
