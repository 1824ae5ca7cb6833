"""The one table `core` owns: counters for limits when no Redis is configured."""

from __future__ import annotations

from django.db import models


class LimitCounter(models.Model):
    """One fixed window of one limit (`limit:<scope>:<window>:<ident>`) and its count.

    Used instead of the cache when the cache cannot add atomically across processes (the
    database cache reads, then writes). `expires_at` lets old windows be deleted.
    """

    key = models.CharField(max_length=250, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
