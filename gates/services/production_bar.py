"""The production bar: targets and measurements, and the checklist items that follow them."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass
from numbers import Number

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.bounds import (
    DATE_RANGE_MESSAGE,
    date_in_range,
    finite_float_problem,
    unit_value_problem,
)
from core.events import Event, publish_many_on_commit
from core.formatting import number
from core.types import Actor
from gates.models import ChecklistItem, Gate, StageTransition
from gates.services.moments import event_time
from initiatives.activity import activity_entry, activity_log, activity_log_many
from initiatives.models import Initiative, Measurement, Target
from initiatives.services import initiative_touch


@transaction.atomic
def target_create(
    *,
    initiative: Initiative,
    actor: Actor,
    metric_key: str,
    threshold: float,
    comparator: str | None = None,
    category: str | None = None,
    unit: str | None = None,
    description: str = "",
    at: datetime.datetime | None = None,
) -> Target:
    """Add a line to the production bar; checklist items that name its metric follow it.

    Returns the saved target. Raises ValidationError for a bad threshold or comparator, or a
    metric the initiative already targets. `at` is when it was added, for imported history
    (see event_time).
    """
    moment = event_time(at, initiative)
    target = target_build(
        initiative,
        {
            "metric_key": metric_key,
            "threshold": threshold,
            "comparator": comparator,
            "category": category,
            "unit": unit,
            "description": description,
        },
    )
    target.validate_constraints()
    target.save()
    ChecklistItem.objects.filter(
        gate__initiative=initiative,
        gate__state__in=Gate.PENDING_STATES,
        metric_key=metric_key,
        target__isnull=True,
    ).update(target=target)
    activity_log(
        actor=actor,
        initiative=initiative,
        verb="target.created",
        obj=target,
        after=str(target),
        at=moment,
    )
    initiative_touch(initiative.pk)
    return target


def target_build(initiative: Initiative, spec: dict) -> Target:
    """An unsaved target from {"metric_key", "threshold", and optionally "comparator",
    "category", "unit", "description"}; standard metrics know their comparator and unit."""
    metric_key = spec["metric_key"]
    defaults = Target.STANDARD_METRICS.get(metric_key, ("business", ">=", ""))
    unit = spec.get("unit")
    target = Target(
        initiative=initiative,
        metric_key=metric_key,
        category=spec.get("category") or defaults[0],
        comparator=spec.get("comparator") or defaults[1],
        unit=defaults[2] if unit is None else unit,
        threshold=spec["threshold"],
        description=spec.get("description") or "",
    )
    # Uniqueness and the check constraints are the database's (and target_create's).
    target.full_clean(exclude=["initiative"], validate_unique=False, validate_constraints=False)
    if problem := unit_value_problem(target.threshold, target.unit):
        raise ValidationError({"threshold": problem})
    return target


def _reading(target: Target, value: float) -> str:
    """A reading as people write it: "Drift (PSI) = 0.12", "Uptime = 99.95%"."""
    unit = target.unit if target.unit in ("", "%") else f" {target.unit}"
    return f"{target.metric_label} = {number(value)}{unit}"


@dataclass(frozen=True)
class MeasurementInput:
    target: Target
    value: float
    measured_at: datetime.datetime | None = None


def measurement_record(
    *,
    target: Target,
    value: float,
    actor: Actor,
    measured_at: datetime.datetime | None = None,
    source: str = Measurement.Source.MANUAL,
) -> Measurement:
    """Record one measurement of a target (and let linked checklist items follow it).

    Returns the saved measurement; raises ValidationError as `measurements_record` does.
    """
    return measurements_record(
        rows=[MeasurementInput(target=target, value=value, measured_at=measured_at)],
        actor=actor,
        source=source,
    )[0]


@transaction.atomic
def measurements_record(
    *,
    rows: list[MeasurementInput],
    actor: Actor,
    source: str = Measurement.Source.INTEGRATION,
    history: bool = False,
) -> list[Measurement]:
    """Record a batch of measurements with a constant number of queries.

    For each target the newest measurement becomes its latest value; a target
    that flips to met ticks its linked items, one that flips to missed reopens them.
    Returns the saved measurements in the order of `rows`. Raises ValidationError, naming
    each row, for a reading in the future or outside core.bounds' dates, or a value that
    is not a number within core.bounds.FLOAT_LIMIT.
    With `history` (imports), what follows a reading is logged at the reading's
    time, not now, nothing is announced, and readings from before their
    initiative started are refused.
    """
    if not rows:
        return []
    now = timezone.now()
    errors = []
    for index, row in enumerate(rows):
        if row.measured_at is not None and row.measured_at > now + datetime.timedelta(minutes=5):
            errors.append(f"Row {index}: measured_at is in the future.")
        if isinstance(row.value, bool | str) or not isinstance(row.value, Number):
            errors.append(f"Row {index}: value must be a number.")
        elif problem := finite_float_problem(float(row.value)) or unit_value_problem(
            float(row.value), row.target.unit
        ):
            errors.append(f"Row {index}: value: {problem}")
        if not date_in_range(row.measured_at):
            errors.append(f"Row {index}: measured_at: {DATE_RANGE_MESSAGE}")
    if errors:
        raise ValidationError(errors)
    if history:
        _readings_after_start(rows)
    target_ids = sorted({row.target.pk for row in rows})
    # Lock the targets in a fixed order so two batches cannot deadlock.
    targets = {
        target.pk: target
        for target in Target.objects.select_for_update()
        .select_related("initiative")
        .filter(pk__in=target_ids)
        .order_by("pk")
    }
    measurements = Measurement.objects.bulk_create(
        [
            Measurement(
                target_id=row.target.pk,
                value=float(row.value),
                measured_at=row.measured_at or now,
                source=source,
                recorded_by=actor if actor is not None and actor.is_authenticated else None,
            )
            for row in rows
        ]
    )
    newest: dict[int, Measurement] = {}
    for measurement in measurements:
        current = newest.get(measurement.target_id)
        if current is None or measurement.measured_at >= current.measured_at:
            newest[measurement.target_id] = measurement

    changed_targets, flipped, entries, missed = [], [], [], []
    for target_id, measurement in newest.items():
        target = targets[target_id]
        if (
            target.latest_measured_at is not None
            and measurement.measured_at < target.latest_measured_at
        ):
            continue  # a late arrival of older data does not replace the latest value
        status = (
            Target.Status.MET if target.is_satisfied_by(measurement.value) else Target.Status.MISSED
        )
        if status != target.status:
            flipped.append(target)
            if status == Target.Status.MISSED and not history:
                missed.append(
                    {
                        "initiative": target.initiative.key,
                        "initiative_name": target.initiative.name,
                        "target": target.pk,
                        "metric_key": target.metric_key,
                        "comparator": target.comparator,
                        "threshold": target.threshold,
                        "value": measurement.value,
                        "measured_at": measurement.measured_at.isoformat(),
                    }
                )
            entries.append(
                activity_entry(
                    actor=actor,
                    initiative=target.initiative,
                    verb=f"target.{status}",
                    obj=target,
                    field="status",
                    before=target.status,
                    after=status,
                    message=_reading(target, measurement.value),
                    at=measurement.measured_at if history else None,
                )
            )
        target.latest_value = measurement.value
        target.latest_measured_at = measurement.measured_at
        target.status = status
        target._latest_measurement = measurement
        changed_targets.append(target)
    Target.objects.bulk_update(changed_targets, ["latest_value", "latest_measured_at", "status"])
    # Each target's count of readings grows by what this batch brought it: one UPDATE.
    added = Counter(measurement.target_id for measurement in measurements)
    for target_id, count in added.items():
        targets[target_id].measurement_count = F("measurement_count") + count
    Target.objects.bulk_update([targets[pk] for pk in added], ["measurement_count"])
    activity_log_many(entries)
    # One announcement for the batch: the webhooks are looked up once, however many flip.
    publish_many_on_commit(Event.TARGET_MISSED, missed)
    if flipped:
        items_follow_targets(flipped, actor=actor, history=history)
    Initiative.objects.filter(pk__in={target.initiative_id for target in targets.values()}).update(
        updated_at=now, version=F("version") + 1
    )
    return measurements


def _readings_after_start(rows: list[MeasurementInput]) -> None:
    """Imported readings come after their initiative started: one query for the batch."""
    started = dict(
        StageTransition.objects.filter(
            initiative_id__in={row.target.initiative_id for row in rows},
            from_stage__isnull=True,
        ).values_list("initiative_id", "transitioned_at")
    )
    errors = [
        f"Row {index}: measured before the initiative started."
        for index, row in enumerate(rows)
        if row.measured_at is not None
        and row.target.initiative_id in started
        and row.measured_at < started[row.target.initiative_id]
    ]
    if errors:
        raise ValidationError(errors)


def items_follow_targets(
    targets: list[Target],
    *,
    actor: Actor,
    at: datetime.datetime | None = None,
    history: bool = False,
) -> None:
    """Met → linked open items done with the measurement as evidence; missed → reopened.

    `at` dates the change (a gate opened in imported history); with `history`
    each item follows at the time of its target's latest reading.
    """
    by_id = {target.pk: target for target in targets}
    items = list(
        ChecklistItem.objects.select_for_update()
        .filter(
            target_id__in=list(by_id),
            gate__state__in=Gate.PENDING_STATES,
        )
        .select_related("gate__initiative")
    )
    now = at or timezone.now()
    changed, entries, reopened = [], [], []
    for item in items:
        target = by_id[item.target_id]
        initiative = item.gate.initiative
        moment = target.latest_measured_at if history else now
        reading = _reading(target, target.latest_value)
        if target.status == Target.Status.MET and item.state == ChecklistItem.State.OPEN:
            item.state = ChecklistItem.State.DONE
            item.evidence_url = f"{_site_url()}{initiative.get_absolute_url()}#target-{target.pk}"
            item.note = f"Met by measurement {reading} on {target.latest_measured_at:%Y-%m-%d}."
        elif target.status == Target.Status.MISSED and item.state == ChecklistItem.State.DONE:
            item.state = ChecklistItem.State.OPEN
            item.note = f"Reopened: latest measurement {reading} misses the target."
            if not history:
                reopened.append(
                    {"initiative": initiative.key, "item": item.pk, "version": item.version + 1}
                )
        else:
            continue
        item.version += 1
        item.updated_by = actor if actor is not None and actor.is_authenticated else None
        item.updated_at = moment
        changed.append(item)
        entries.append(
            activity_entry(
                actor=actor,
                initiative=initiative,
                verb="item.followed_target",
                obj=item,
                field="state",
                after=item.state,
                message=item.note,
                at=moment if (history or at) else None,
            )
        )
    ChecklistItem.objects.bulk_update(
        changed, ["state", "evidence_url", "note", "version", "updated_by", "updated_at"]
    )
    activity_log_many(entries)
    # One announcement for the batch, as for target.missed: listeners that take a list
    # (webhooks) look up who listens once, however many items reopen.
    publish_many_on_commit(Event.ITEM_REOPENED, reopened)


def _site_url() -> str:
    return settings.SITE_URL.rstrip("/")
