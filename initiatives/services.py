"""Writes to initiatives, business cases and teams. The gate workflow is in gates.services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from initiatives import events
from initiatives.activity import _jsonable, activity_entry, activity_log, activity_log_many
from initiatives.exceptions import StaleEdit
from initiatives.models import (
    BusinessCase,
    BusinessCaseRevision,
    Initiative,
    KeyCounter,
    Membership,
)

INITIATIVE_EDITABLE_FIELDS = [
    "name",
    "summary",
    "problem",
    "team",
    "owner",
    "sponsor",
    "maturity_level",
]


def initiative_key_allocate(*, prefix: str | None = None) -> str:
    """The next key (AI-001, AI-002, ...). The counter only grows, so keys are never reused."""
    prefix = prefix or settings.TOLLGATE_KEY_PREFIX
    KeyCounter.objects.get_or_create(prefix=prefix)
    # The UPDATE takes the row lock until the surrounding transaction ends.
    KeyCounter.objects.filter(prefix=prefix).update(last_value=F("last_value") + 1)
    number = KeyCounter.objects.values_list("last_value", flat=True).get(prefix=prefix)
    return f"{prefix}-{number:03d}"


def initiative_people_validate(*, owner, sponsor) -> None:
    """The owner is a product manager (or admin); the sponsor is an executive other than the owner.

    The sponsor is the default gatekeeper, so an owner who could name themselves
    sponsor would approve their own gates.
    """
    from teams.roles import PortfolioRole, portfolio_roles

    errors = {}
    if owner is not None and (
        not owner.is_active
        or not {PortfolioRole.PRODUCT_MANAGER, PortfolioRole.ADMIN} & portfolio_roles(owner)
    ):
        errors["owner"] = "The owner must be an active product manager or portfolio admin."
    if sponsor is not None and (
        not sponsor.is_active
        or not {PortfolioRole.EXECUTIVE, PortfolioRole.ADMIN} & portfolio_roles(sponsor)
    ):
        errors["sponsor"] = "The executive sponsor must be an active executive."
    elif sponsor is not None and owner is not None and sponsor.pk == owner.pk:
        errors["sponsor"] = "The sponsor decides the gates, so choose someone other than the owner."
    if errors:
        raise ValidationError(errors)


def initiative_touch(initiative_id: int) -> None:
    """Bump the version and updated_at: something under the initiative changed."""
    Initiative.objects.filter(pk=initiative_id).update(
        updated_at=timezone.now(), version=F("version") + 1
    )


@transaction.atomic
def initiative_update(
    *, initiative: Initiative, actor, expected_version: int | None = None, **fields: Any
) -> Initiative:
    """Change an initiative's descriptive fields; refuses a stale edit."""
    unknown = set(fields) - set(INITIATIVE_EDITABLE_FIELDS) - {"tags"}
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
    from django.apps import apps

    Gatekeeper = apps.get_model("gates", "Gatekeeper")
    pending = Gatekeeper.objects.filter(
        gate__initiative=initiative, gate__state__in=["open", "in_review"]
    )
    pending.filter(user_id=previous_sponsor_id).delete()
    gate_ids = set(pending.values_list("gate_id", flat=True)) or set(
        apps.get_model("gates", "Gate")
        .objects.filter(initiative=initiative, state__in=["open", "in_review"])
        .values_list("pk", flat=True)
    )
    for gate_id in gate_ids:
        Gatekeeper.objects.get_or_create(gate_id=gate_id, user_id=initiative.sponsor_id)


def _set_tags(initiative: Initiative, names) -> None:
    from initiatives.models import Tag

    tags = [Tag.objects.get_or_create(name=name.strip().lower())[0] for name in names if name]
    initiative.tags.set(tags)


@transaction.atomic
def business_case_update(
    *, initiative: Initiative, actor, expected_revision: int | None = None, **fields: Any
) -> BusinessCase:
    """Change the business case and keep a revision of what changed.

    `expected_revision` is the revision number the editor saw; if somebody saved
    a newer one meanwhile, StaleEdit is raised instead of overwriting it.
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
    case.save()
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


@transaction.atomic
def membership_add(
    *, initiative: Initiative, actor, user, stage_role: str, allocation_percent: int = 100
) -> Membership:
    """Put a person on the initiative's team in a stage role."""
    membership = Membership(
        initiative=initiative,
        user=user,
        stage_role=stage_role,
        allocation_percent=allocation_percent,
    )
    membership.full_clean()
    membership.save()
    activity_log(
        actor=actor,
        initiative=initiative,
        verb="membership.added",
        obj=membership,
        after=f"{user} as {stage_role} ({allocation_percent}%)",
    )
    initiative_touch(initiative.pk)
    payload = {
        "initiative": initiative.key,
        "membership": membership.pk,
        "user_id": user.pk,
        "stage_role": stage_role,
        "stage_role_label": membership.get_stage_role_display(),
    }
    transaction.on_commit(lambda: events.publish("initiative.member_added", payload), robust=True)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor) -> None:
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
