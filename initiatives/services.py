"""Writes to initiatives that do not touch their gates: keys, business cases, team members.

Starting, changing and resuming an initiative open or re-point its gate, so those
live with the gate workflow in `gates.services`.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, DateField, ExpressionWrapper, F, Max, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.events import Event, publish_on_commit
from core.types import Actor
from initiatives.activity import _jsonable, activity_entry, activity_log, activity_log_many
from initiatives.exceptions import StaleEdit
from initiatives.models import (
    BusinessCase,
    BusinessCaseRevision,
    DailyMeasurement,
    Initiative,
    KeyCounter,
    Measurement,
    Membership,
    Stage,
    Target,
)
from teams.policy import may_own_initiatives, may_sponsor_initiatives


def initiative_key_allocate(*, prefix: str | None = None) -> str:
    """The next key (AI-001, AI-002, ...). The counter only grows, so keys are never reused."""
    return initiative_keys_allocate(count=1, prefix=prefix)[0]


def initiative_keys_allocate(*, count: int, prefix: str | None = None) -> list[str]:
    """The next `count` keys, in three queries whatever the count."""
    if count <= 0:
        return []
    prefix = prefix or settings.TOLLGATE_KEY_PREFIX
    KeyCounter.objects.get_or_create(prefix=prefix)
    # The UPDATE takes the row lock until the surrounding transaction ends.
    KeyCounter.objects.filter(prefix=prefix).update(last_value=F("last_value") + count)
    last = KeyCounter.objects.values_list("last_value", flat=True).get(prefix=prefix)
    return [f"{prefix}-{number:03d}" for number in range(last - count + 1, last + 1)]


def initiative_keys_reserve(*, keys: list[str]) -> None:
    """Move each prefix's counter past keys given from outside (an import keeps its keys),
    so the counter never hands one of them out again."""
    highest: dict[str, int] = {}
    for key in keys:
        prefix, _, digits = key.rpartition("-")
        highest[prefix] = max(highest.get(prefix, 0), int(digits))
    for prefix, number in highest.items():
        KeyCounter.objects.get_or_create(prefix=prefix)
        KeyCounter.objects.filter(prefix=prefix, last_value__lt=number).update(last_value=number)


def initiative_people_validate(
    *, owner: AbstractBaseUser | None, sponsor: AbstractBaseUser | None
) -> None:
    """The owner is a product manager (or admin); the sponsor is an executive other than the owner.

    The sponsor is the default gatekeeper, so an owner who could name themselves
    sponsor would approve their own gates. Raises ValidationError naming the field.
    """
    errors = {}
    if owner is not None and not may_own_initiatives(owner):
        errors["owner"] = "The owner must be an active product manager or portfolio admin."
    if sponsor is not None and not may_sponsor_initiatives(sponsor):
        errors["sponsor"] = "The executive sponsor must be an active executive."
    elif sponsor is not None and owner is not None and sponsor.pk == owner.pk:
        errors["sponsor"] = "The sponsor decides the gates, so choose someone other than the owner."
    if errors:
        raise ValidationError(errors)


def initiative_touch(initiative_id: int) -> None:
    """Bump the version and updated_at: something under the initiative changed."""
    initiatives_touch([initiative_id])


def initiatives_touch(initiative_ids) -> None:
    Initiative.objects.filter(pk__in=list(initiative_ids)).update(
        updated_at=timezone.now(), version=F("version") + 1
    )


def stage_stall_dates_refresh(*, stage: Stage) -> int:
    """After a stage's expected weeks change: its initiatives' stall dates follow
    (`stalls_on` = entered on + max weeks, None without a maximum), in one UPDATE.

    The board's "stalled" flag and filter, the dashboard's stalled count and the weekly
    digest read the stored date, which was computed as each initiative entered the stage;
    without this, a card showed the new range beside the old flag. Returns the number of
    initiatives updated.
    """
    in_stage = Initiative.objects.filter(stage=stage)
    if stage.max_weeks is None:
        return in_stage.update(stalls_on=None)
    return in_stage.update(
        stalls_on=ExpressionWrapper(
            F("stage_entered_on") + datetime.timedelta(weeks=stage.max_weeks),
            output_field=DateField(),
        )
    )


@transaction.atomic
def business_case_update(
    *, initiative: Initiative, actor: Actor, expected_revision: int | None = None, **fields: Any
) -> BusinessCase:
    """Change the business case and keep a revision of what changed.

    Returns the business case as saved. `expected_revision` is the revision number the
    editor saw; if somebody saved a newer one meanwhile, StaleEdit is raised instead of
    overwriting it. Raises ValidationError for unknown fields or values out of range.
    """
    unknown = set(fields) - set(BusinessCase.TRACKED_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown business case fields: {', '.join(sorted(unknown))}")
    case, _ = BusinessCase.objects.select_for_update().get_or_create(initiative=initiative)
    if expected_revision is not None and case.revision_number != expected_revision:
        raise StaleEdit(
            "Somebody saved this business case while you were editing it. "
            "The current figures are shown; make your change again.",
            current=case,
        )
    changes = {}
    for name, value in fields.items():
        before = getattr(case, name)
        if isinstance(before, Decimal) and value is not None:
            value = Decimal(str(value))
        if before != value:
            changes[name] = [_jsonable(before), _jsonable(value)]
            setattr(case, name, value)
    if not changes:
        return case
    case.full_clean(exclude=["initiative"])
    case.save(update_fields=[*changes, "updated_at"])
    number = case.revision_number + 1
    BusinessCaseRevision.objects.create(
        business_case=case,
        number=number,
        author=actor,
        changes=changes,
        snapshot={name: _jsonable(getattr(case, name)) for name in BusinessCase.TRACKED_FIELDS},
    )
    activity_log(
        actor=actor,
        initiative=initiative,
        verb="business_case.revised",
        obj=case,
        after=changes,
        message=f"Revision {number}: {', '.join(sorted(changes))}",
    )
    initiative_touch(initiative.pk)
    return case


def membership_add(
    *,
    initiative: Initiative,
    actor: Actor,
    user: AbstractBaseUser,
    stage_role: str,
    allocation_percent: int = 100,
) -> Membership:
    """Put a person on the initiative's team in a stage role.

    Returns the saved membership. Raises ValidationError for an unknown role, an allocation
    outside 1-100 % or a role the person already holds there.
    """
    membership = Membership(
        initiative=initiative,
        user=user,
        stage_role=stage_role,
        allocation_percent=allocation_percent,
    )
    membership.full_clean()
    membership = memberships_add(rows=[membership], actor=actor)[0]
    # Imports go through memberships_add and tell nobody; a person added here hears of it.
    payload = {
        "initiative": initiative.key,
        "membership": membership.pk,
        "user_id": user.pk,
        "stage_role": stage_role,
        "stage_role_label": membership.get_stage_role_display(),
    }
    publish_on_commit(Event.INITIATIVE_MEMBER_ADDED, payload)
    return membership


@transaction.atomic
def memberships_add(
    *, rows: list[Membership], actor: Actor, at: datetime.datetime | None = None
) -> list[Membership]:
    """Put people on initiatives' teams, in a constant number of queries.

    `at` dates the log entries (imports: when the team was formed).
    """
    errors = []
    for index, membership in enumerate(rows):
        try:
            membership.full_clean(
                exclude=["initiative", "user"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            errors.append(f"Row {index}: {' '.join(error.messages)}")
    wanted = {(m.initiative_id, m.user_id, m.stage_role) for m in rows}
    if len(wanted) < len(rows):
        errors.append("The same person is listed twice in the same role.")
    held = Membership.objects.filter(
        initiative_id__in={m.initiative_id for m in rows},
        user_id__in={m.user_id for m in rows},
    ).values_list("initiative_id", "user_id", "stage_role")
    if wanted & set(held):
        errors.append("Somebody listed already holds that role on that initiative.")
    if errors:
        raise ValidationError(errors)
    Membership.objects.bulk_create(rows)
    activity_log_many(
        [
            activity_entry(
                actor=actor,
                initiative=membership.initiative,
                verb="membership.added",
                obj=membership,
                after=f"{membership.user} as {membership.stage_role} "
                f"({membership.allocation_percent}%)",
                at=at,
            )
            for membership in rows
        ]
    )
    initiatives_touch({membership.initiative_id for membership in rows})
    return rows


@transaction.atomic
def membership_remove(*, membership: Membership, actor: Actor) -> None:
    """Take a person off the initiative's team."""
    initiative = membership.initiative
    activity_log(
        actor=actor,
        initiative=initiative,
        verb="membership.removed",
        obj=membership,
        before=str(membership),
    )
    membership.delete()
    initiative_touch(initiative.pk)


# --- Measurement retention ------------------------------------------------------------------

DOWNSAMPLE_TARGETS_PER_CHUNK = 500


@dataclass
class DownsampleResult:
    folded: int = 0  # raw readings folded into daily aggregates and deleted
    days: int = 0  # daily aggregates written (created or merged into)
    chunks: int = 0


def retention_cutoff(*, now: datetime.datetime, raw_days: int) -> datetime.datetime:
    """The start of the oldest day kept raw: whole days only, in the configured time zone."""
    first_raw_day = timezone.localdate(now) - datetime.timedelta(days=raw_days)
    return timezone.make_aware(datetime.datetime.combine(first_raw_day, datetime.time.min))


def measurements_downsample(
    *, now: datetime.datetime | None = None, raw_days: int | None = None
) -> DownsampleResult:
    """Fold raw readings older than the retention period into one row per target and day.

    Works through the targets a chunk at a time, one transaction per chunk, so the cost
    of a run follows the readings it folds and never holds locks for long. Each target
    keeps its newest raw reading whatever its age (its latest value stays a reading).
    Re-running folds only what arrived since: a late reading for a folded day is merged
    into that day's aggregate.
    """
    raw_days = settings.TOLLGATE_MEASUREMENT_RAW_DAYS if raw_days is None else raw_days
    result = DownsampleResult()
    if not raw_days:
        return result
    cutoff = retention_cutoff(now=now or timezone.now(), raw_days=raw_days)
    target_ids = list(Target.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(target_ids), DOWNSAMPLE_TARGETS_PER_CHUNK):
        chunk = target_ids[start : start + DOWNSAMPLE_TARGETS_PER_CHUNK]
        folded, days = _downsample_chunk(chunk, cutoff)
        result.folded += folded
        result.days += days
        result.chunks += 1
    return result


@transaction.atomic
def _downsample_chunk(target_ids: list[int], cutoff: datetime.datetime) -> tuple[int, int]:
    # Ingestion locks targets in pk order before writing readings; so does this, so a
    # reading cannot arrive between the aggregate and the delete below.
    targets = list(
        Target.objects.select_for_update()
        .filter(pk__in=target_ids)
        .order_by("pk")
        .only("pk", "latest_measured_at", "measurement_count")
    )
    old = Q()
    for target in targets:
        latest = target.latest_measured_at
        if latest is None:
            continue
        old |= Q(target_id=target.pk, measured_at__lt=min(cutoff, latest))
    if not old:
        return 0, 0
    readings = Measurement.objects.filter(old)
    folded = {
        (row["target_id"], row["day"]): row
        for row in readings.annotate(day=TruncDate("measured_at"))
        .order_by()
        .values("target_id", "day")
        .annotate(
            samples=Count("pk"), minimum=Min("value"), maximum=Max("value"), total=Sum("value")
        )
    }
    if not folded:
        return 0, 0
    existing = {
        (row.target_id, row.day): row
        for row in DailyMeasurement.objects.filter(
            target_id__in=[target.pk for target in targets],
            day__in={day for _, day in folded},
        )
    }
    rows = []
    for (target_id, day), new in folded.items():
        samples, total = new["samples"], new["total"]
        low, high = new["minimum"], new["maximum"]
        before = existing.get((target_id, day))
        if before is not None:
            total += before.mean * before.samples
            samples += before.samples
            low, high = min(low, before.minimum), max(high, before.maximum)
        rows.append(
            DailyMeasurement(
                target_id=target_id,
                day=day,
                samples=samples,
                minimum=low,
                maximum=high,
                # Clamped: float sums can land a hair outside [min, max] for a flat series.
                mean=min(max(total / samples, low), high),
            )
        )
    DailyMeasurement.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["target", "day"],
        update_fields=["samples", "minimum", "maximum", "mean"],
    )
    deleted, _ = readings.delete()
    folded_per_target = Counter()
    for (target_id, _), row in folded.items():
        folded_per_target[target_id] += row["samples"]
    by_pk = {target.pk: target for target in targets}
    for target_id, count in folded_per_target.items():
        by_pk[target_id].measurement_count = F("measurement_count") - count
    Target.objects.bulk_update([by_pk[pk] for pk in folded_per_target], ["measurement_count"])
    return deleted, len(rows)
