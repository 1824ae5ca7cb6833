"""An initiative's life as its gates see it: starting it, changing who runs it, resuming it.

Starting opens the first stage's gate; a new sponsor becomes the gatekeeper of the
gate in play; resuming reopens the gate a hold paused. `gate_open` is shared with
the decisions that advance an initiative into its next stage.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from core.types import Actor
from gates import openings as gate_openings
from gates.models import ChecklistItem, Decision, Gate, Gatekeeper, StageTransition
from gates.services.moments import FUTURE_TOLERANCE, event_time
from gates.services.production_bar import items_follow_targets, target_build
from initiatives.activity import (
    activity_entry,
    activity_log,
    activity_log_many,
    field_changes_apply,
)
from initiatives.exceptions import InvalidState, StaleEdit
from initiatives.models import (
    BusinessCase,
    ChecklistItemTemplate,
    Framework,
    Initiative,
    Stage,
    Tag,
    Target,
    key_validator,
    stalls_on_for,
)
from initiatives.services import (
    initiative_keys_allocate,
    initiative_keys_reserve,
    initiative_people_validate,
)
from teams.models import Team


@dataclass
class InitiativeStart:
    """One initiative to start. Imports give its key, stage and start time; others don't."""

    name: str
    team: Team
    owner: AbstractBaseUser
    sponsor: AbstractBaseUser
    framework: Framework | None = None
    # The stage it enters Tollgate in (default: the framework's first).
    stage: Stage | None = None
    # Kept when given (imports); otherwise the next free key.
    key: str | None = None
    summary: str = ""
    problem: str = ""
    maturity_level: int = 0
    # When it started (imports; bounded: not in the future). Default: now.
    at: datetime.datetime | None = None
    business_case: dict | None = None
    tags: list[str] = field(default_factory=list)
    # {"metric_key", "threshold", and optionally "comparator", "unit", "category"}
    targets: list[dict] = field(default_factory=list)


def initiative_start(
    *,
    actor: Actor,
    name: str,
    team: Team,
    owner: AbstractBaseUser,
    sponsor: AbstractBaseUser,
    framework: Framework | None = None,
    summary: str = "",
    problem: str = "",
    maturity_level: int = 0,
    entered_on: datetime.date | None = None,
    business_case: dict | None = None,
) -> Initiative:
    """Create an initiative in the first stage of its framework and open that stage's gate.

    Returns the saved initiative. Raises ValidationError when the owner or sponsor may not
    hold the role, a field is invalid, or the framework has no stages.
    """
    row = InitiativeStart(
        name=name,
        team=team,
        owner=owner,
        sponsor=sponsor,
        framework=framework,
        summary=summary,
        problem=problem,
        maturity_level=maturity_level,
        at=_at_start_of(entered_on) if entered_on else None,
        business_case=business_case,
    )
    return initiatives_start(rows=[row], actor=actor)[0]


@transaction.atomic
def initiatives_start(*, rows: list[InitiativeStart], actor: Actor) -> list[Initiative]:
    """Create initiatives, each in its stage with its business case, tags, targets and open gate.

    Rows are written together, so starting a hundred initiatives costs the same
    number of queries as starting one (the portfolio import starts thousands).
    """
    if not rows:
        return []
    now = timezone.now()
    default = None
    framework_ids = set()
    for row in rows:
        if row.framework is None:
            default = default or Framework.default()
            row.framework = default
        framework_ids.add(row.framework.pk)
    stages = list(
        Stage.objects.filter(framework_id__in=framework_ids)
        .order_by("framework_id", "order")
        .prefetch_related(
            Prefetch(
                "checklist_templates",
                queryset=ChecklistItemTemplate.objects.order_by("order"),
                to_attr="ordered_templates",
            )
        )
    )
    first_stage = {}
    by_pk = {}
    for stage in stages:
        first_stage.setdefault(stage.framework_id, stage)
        by_pk[stage.pk] = stage
    errors = {}
    for index, row in enumerate(rows):
        initiative_people_validate(owner=row.owner, sponsor=row.sponsor)
        if row.stage is None:
            row.stage = first_stage.get(row.framework.pk)
            if row.stage is None:
                errors["framework"] = "This framework has no stages yet."
        else:
            row.stage = by_pk.get(row.stage.pk)
            if row.stage is None:
                errors["stage"] = "The stage is not one of the framework's."
        if row.at is not None and row.at > now + FUTURE_TOLERANCE:
            errors[f"rows.{index}.at"] = "An initiative cannot start in the future."
        if row.key:
            key_validator(row.key)
    if errors:
        raise ValidationError(errors)

    # Keys given from outside first, so the counter hands out none of them again.
    initiative_keys_reserve(keys=[row.key for row in rows if row.key])
    keys = iter(initiative_keys_allocate(count=sum(1 for row in rows if not row.key)))
    initiatives = []
    for row in rows:
        at = row.at or now
        entered_on = timezone.localdate(at)
        initiative = Initiative(
            key=row.key or next(keys),
            name=row.name,
            summary=row.summary,
            problem=row.problem,
            team=row.team,
            owner=row.owner,
            sponsor=row.sponsor,
            framework=row.framework,
            stage=row.stage,
            stage_entered_on=entered_on,
            stalls_on=stalls_on_for(row.stage, entered_on),
            maturity_level=row.maturity_level,
        )
        # The related rows are objects in hand and constraints are the database's:
        # check the fields themselves without a query per row.
        initiative.full_clean(
            exclude=["key", "tags", "team", "owner", "sponsor", "framework", "stage"],
            validate_unique=False,
            validate_constraints=False,
        )
        initiative._started_at = at
        initiatives.append(initiative)
    Initiative.objects.bulk_create(initiatives)

    cases = []
    for initiative, row in zip(initiatives, rows, strict=True):
        case = BusinessCase(initiative=initiative, **(row.business_case or {}))
        case.full_clean(exclude=["initiative"], validate_constraints=False)
        cases.append(case)
    BusinessCase.objects.bulk_create(cases)
    StageTransition.objects.bulk_create(
        [
            StageTransition(
                initiative=initiative,
                from_stage=None,
                to_stage=initiative.stage,
                decided_by=actor if actor is not None and actor.is_authenticated else None,
                transitioned_at=initiative._started_at,
            )
            for initiative in initiatives
        ]
    )
    _tags_add(initiatives, [row.tags for row in rows])
    targets = _targets_build(initiatives, [row.targets for row in rows])
    entries = []
    for initiative in initiatives:
        entries.append(
            activity_entry(
                actor=actor,
                initiative=initiative,
                verb="initiative.created",
                after={"stage": initiative.stage.name, "framework": initiative.framework.slug},
                message=f"Started in {initiative.stage.name}",
                at=initiative._started_at,
            )
        )
        for target in targets.get(initiative.pk, []):
            entries.append(
                activity_entry(
                    actor=actor,
                    initiative=initiative,
                    verb="target.created",
                    obj=target,
                    after=str(target),
                    at=initiative._started_at,
                )
            )
    activity_log_many(entries)
    _gates_open(
        [
            _GateOpening(initiative, initiative.stage, initiative._started_at)
            for initiative in initiatives
        ],
        actor=actor,
        targets=targets,
    )
    return initiatives


def _tags_add(initiatives: list[Initiative], names_per_row: list[list[str]]) -> None:
    wanted = {name.strip().lower() for names in names_per_row for name in names if name.strip()}
    if not wanted:
        return
    Tag.objects.bulk_create([Tag(name=name) for name in sorted(wanted)], ignore_conflicts=True)
    tags = dict(Tag.objects.filter(name__in=wanted).values_list("name", "pk"))
    through = Initiative.tags.through
    links = {
        (initiative.pk, tags[name.strip().lower()])
        for initiative, names in zip(initiatives, names_per_row, strict=True)
        for name in names
        if name.strip()
    }
    through.objects.bulk_create(
        [through(initiative_id=initiative_id, tag_id=tag_id) for initiative_id, tag_id in links]
    )


def _targets_build(initiatives, specs_per_row) -> dict[int, list[Target]]:
    targets = {
        initiative.pk: [target_build(initiative, spec) for spec in specs]
        for initiative, specs in zip(initiatives, specs_per_row, strict=True)
    }
    Target.objects.bulk_create([target for rows in targets.values() for target in rows])
    return targets


def _at_start_of(day: datetime.date) -> datetime.datetime:
    if day == timezone.localdate():
        return timezone.now()
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9, 0)))


@dataclass
class _GateOpening:
    initiative: Initiative
    stage: Stage
    at: datetime.datetime
    conditions: Iterable[ChecklistItem] = ()
    condition_due_on: datetime.date | None = None


def gate_open(
    *,
    initiative: Initiative,
    stage: Stage,
    actor: Actor,
    opened_on: datetime.date | None = None,
    at: datetime.datetime | None = None,
    conditions: Iterable[ChecklistItem] = (),
    condition_due_on: datetime.date | None = None,
) -> Gate | None:
    """Open the exit gate of `stage`, copying its checklist from the template.

    Conditions carried from a conditional go are appended as required items.
    Returns None (and clears the due date) when the stage has no exit gate.
    """
    at = at or (_at_start_of(opened_on) if opened_on else timezone.now())
    opening = _GateOpening(initiative, stage, at, conditions, condition_due_on)
    return _gates_open([opening], actor=actor)[0]


def _gates_open(
    openings: list[_GateOpening], *, actor, targets: dict[int, list[Target]] | None = None
) -> list[Gate | None]:
    """Open several gates at once: one insert each for gates, gatekeepers, items and log."""
    gates: list[Gate | None] = []
    for opening in openings:
        stage, initiative = opening.stage, opening.initiative
        if not stage.has_exit_gate:
            gates.append(None)
            initiative.gate_due_on = None
            continue
        due_on = stage.gate_due_on(timezone.localdate(opening.at))
        gates.append(Gate(initiative=initiative, stage=stage, due_on=due_on, opened_at=opening.at))
        initiative.gate_due_on = due_on
    Gate.objects.bulk_create([gate for gate in gates if gate is not None])
    Initiative.objects.bulk_update([opening.initiative for opening in openings], ["gate_due_on"])
    Gatekeeper.objects.bulk_create(
        [Gatekeeper(gate=gate, user=gate.initiative.sponsor) for gate in gates if gate]
    )
    if targets is None:
        targets = defaultdict(list)
        for target in Target.objects.filter(
            initiative__in=[opening.initiative for opening in openings]
        ):
            targets[target.initiative_id].append(target)
    items, entries, met = [], [], []
    for opening, gate in zip(openings, gates, strict=True):
        if gate is None:
            continue
        by_metric = {target.metric_key: target for target in targets.get(gate.initiative_id, [])}
        templates = getattr(opening.stage, "ordered_templates", None)
        if templates is None:
            templates = list(opening.stage.checklist_templates.order_by("order"))
        gate_items = [
            ChecklistItem(
                gate=gate,
                template=template,
                order=template.order,
                text=template.text,
                guidance=template.guidance,
                required=template.required,
                metric_key=template.metric_key,
                target=by_metric.get(template.metric_key) if template.metric_key else None,
                updated_at=opening.at,
            )
            for template in templates
        ]
        next_order = (gate_items[-1].order if gate_items else 0) + 1
        for offset, condition in enumerate(opening.conditions):
            gate_items.append(
                ChecklistItem(
                    gate=gate,
                    order=next_order + offset,
                    text=condition.text,
                    guidance=condition.guidance,
                    required=True,
                    metric_key=condition.metric_key,
                    target=condition.target,
                    is_condition=True,
                    condition_due_on=opening.condition_due_on or gate.due_on,
                    carried_from=condition,
                    regulation=condition.regulation,
                    regulation_url=condition.regulation_url,
                    updated_at=opening.at,
                )
            )
        items += gate_items
        entries.append(
            activity_entry(
                actor=actor,
                initiative=gate.initiative,
                verb="gate.opened",
                obj=gate,
                after={"due_on": gate.due_on.isoformat(), "items": len(gate_items)},
                at=opening.at,
            )
        )
        met += [
            (target, opening.at)
            for target in by_metric.values()
            if target.status == Target.Status.MET
        ]
    ChecklistItem.objects.bulk_create(items)
    activity_log_many(entries)
    opened = [gate for gate in gates if gate is not None]
    if opened:
        gate_openings.contribute(gates=opened, actor=actor)
    # Items whose target is already met start done.
    for target, at in met:
        items_follow_targets([target], actor=actor, at=at)
    return gates


@transaction.atomic
def initiative_update(
    *,
    initiative: Initiative,
    actor: Actor,
    expected_version: int | None = None,
    **fields: Any,
) -> Initiative:
    """Change an initiative's descriptive fields and return it as saved.

    It lives with the gates because a new sponsor replaces the old one as
    gatekeeper of the gate in play. Raises StaleEdit when `expected_version` is
    not the current version, ValidationError for fields that cannot be changed
    here or for an owner or sponsor who may not hold the role.
    """
    unknown = set(fields) - set(Initiative.EDITABLE_FIELDS) - {"tags"}
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}")
    locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleEdit("This initiative changed since you loaded it.", current=locked)
    tags = fields.pop("tags", None)
    if "owner" in fields or "sponsor" in fields:
        initiative_people_validate(
            owner=fields.get("owner", locked.owner), sponsor=fields.get("sponsor", locked.sponsor)
        )
    previous_sponsor_id = locked.sponsor_id
    entries = field_changes_apply(
        locked, fields, actor=actor, initiative=locked, verb="initiative.changed"
    )
    if tags is not None:
        _set_tags(locked, tags)
    if entries or tags is not None:
        locked.full_clean(exclude=["tags"])
        locked.version += 1
        changed = [entry.field for entry in entries]
        locked.save(update_fields=[*changed, "version", "updated_at"])
        activity_log_many(entries)
    if locked.sponsor_id != previous_sponsor_id:
        _gatekeeper_follow_sponsor(locked, previous_sponsor_id)
    return locked


def _gatekeeper_follow_sponsor(initiative: Initiative, previous_sponsor_id: int) -> None:
    """The new sponsor replaces the old one on the gate still in play (its votes stay recorded)."""
    pending = Gate.objects.pending().filter(initiative=initiative)
    Gatekeeper.objects.filter(gate__in=pending, user_id=previous_sponsor_id).delete()
    for gate_id in pending.values_list("pk", flat=True):
        Gatekeeper.objects.get_or_create(gate_id=gate_id, user_id=initiative.sponsor_id)


def _set_tags(initiative: Initiative, names) -> None:
    tags = [Tag.objects.get_or_create(name=name.strip().lower())[0] for name in names if name]
    initiative.tags.set(tags)


@transaction.atomic
def initiative_resume(
    *, initiative: Initiative, actor: Actor, at: datetime.datetime | None = None
) -> Initiative:
    """Take an initiative off hold: its gate reopens with a new due date.

    Returns the initiative as saved. Raises InvalidState unless it is on hold. `at` is
    when, for imported history (see event_time).
    """
    initiative = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if initiative.status != Initiative.Status.ON_HOLD:
        raise InvalidState("Only an initiative on hold can be resumed.")
    moment = event_time(at, initiative)
    today = timezone.localdate(moment)
    gate = Gate.objects.filter(initiative=initiative, stage=initiative.stage).first()
    initiative.status = Initiative.Status.ACTIVE
    if gate is not None and gate.decision == Decision.HOLD:
        gate.state = Gate.State.OPEN
        gate.decision = ""
        gate.due_on = initiative.stage.gate_due_on(today)
        gate.version += 1
        gate.save(update_fields=["state", "decision", "due_on", "version"])
        initiative.gate_due_on = gate.due_on
    initiative.version += 1
    initiative.save(update_fields=["status", "gate_due_on", "version", "updated_at"])
    activity_log(
        actor=actor,
        initiative=initiative,
        verb="initiative.changed",
        field="status",
        before=Initiative.Status.ON_HOLD,
        after=Initiative.Status.ACTIVE,
        at=moment,
    )
    return initiative


@transaction.atomic
def initiative_complete(
    *, initiative: Initiative, actor: Actor, at: datetime.datetime | None = None, message: str = ""
) -> Initiative:
    """Mark an active initiative completed: handed over to run as a service, nothing more due."""
    initiative = Initiative.objects.select_for_update().get(pk=initiative.pk)
    if initiative.status != Initiative.Status.ACTIVE:
        raise InvalidState("Only an active initiative can be completed.")
    moment = event_time(at, initiative)
    initiative.status = Initiative.Status.COMPLETED
    initiative.gate_due_on = None
    initiative.version += 1
    initiative.save(update_fields=["status", "gate_due_on", "version", "updated_at"])
    activity_log(
        actor=actor,
        initiative=initiative,
        verb="initiative.changed",
        field="status",
        before=Initiative.Status.ACTIVE,
        after=Initiative.Status.COMPLETED,
        message=message,
        at=moment,
    )
    return initiative
