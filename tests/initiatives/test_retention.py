"""Measurement retention: raw readings for a period, daily aggregates after."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from initiatives.models import DailyMeasurement, Measurement, Target
from initiatives.services import measurements_downsample
from initiatives.tasks import measurements_downsample_task
from tests.api.helpers import _fresh_throttle_cache, token_client  # noqa: F401
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db

ZONE = "Europe/Berlin"
NOW = datetime.datetime(2026, 6, 30, 12, 0, tzinfo=zoneinfo.ZoneInfo(ZONE))


@pytest.fixture(autouse=True)
def berlin(settings):
    # Days are the configured zone's: 23:30 UTC on 1 May is already 2 May in Berlin.
    settings.TIME_ZONE = ZONE
    settings.TOLLGATE_MEASUREMENT_RAW_DAYS = 30


def record(target, *readings) -> None:
    """Readings as (value, aware datetime), written as an integration would, then the
    target's latest value and count of readings kept as the ingest service keeps them."""
    Measurement.objects.bulk_create(
        Measurement(target=target, value=value, measured_at=at) for value, at in readings
    )
    Target.objects.filter(pk=target.pk).update(
        measurement_count=F("measurement_count") + len(readings)
    )
    newest = max(readings, key=lambda reading: reading[1])
    if target.latest_measured_at is None or newest[1] > target.latest_measured_at:
        Target.objects.filter(pk=target.pk).update(
            latest_value=newest[0], latest_measured_at=newest[1]
        )
        target.refresh_from_db()


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=datetime.UTC)


def daily(target) -> list[tuple]:
    return list(
        DailyMeasurement.objects.filter(target=target)
        .order_by("day")
        .values_list("day", "samples", "minimum", "maximum", "mean")
    )


def test_readings_past_the_period_become_one_row_per_day_in_the_configured_zone(initiative):
    target = TargetFactory(initiative=initiative)
    record(
        target,
        (10.0, utc(2026, 5, 1, 8, 0)),
        (20.0, utc(2026, 5, 1, 21, 0)),
        (60.0, utc(2026, 5, 1, 23, 30)),  # 2 May in Berlin
        (99.0, utc(2026, 6, 20, 9, 0)),  # within the 30 days: stays raw
    )

    result = measurements_downsample(now=NOW)

    assert daily(target) == [
        (datetime.date(2026, 5, 1), 2, 10.0, 20.0, 15.0),
        (datetime.date(2026, 5, 2), 1, 60.0, 60.0, 60.0),
    ]
    assert list(target.measurements.values_list("value", flat=True)) == [99.0]
    assert (result.folded, result.days) == (3, 2)
    target.refresh_from_db()
    assert target.measurement_count == 1


def test_a_target_keeps_its_newest_reading_however_old(initiative):
    target = TargetFactory(initiative=initiative)
    record(target, (1.0, utc(2026, 3, 1, 9)), (2.0, utc(2026, 3, 2, 9)))

    measurements_downsample(now=NOW)

    assert list(target.measurements.values_list("value", flat=True)) == [2.0]
    assert daily(target) == [(datetime.date(2026, 3, 1), 1, 1.0, 1.0, 1.0)]
    target.refresh_from_db()
    assert target.latest_value == 2.0


def test_a_second_run_changes_nothing_and_a_late_reading_is_merged_into_its_day(initiative):
    target = TargetFactory(initiative=initiative)
    record(target, (10.0, utc(2026, 5, 1, 8)), (20.0, utc(2026, 5, 1, 9)), (5.0, utc(2026, 6, 29)))
    measurements_downsample(now=NOW)
    assert measurements_downsample(now=NOW).folded == 0

    record(target, (60.0, utc(2026, 5, 1, 10)))  # arrives late, for a folded day
    measurements_downsample(now=NOW)

    assert daily(target) == [(datetime.date(2026, 5, 1), 3, 10.0, 60.0, 30.0)]
    assert target.measurements.count() == 1


def test_zero_days_keeps_every_raw_reading(initiative, settings):
    settings.TOLLGATE_MEASUREMENT_RAW_DAYS = 0
    target = TargetFactory(initiative=initiative)
    record(target, (1.0, utc(2020, 1, 1)), (2.0, utc(2020, 1, 2)))
    assert measurements_downsample(now=NOW).folded == 0
    assert target.measurements.count() == 2


def test_a_run_costs_the_same_queries_however_many_readings_it_folds(initiative):
    few, many = (
        TargetFactory(initiative=initiative),
        TargetFactory(initiative=initiative, metric_key="uptime"),
    )
    record(few, (1.0, utc(2026, 4, 1)), (1.0, utc(2026, 6, 29)))
    with CaptureQueriesContext(connection) as small:
        measurements_downsample(now=NOW)
    start = utc(2026, 1, 1)
    record(
        many,
        *((float(n), start + datetime.timedelta(hours=n)) for n in range(2000)),
        (1.0, utc(2026, 6, 29)),
    )
    with CaptureQueriesContext(connection) as large:
        result = measurements_downsample(now=NOW)
    assert result.folded == 2000
    assert len(large) == len(small)


def test_the_task_runs_daily_from_beat_with_the_setting(initiative):
    schedule = settings.CELERY_BEAT_SCHEDULE["measurements-downsample"]
    assert schedule["task"] == measurements_downsample_task.name
    target = TargetFactory(initiative=initiative)
    old = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(days=60)
    record(
        target, (4.0, old), (8.0, old + datetime.timedelta(hours=1)), (9.0, old.replace(year=2100))
    )
    assert measurements_downsample_task.delay().get()["folded"] == 2


def test_daily_aggregates_are_read_through_the_api(initiative, owner, outsider):
    target = TargetFactory(initiative=initiative)
    DailyMeasurement.objects.create(
        target=target, day=datetime.date(2026, 5, 1), samples=3, minimum=1, maximum=3, mean=2
    )
    response = token_client(owner).get(f"/api/v1/targets/{target.pk}/daily/")
    assert response.status_code == 200
    assert response.json()["results"] == [
        {"day": "2026-05-01", "samples": 3, "minimum": 1.0, "maximum": 3.0, "mean": 2.0}
    ]
    assert token_client(outsider).get(f"/api/v1/targets/{target.pk}/daily/").status_code == 404
