"""Counters that every worker shares: they live in the default cache (Redis with REDIS_URL,
the database otherwise), never in one process's memory."""

from __future__ import annotations

import datetime
import time

from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "5/hour" → (5, 3600)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip().rstrip("s")]


def retry_after(rate: str) -> int:
    """Seconds until the current window of `rate` ends."""
    _, seconds = parse_rate(rate)
    return max(1, int(seconds - time.time() % seconds))


def hit(scope: str, ident: str, rate: str) -> bool:
    """Count one request of `ident` in `scope`; False once `rate` is used up in this window.

    Fixed windows: the key names the window, so it starts afresh without anybody resetting
    it. With Redis the count is the cache's atomic `incr`; the database cache would read
    and then write, so two processes could count one hit, and the count is an
    `UPDATE … SET count = count + 1` on a row of its own instead.
    """
    limit, seconds = parse_rate(rate)
    window = int(time.time() // seconds)
    key = f"limit:{scope}:{window}:{ident}"
    backend = caches["default"]
    if isinstance(backend, DatabaseCache):
        return _database_count(key, seconds) <= limit
    if isinstance(backend, RedisCache):
        return _redis_count(backend, key, seconds) <= limit
    return _cache_count(key, seconds) <= limit


def _redis_count(backend: RedisCache, key: str, seconds: int) -> int:
    """The window's count after this hit, in one round trip: the key is created with its
    expiry unless it exists, then incremented, in one MULTI/EXEC. Through the cache's
    API this took three (`add`, then `incr`, which asks whether the key exists first),
    each on a client of its own, on every request an API token made."""
    name = backend.make_and_validate_key(key)
    pipeline = backend._cache.get_client(name, write=True).pipeline()
    pipeline.set(name, 0, ex=seconds + 60, nx=True)
    pipeline.incr(name)
    return pipeline.execute()[1]


def _cache_count(key: str, seconds: int) -> int:
    if cache.add(key, 1, timeout=seconds + 60):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=seconds + 60)
        return 1


def _database_count(key: str, seconds: int) -> int:
    from core.models import LimitCounter  # models load after the app registry

    for _ in range(2):
        with transaction.atomic():
            if LimitCounter.objects.filter(key=key).update(count=F("count") + 1):
                return LimitCounter.objects.get(key=key).count
        # A new window: windows that have ended go, so the table holds the current ones.
        LimitCounter.objects.filter(expires_at__lt=timezone.now()).delete()
        try:
            with transaction.atomic():
                LimitCounter.objects.create(
                    key=key,
                    count=1,
                    expires_at=timezone.now() + datetime.timedelta(seconds=seconds + 60),
                )
                return 1
        except IntegrityError:  # another process made the row first: count on it
            continue
    raise RuntimeError(f"Could not count {key}")  # pragma: no cover
