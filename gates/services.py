"""The gate workflow: starting initiatives, checklists, measurements, reviews and decisions.

Every function here runs in a transaction, writes the activity log, and is the
only way views, the API, admin actions and tasks change these rows.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from gates import snapshots
from gates.models import (
    ChecklistItem,
    Decision,
    Gate,
    GateDecision,
    Gatekeeper,
    StageTransition,
    Vote,
)
from initiatives import events
from initiatives.activity import activity_entry, activity_log, activity_log_many
from initiatives.exceptions import AlreadyDecided, InvalidState, StaleEdit
from initiatives.models import (
    BusinessCase,
    Framework,
    Initiative,
    Measurement,
    Stage,
    Target,
    stalls_on_for,
)
from initiatives.services import (
    initiative_key_allocate,
    initiative_people_validate,
    initiative_touch,
)

# When a stage has no maximum duration, a recycled or reopened gate gets this long.
DEFAULT_GATE_WEEKS = 4


def _publish_on_commit(event: str, payload: dict) -> None:
    """Announce an event (webhooks listen) once the surrounding transaction commits."""
    transaction.on_commit(lambda: events.publish(event, payload), robust=True)


# --- Starting and opening gates -------------------------------------------------


@transaction.atomic
def initiative_start(
    *,
    actor,
    name: str,
    team,
    owner,
    sponsor,
    framework: Framework | None = None,
    summary: str = "",
    problem: str = "",
    maturity_level: int = 0,
    entered_on: datetime.date | None = None,
    business_case: dict | None = None,
) -> Initiative:
    """Create an initiative in the first stage of its framework and open that stage's gate."""
    initiative_people_validate(owner=owner, sponsor=sponsor)
    framework = framework or Framework.default()
    stage = framework.stages.order_by("order").first()
    if stage is None:
        raise ValidationError({"framework": "This framework has no stages yet."})
    entered_on = entered_on or timezone.localdate()
    initiative = Initiative(
        key=initiative_key_allocate(),
        name=name,
        summary=summary,
        problem=problem,
        team=team,
        owner=owner,
        sponsor=sponsor,
        framework=framework,
        stage=stage,
        stage_entered_on=entered_on,
        stalls_on=stalls_on_for(stage, entered_on),
        maturity_level=maturity_level,
    )
    initiative.full_clean(exclude=["key", "tags"])
    initiative.save()
    case = BusinessCase(initiative=initiative, **(business_case or {}))
    case.full_clean(exclude=["initiative"])
    case.save()
    StageTransition.objects.create(
        initiative=initiative,
        from_stage=None,
        to_stage=stage,
        decided_by=actor,
        transitioned_at=_at_start_of(entered_on),
    )
    activity_log(
        actor=actor,
        initiative=initiative,
        verb="initiative.created",
        after={"stage": stage.name, "framework": framework.slug},
        message=f"Started in {stage.name}",
    )
    gate_open(initiative=initiative, stage=stage, actor=actor, opened_on=entered_on)
    return initiative


def _at_start_of(day: datetime.date) -> datetime.datetime:
    if day == timezone.localdate():
        return timezone.now()
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 0)))


def _due_on(stage: Stage, opened_on: datetime.date) -> datetime.date:
    weeks = stage.max_weeks if stage.max_weeks is not None else DEFAULT_GATE_WEEKS
    return opened_on + datetime.timedelta(weeks=weeks)


def gate_open(
    *,
    initiative: Initiative,
    stage: Stage,
    actor,
    opened_on: datetime.date,
    conditions: Iterable[ChecklistItem] = (),
    condition_due_on: datetime.date | None = None,
) -> Gate | None:
    """Open the exit gate of `stage`, copying its checklist from the template.

    Conditions carried from a conditional go are appended as required items.
    Returns None (and clears the due date) when the stage has no exit gate.
    """
    if not stage.has_exit_gate:
        initiative.gate_due_on = None
        initiative.save(update_fields=["gate_due_on"])
        return None
    due_on = _due_on(stage, opened_on)
    gate = Gate.objects.create(
        initiative=initiative, stage=stage, due_on=due_on, opened_at=_at_start_of(opened_on)
    )
    Gatekeeper.objects.create(gate=gate, user=initiative.sponsor)
    targets = {target.metric_key: target for target in initiative.targets.all()}
    items = [
        ChecklistItem(
            gate=gate,
            template=template,
            order=template.order,
            text=template.text,
            guidance=template.guidance,
            required=template.required,
            metric_key=template.metric_key,
            target=targets.get(template.metric_key) if template.metric_key else None,
        )
        for template in stage.checklist_templates.order_by("order")
    ]
    next_order = (items[-1].order if items else 0) + 1
    for offset, condition in enumerate(conditions):
        items.append(
            ChecklistItem(
                gate=gate,
                order=next_order + offset,
                text=condition.text,
                guidance=condition.guidance,
                required=True,
                metric_key=condition.metric_key,
                target=condition.target,
                is_condition=True,
                condition_due_on=condition_due_on or due_on,
            )
        )
    ChecklistItem.objects.bulk_create(items)
    initiative.gate_due_on = due_on
    initiative.save(update_fields=["gate_due_on"])
    activity_log(
        actor=actor,
        initiative=initiative,
        verb="gate.opened",
        obj=gate,
        after={"due_on": due_on.isoformat(), "items": len(items)},
    )
    # Items whose target is already met start done.
    met = [target for target in targets.values() if target.status == Target.Status.MET]
    if met:
        _items_follow_targets(met, actor=actor)
    return gate


@transaction.atomic
def gatekeeper_add(*, gate: Gate, user, actor) -> Gatekeeper:
    """Add a decision maker to a gate (portfolio admins do this for executives)."""
    gate = Gate.objects.select_for_update().select_related("initiative").get(pk=gate.pk)
    if not gate.is_pending:
        raise InvalidState("This gate has been decided; its gatekeepers are fixed.")
    gatekeeper, created = Gatekeeper.objects.get_or_create(gate=gate, user=user)
    if created:
        activity_log(
            actor=actor,
            initiative=gate.initiative,
            verb="gate.gatekeeper_added",
            obj=gate,
            after=str(user),
        )
        _publish_on_commit(
            "gate.gatekeeper_added",
            {"initiative": gate.initiative.key, "gate": gate.pk, "user_id": user.pk},
        )
    return gatekeeper


@transaction.atomic
def gate_rule_set(*, gate: Gate, rule: str, actor) -> Gate:
    """Choose whether any one gatekeeper or all of them decide."""
    if rule not in Gate.Rule.values:
        raise ValidationError({"rule": f"Choose one of: {', '.join(Gate.Rule.values)}."})
    gate = Gate.objects.select_for_update().select_related("initiative").get(pk=gate.pk)
    if gate.state == Gate.State.DECIDED:
        raise InvalidState("This gate has been decided; its rule is fixed.")
    if gate.rule != rule:
        activity_log(
            actor=actor,
            initiative=gate.initiative,
            verb="gate.changed",
            obj=gate,
            field="rule",
            before=gate.rule,
            after=rule,
        )
        gate.rule = rule
        gate.version += 1
        gate.save(update_fields=["rule", "version"])
    return gate


# --- Checklist items -------------------------------------------------------------

_UNSET = object()
validate_url = URLValidator(schemes=["http", "https"])


@transaction.atomic
def checklist_item_update(
    *,
    item: ChecklistItem,
    actor,
    state: str | None = None,
    na_reason: str | None = None,
    evidence_url: str | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> ChecklistItem:
    """Tick, untick or mark an item not applicable, and edit its evidence and note.

    `expected_version` is the version the editor saw; if the item changed
    since, StaleEdit carries the current item instead of overwriting it.
    """
    # The gate first, then the item: the same order as gate_vote, so an edit cannot
    # slip in after a decision has frozen the checklist.
    gate = Gate.objects.select_for_update().select_related("initiative").get(pk=item.gate_id)
    locked = ChecklistItem.objects.select_for_update().get(pk=item.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleEdit(
            "Somebody else changed this item since you loaded it. Its current state is shown.",
            current=locked,
        )
    if not gate.is_pending:
        raise InvalidState("This gate has been decided; its checklist is frozen.")

    errors = {}
    new = {}
    if state is not None:
        if state not in ChecklistItem.State.values:
            errors["state"] = f"Choose one of: {', '.join(ChecklistItem.State.values)}."
        new["state"] = state
    if evidence_url is not None:
        evidence_url = evidence_url.strip()
        if evidence_url:
            try:
                validate_url(evidence_url)
            except ValidationError:
                errors["evidence_url"] = "Enter a full http:// or https:// address."
        new["evidence_url"] = evidence_url
    if note is not None:
        new["note"] = note.strip()
    final_state = new.get("state", locked.state)
    if final_state == ChecklistItem.State.NOT_APPLICABLE:
        reason = (na_reason if na_reason is not None else locked.na_reason).strip()
        if not reason:
            errors["na_reason"] = "Say why this item does not apply."
        new["na_reason"] = reason
    elif locked.na_reason:
        new["na_reason"] = ""
    if errors:
        raise ValidationError(errors)

    entries = []
    for field, value in new.items():
        before = getattr(locked, field)
        if before != value:
            setattr(locked, field, value)
            entries.append(
                activity_entry(
                    actor=actor,
                    initiative=gate.initiative,
                    verb="item.changed",
                    obj=locked,
                    field=field,
                    before=before,
                    after=value,
                )
            )
    if not entries:
        return locked
    locked.version += 1
    locked.updated_by = actor
    locked.updated_at = timezone.now()
    locked.save(update_fields=[*new, "version", "updated_by", "updated_at"])
    activity_log_many(entries)
    initiative_touch(gate.initiative_id)
    return locked


# --- Production bar ----------------------------------------------------------------


@transaction.atomic
def target_create(
    *,
    initiative: Initiative,
    actor,
    metric_key: str,
    threshold: float,
    comparator: str | None = None,
    category: str | None = None,
    unit: str | None = None,
    description: str = "",
) -> Target:
    """Add a line to the production bar; checklist items that name its metric follow it."""
    defaults = Target.STANDARD_METRICS.get(metric_key, ("business", ">=", ""))
    target = Target(
        initiative=initiative,
        metric_key=metric_key,
        category=category or defaults[0],
        comparator=comparator or defaults[1],
        unit=defaults[2] if unit is None else unit,
        threshold=threshold,
        description=description,
    )
    target.full_clean()
    target.save()
    ChecklistItem.objects.filter(
        gate__initiative=initiative,
        gate__state__in=[Gate.State.OPEN, Gate.State.IN_REVIEW],
        metric_key=metric_key,
        target__isnull=True,
    ).update(target=target)
    activity_log(
        actor=actor, initiative=initiative, verb="target.created", obj=target, after=str(target)
    )
    initiative_touch(initiative.pk)
    return target


@dataclass(frozen=True)
class MeasurementInput:
    target: Target
    value: float
    measured_at: datetime.datetime | None = None


def measurement_record(
    *,
    target: Target,
    value: float,
    actor,
    measured_at: datetime.datetime | None = None,
    source: str = Measurement.Source.MANUAL,
) -> Measurement:
    """Record one measurement of a target (and let linked checklist items follow it)."""
    return measurements_record(
        rows=[MeasurementInput(target=target, value=value, measured_at=measured_at)],
        actor=actor,
        source=source,
    )[0]


@transaction.atomic
def measurements_record(
    *, rows: list[MeasurementInput], actor, source: str = Measurement.Source.INTEGRATION
) -> list[Measurement]:
    """Record a batch of measurements with a constant number of queries.

    For each target the newest measurement becomes its latest value; a target
    that flips to met ticks its linked items, one that flips to missed reopens them.
    """
    if not rows:
        return []
    now = timezone.now()
    errors = []
    for index, row in enumerate(rows):
        if row.measured_at is not None and row.measured_at > now + datetime.timedelta(minutes=5):
            errors.append(f"Row {index}: measured_at is in the future.")
        if row.value != row.value or row.value in (float("inf"), float("-inf")):
            errors.append(f"Row {index}: value must be a finite number.")
    if errors:
        raise ValidationError(errors)
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

    changed_targets, flipped, entries = [], [], []
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
            if status == Target.Status.MISSED:
                _publish_on_commit(
                    "target.missed",
                    {
                        "initiative": target.initiative.key,
                        "initiative_name": target.initiative.name,
                        "target": target.pk,
                        "metric_key": target.metric_key,
                        "comparator": target.comparator,
                        "threshold": target.threshold,
                        "value": measurement.value,
                        "measured_at": measurement.measured_at.isoformat(),
                    },
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
                    message=f"{target.metric_key} = {measurement.value:g}{target.unit}",
                )
            )
        target.latest_value = measurement.value
        target.latest_measured_at = measurement.measured_at
        target.status = status
        target._latest_measurement = measurement
        changed_targets.append(target)
    Target.objects.bulk_update(changed_targets, ["latest_value", "latest_measured_at", "status"])
    activity_log_many(entries)
    if flipped:
        _items_follow_targets(flipped, actor=actor)
    Initiative.objects.filter(pk__in={target.initiative_id for target in targets.values()}).update(
        updated_at=now, version=F("version") + 1
    )
    return measurements


def _items_follow_targets(targets: list[Target], *, actor) -> None:
    """Met → linked open items done with the measurement as evidence; missed → reopened."""
    by_id = {target.pk: target for target in targets}
    items = list(
        ChecklistItem.objects.select_for_update()
        .filter(
            target_id__in=list(by_id),
            gate__state__in=[Gate.State.OPEN, Gate.State.IN_REVIEW],
        )
        .select_related("gate__initiative")
    )
    now = timezone.now()
    changed, entries = [], []
    for item in items:
        target = by_id[item.target_id]
        initiative = item.gate.initiative
        reading = f"{target.metric_key} = {target.latest_value:g}{target.unit}"
        if target.status == Target.Status.MET and item.state == ChecklistItem.State.OPEN:
            item.state = ChecklistItem.State.DONE
            item.evidence_url = f"{_site_url()}{initiative.get_absolute_url()}#target-{target.pk}"
            item.note = f"Met by measurement {reading} on {target.latest_measured_at:%Y-%m-%d}."
        elif target.status == Target.Status.MISSED and item.state == ChecklistItem.State.DONE:
            item.state = ChecklistItem.State.OPEN
            item.note = f"Reopened: latest measurement {reading} misses the target."
            _publish_on_commit(
                "item.reopened",
                {"initiative": initiative.key, "item": item.pk, "version": item.version + 1},
            )
        else:
            continue
        item.version += 1
        item.updated_by = actor if actor is not None and actor.is_authenticated else None
        item.updated_at = now
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
            )
        )
    ChecklistItem.objects.bulk_update(
        changed, ["state", "evidence_url", "note", "version", "updated_by", "updated_at"]
    )
    activity_log_many(entries)


def _site_url() -> str:
    from django.conf import settings

    return settings.SITE_URL.rstrip("/")


# --- Reviews and decisions ------------------------------------------------------------


@transaction.atomic
def gate_request_review(*, gate: Gate, actor) -> Gate:
    """The owner's side asks the gatekeepers to decide."""
    gate = Gate.objects.select_for_update().select_related("initiative").get(pk=gate.pk)
    if gate.state == Gate.State.IN_REVIEW:
        raise InvalidState("A review has already been requested for this gate.")
    if gate.state == Gate.State.DECIDED:
        raise AlreadyDecided("This gate has already been decided.")
    if gate.initiative.status != Initiative.Status.ACTIVE:
        raise InvalidState("Only an active initiative can ask for a review.")
    if not gate.gatekeepers.exists():
        raise InvalidState("This gate has no gatekeepers; ask a portfolio admin to add one.")
    gate.state = Gate.State.IN_REVIEW
    gate.review_round += 1
    gate.review_requested_at = timezone.now()
    gate.review_requested_by = actor
    gate.version += 1
    gate.save(
        update_fields=[
            "state",
            "review_round",
            "review_requested_at",
            "review_requested_by",
            "version",
        ]
    )
    activity_log(
        actor=actor,
        initiative=gate.initiative,
        verb="gate.review_requested",
        obj=gate,
        after={"round": gate.review_round},
    )
    required = [item for item in gate.items.all() if item.required]
    _publish_on_commit(
        "gate.review_requested",
        {
            "initiative": gate.initiative.key,
            "initiative_name": gate.initiative.name,
            "gate": gate.pk,
            "round": gate.review_round,
            "requested_by": actor.get_username() if actor is not None else None,
            "requested_by_name": (actor.get_full_name() or actor.get_username())
            if actor is not None
            else None,
            "readiness": {
                "cleared": sum(1 for item in required if item.is_cleared),
                "required": len(required),
            },
        },
    )
    initiative_touch(gate.initiative_id)
    return gate


# Under the "all" rule, when votes differ, the gate does not advance if anyone
# voted against advancing, and the most severe of those votes stands.
_SEVERITY = [Decision.STOP, Decision.HOLD, Decision.RECYCLE]


def combine_votes(decisions: list[str]) -> str:
    """The decision of a unanimous-rule gate from its votes."""
    against = [d for d in decisions if d not in (Decision.GO, Decision.CONDITIONAL_GO)]
    if against:
        return next(d for d in _SEVERITY if d in against)
    if Decision.CONDITIONAL_GO in decisions:
        return Decision.CONDITIONAL_GO
    return Decision.GO


@transaction.atomic
def gate_vote(
    *,
    gate: Gate,
    actor,
    decision: str,
    rationale: str,
    override_justification: str = "",
) -> Gate:
    """Record a gatekeeper's vote; when the gate's rule is met, take the decision.

    The gate row is locked, so two concurrent deciders are serialised: the
    second finds the gate decided and gets AlreadyDecided.
    """
    gate = Gate.objects.select_for_update().select_related("initiative", "stage").get(pk=gate.pk)
    if gate.state == Gate.State.DECIDED:
        raise AlreadyDecided(
            f"This gate was already decided ({gate.get_decision_display()}) by "
            f"{gate.decided_by} at {timezone.localtime(gate.decided_at):%Y-%m-%d %H:%M}."
        )
    if gate.state != Gate.State.IN_REVIEW:
        raise InvalidState("Ask for a review before deciding this gate.")
    if not gate.gatekeepers.filter(user=actor).exists():
        raise InvalidState("Only this gate's gatekeepers can decide it.")
    if Vote.objects.filter(gate=gate, voter=actor, round=gate.review_round).exists():
        raise InvalidState("You have already voted in this review.")

    rationale = (rationale or "").strip()
    override_justification = (override_justification or "").strip()
    errors = {}
    if decision not in Decision.values:
        errors["decision"] = f"Choose one of: {', '.join(Decision.values)}."
    if not rationale:
        errors["rationale"] = "Write down why: the rationale is part of the record."
    items = list(gate.items.select_related("target").order_by("order"))
    open_required = [item for item in items if item.required and not item.is_cleared]
    if decision == Decision.GO and open_required and not override_justification:
        errors["override_justification"] = (
            f"{len(open_required)} required item(s) are still open. Go needs an explicit "
            "override with a written justification, or decide conditional go."
        )
    following = gate.stage.next_stage()
    if decision in (Decision.GO, Decision.CONDITIONAL_GO) and following is None:
        errors["decision"] = "This is the last stage; there is nothing to advance to."
    if (
        decision == Decision.CONDITIONAL_GO
        and following is not None
        and not following.has_exit_gate
        and open_required
    ):
        errors["decision"] = (
            f"{following.name} has no exit gate to carry conditions into; "
            "decide go with an override instead."
        )
    if errors:
        raise ValidationError(errors)

    Vote.objects.create(
        gate=gate,
        voter=actor,
        round=gate.review_round,
        decision=decision,
        rationale=rationale,
        override_justification=override_justification,
    )
    activity_log(
        actor=actor,
        initiative=gate.initiative,
        verb="gate.voted",
        obj=gate,
        after=decision,
        message=rationale,
    )
    if gate.rule == Gate.Rule.ANY:
        outcome = decision
    else:
        votes = list(
            Vote.objects.filter(gate=gate, round=gate.review_round).values_list(
                "decision", flat=True
            )
        )
        if len(votes) < gate.gatekeepers.count():
            return gate
        outcome = combine_votes(votes)
        if outcome != decision:
            override_justification = ""
        if outcome == Decision.GO and open_required and not override_justification:
            override_justification = "; ".join(
                Vote.objects.filter(gate=gate, round=gate.review_round)
                .exclude(override_justification="")
                .values_list("override_justification", flat=True)
            )
    _gate_decide(
        gate=gate,
        decision=outcome,
        actor=actor,
        rationale=rationale,
        override_justification=override_justification,
        items=items,
        open_required=open_required,
        following=following,
    )
    return gate


def decision_snapshot(gate: Gate, items: list[ChecklistItem]) -> dict:
    """What the deciders saw: every checklist item and the latest value of every target."""
    targets = gate.initiative.targets.order_by("metric_key")
    required = [item for item in items if item.required]
    return {
        "taken_at": timezone.now().isoformat(),
        "readiness": {
            "cleared": sum(1 for item in required if item.is_cleared),
            "required": len(required),
        },
        "checklist": [
            {
                "id": item.pk,
                "text": item.text,
                "required": item.required,
                "state": item.state,
                "na_reason": item.na_reason,
                "evidence_url": item.evidence_url,
                "note": item.note,
                "is_condition": item.is_condition,
            }
            for item in items
        ],
        "targets": [
            {
                "id": target.pk,
                "metric_key": target.metric_key,
                "comparator": target.comparator,
                "threshold": target.threshold,
                "unit": target.unit,
                "latest_value": target.latest_value,
                "measured_at": target.latest_measured_at.isoformat()
                if target.latest_measured_at
                else None,
                "status": target.status,
            }
            for target in targets
        ],
    }


def _gate_decide(
    *,
    gate: Gate,
    decision: str,
    actor,
    rationale: str,
    override_justification: str,
    items: list[ChecklistItem],
    open_required: list[ChecklistItem],
    following: Stage | None,
) -> None:
    snapshot = snapshots.contribute(gate=gate, items=items, snapshot=decision_snapshot(gate, items))
    now = timezone.now()
    try:
        with transaction.atomic():
            GateDecision.objects.create(
                gate=gate,
                round=gate.review_round,
                decision=decision,
                decided_by=actor,
                decided_at=now,
                rationale=rationale,
                override_justification=override_justification,
                snapshot=snapshot,
            )
    except IntegrityError as error:
        raise AlreadyDecided("This gate was decided a moment ago by somebody else.") from error

    initiative = Initiative.objects.select_for_update().get(pk=gate.initiative_id)
    today = timezone.localdate()
    gate.decided_by = actor
    gate.decided_at = now
    gate.rationale = rationale
    gate.override_justification = override_justification
    gate.snapshot = snapshot
    gate.version += 1
    initiative.version += 1

    if decision == Decision.RECYCLE:
        # The gate goes round again with a new due date; the decision stays on record.
        gate.state = Gate.State.OPEN
        gate.decision = ""
        gate.due_on = _due_on(gate.stage, today)
        initiative.gate_due_on = gate.due_on
    else:
        gate.state = Gate.State.DECIDED
        gate.decision = decision
        initiative.gate_due_on = None
    gate.save()

    if decision == Decision.HOLD:
        initiative.status = Initiative.Status.ON_HOLD
    elif decision == Decision.STOP:
        initiative.status = Initiative.Status.STOPPED
    initiative.save()

    activity_log(
        actor=actor,
        initiative=initiative,
        verb="gate.decided",
        obj=gate,
        after=decision,
        message=rationale,
    )
    _publish_on_commit(
        "gate.decided",
        {
            "initiative": initiative.key,
            "initiative_name": initiative.name,
            "gate": gate.pk,
            "stage": gate.stage.key,
            "stage_name": gate.stage.name,
            "decision": decision,
            "decision_label": Decision(decision).label,
            "decided_by": actor.get_username() if actor is not None else None,
            "decided_at": now.isoformat(),
            "rationale": rationale,
        },
    )
    if decision in (Decision.GO, Decision.CONDITIONAL_GO):
        _advance(
            initiative=initiative,
            gate=gate,
            following=following,
            actor=actor,
            decision=decision,
            conditions=open_required if decision == Decision.CONDITIONAL_GO else [],
        )


def _advance(*, initiative, gate, following, actor, decision, conditions) -> None:
    today = timezone.localdate()
    previous = initiative.stage
    initiative.stage = following
    initiative.stage_entered_on = today
    initiative.stalls_on = stalls_on_for(following, today)
    initiative.save(update_fields=["stage", "stage_entered_on", "stalls_on"])
    StageTransition.objects.create(
        initiative=initiative,
        from_stage=previous,
        to_stage=following,
        gate=gate,
        decision=decision,
        decided_by=actor,
    )
    activity_log(
        actor=actor,
        initiative=initiative,
        verb="initiative.stage_changed",
        obj=initiative,
        field="stage",
        before=previous.name,
        after=following.name,
    )
    _publish_on_commit(
        "initiative.stage_changed",
        {
            "initiative": initiative.key,
            "initiative_name": initiative.name,
            "from_stage": previous.key,
            "to_stage": following.key,
            "decision": decision,
        },
    )
    gate_open(
        initiative=initiative,
        stage=following,
        actor=actor,
        opened_on=today,
        conditions=conditions,
    )


@transaction.atomic
def initiative_resume(*, initiative: Initiative, actor) -> Initiative:
    """Take an initiative off hold: its gate reopens with a new due date."""
    initiative = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if initiative.status != Initiative.Status.ON_HOLD:
        raise InvalidState("Only an initiative on hold can be resumed.")
    today = timezone.localdate()
    gate = Gate.objects.filter(initiative=initiative, stage=initiative.stage).first()
    initiative.status = Initiative.Status.ACTIVE
    if gate is not None and gate.decision == Decision.HOLD:
        gate.state = Gate.State.OPEN
        gate.decision = ""
        gate.due_on = _due_on(initiative.stage, today)
        gate.version += 1
        gate.save(update_fields=["state", "decision", "due_on", "version"])
        initiative.gate_due_on = gate.due_on
    initiative.version += 1
    initiative.save()
    activity_log(
        actor=actor,
        initiative=initiative,
        verb="initiative.changed",
        field="status",
        before=Initiative.Status.ON_HOLD,
        after=Initiative.Status.ACTIVE,
    )
    return initiative
