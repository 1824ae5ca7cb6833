"""Counters that every worker shares: they live in the default cache (Redis with REDIS_URL,
the database otherwise), never in one process's memory."""

from __future__ import annotations

import time

from django.core.cache import cache

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
    it. `incr` is atomic in Redis; on the database cache two simultaneous hits may count once.
    """
    limit, seconds = parse_rate(rate)
    window = int(time.time() // seconds)
    key = f"limit:{scope}:{window}:{ident}"
    if cache.add(key, 1, timeout=seconds + 60):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=seconds + 60)
            count = 1
    return count <= limit
