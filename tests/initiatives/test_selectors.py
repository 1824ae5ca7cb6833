"""Read paths whose cost must follow what is shown, not how much data exists."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from initiatives.models import Measurement
from initiatives.selectors import SPARKLINE_POINTS, targets_with_series
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db


def _readings(target, count: int, *, tie_every: int = 0) -> None:
    start = timezone.now() - datetime.timedelta(days=30)
    Measurement.objects.bulk_create(
        Measurement(
            target=target,
            value=float(n),
            # Some readings share a time: the tie is broken by id, newest last.
            measured_at=start + datetime.timedelta(minutes=n - (n % tie_every if tie_every else 0)),
        )
        for n in range(count)
    )


def _expected(target) -> list[tuple]:
    newest = target.measurements.order_by("-measured_at", "-pk")[:SPARKLINE_POINTS]
    return sorted((m.measured_at, m.value) for m in newest)


def test_series_are_the_newest_readings_of_each_target_oldest_first(initiative):
    long = TargetFactory(initiative=initiative, metric_key="accuracy")
    tied = TargetFactory(initiative=initiative, metric_key="uptime")
    short = TargetFactory(initiative=initiative, metric_key="latency_p95_ms")
    empty = TargetFactory(initiative=initiative, metric_key="cost_per_task")
    _readings(long, 40)
    _readings(tied, 40, tie_every=5)
    _readings(short, 4)

    series = {target.pk: target.series for target in targets_with_series(initiative)}

    assert series[long.pk] == _expected(long)
    assert series[tied.pk] == _expected(tied) and len(series[tied.pk]) == SPARKLINE_POINTS
    assert series[short.pk] == _expected(short) and len(series[short.pk]) == 4
    assert series[empty.pk] == []


def test_series_cost_two_queries_however_long_they_are(initiative):
    targets = [
        TargetFactory(initiative=initiative, metric_key=key) for key in ("accuracy", "uptime")
    ]
    _readings(targets[0], 15)
    with CaptureQueriesContext(connection) as short:
        targets_with_series(initiative)
    _readings(targets[1], 2000)
    with CaptureQueriesContext(connection) as long:
        targets_with_series(initiative)
    assert len(short) == len(long) == 2
