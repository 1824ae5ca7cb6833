"""An initiative's life as its gates see it: starting it, changing who runs it, resuming it.

Starting opens the first stage's gate; a new sponsor becomes the gatekeeper of the
gate in play; resuming reopens the gate a hold paused. `gate_open` is shared with
the decisions that advance an initiative into its next stage.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from gates.models import ChecklistItem, Decision, Gate, Gatekeeper, StageTransition
from gates.services.production_bar import items_follow_targets
from initiatives.activity import activity_entry, activity_log, activity_log_many
from initiatives.exceptions import InvalidState, StaleEdit
from initiatives.models import (
    BusinessCase,
    Framework,
    Initiative,
    Stage,
    Tag,
    Target,
    stalls_on_for,
)
from initiatives.services import initiative_key_allocate, initiative_people_validate


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
    due_on = stage.gate_due_on(opened_on)
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
        items_follow_targets(met, actor=actor)
    return gate


@transaction.atomic
def initiative_update(
    *,
    initiative: Initiative,
    actor: AbstractBaseUser,
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
    entries = []
    for name, value in fields.items():
        before = getattr(locked, name)
        if before != value:
            setattr(locked, name, value)
            entries.append(
                activity_entry(
                    actor=actor,
                    initiative=locked,
                    verb="initiative.changed",
                    field=name,
                    before=before,
                    after=value,
                )
            )
    if tags is not None:
        _set_tags(locked, tags)
    if entries or tags is not None:
        locked.full_clean(exclude=["tags"])
        locked.version += 1
        locked.save()
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
        gate.due_on = initiative.stage.gate_due_on(today)
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
