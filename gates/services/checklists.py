"""Checklist items: ticking, unticking, not applicable with a reason, evidence and notes."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from gates.models import ChecklistItem, Gate
from initiatives.activity import activity_entry, activity_log_many
from initiatives.exceptions import InvalidState, StaleEdit
from initiatives.services import initiative_touch

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
