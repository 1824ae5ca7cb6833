"""Checklist items: ticking, unticking, not applicable with a reason, evidence and notes."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from core.types import Actor
from gates.models import ChecklistItem, Gate
from gates.services.moments import event_time
from initiatives.activity import activity_log_many, field_changes_apply
from initiatives.exceptions import InvalidState, StaleEdit
from initiatives.services import initiative_touch

validate_url = URLValidator(schemes=["http", "https"])


@dataclass
class ChecklistChange:
    """One item's new state, evidence and note; None leaves a field as it is."""

    item: ChecklistItem
    actor: Actor
    state: str | None = None
    na_reason: str | None = None
    evidence_url: str | None = None
    note: str | None = None


def checklist_item_update(
    *,
    item: ChecklistItem,
    actor: Actor,
    state: str | None = None,
    na_reason: str | None = None,
    evidence_url: str | None = None,
    note: str | None = None,
    expected_version: int | None = None,
    at: datetime.datetime | None = None,
) -> ChecklistItem:
    """Tick, untick or mark an item not applicable, and edit its evidence and note.

    Returns the item as saved (unchanged when nothing differs). `expected_version` is the
    version the editor saw; if the item changed since, StaleEdit carries the current item
    instead of overwriting it. Raises InvalidState once the gate is decided, and
    ValidationError for an unknown state, a bad evidence link or a missing reason.
    `at` is when it happened, for imported history (see event_time).
    """
    change = ChecklistChange(item, actor, state, na_reason, evidence_url, note)
    return checklist_items_update(
        gate=Gate(pk=item.gate_id), changes=[change], at=at, expected_version=expected_version
    )[0]


@transaction.atomic
def checklist_items_update(
    *,
    gate: Gate,
    changes: list[ChecklistChange],
    at: datetime.datetime | None = None,
    expected_version: int | None = None,
) -> list[ChecklistItem]:
    """Several items of one gate changed at one moment, in a constant number of queries.

    Returns the items as saved. `expected_version` applies to the first item (the single
    edit of checklist_item_update).
    """
    # The gate first, then the items: the same order as gate_vote, so an edit cannot
    # slip in after a decision has frozen the checklist.
    gate = Gate.objects.select_for_update().select_related("initiative").get(pk=gate.pk)
    ids = [change.item.pk for change in changes]
    locked_items = {
        item.pk: item
        for item in ChecklistItem.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    if any(item.gate_id != gate.pk for item in locked_items.values()) or len(locked_items) < len(
        set(ids)
    ):
        raise InvalidState("These items are not all on this gate.")
    if expected_version is not None:
        locked = locked_items[ids[0]]
        if locked.version != expected_version:
            raise StaleEdit(
                "Somebody else changed this item since you loaded it. Its current state is shown.",
                current=locked,
            )
    if not gate.is_pending:
        raise InvalidState("This gate has been decided; its checklist is frozen.")
    moment = event_time(at, gate.initiative, not_before=gate.opened_at if at else None)

    entries, changed, fields = [], [], set()
    for change in changes:
        locked = locked_items[change.item.pk]
        new = _item_changes(locked, change)
        item_entries = field_changes_apply(
            locked,
            new,
            actor=change.actor,
            initiative=gate.initiative,
            verb="item.changed",
            at=moment,
        )
        if item_entries:
            locked.version += 1
            locked.updated_by = change.actor
            locked.updated_at = moment
            fields.update(new)
            changed.append(locked)
            entries += item_entries
    if changed:
        ChecklistItem.objects.bulk_update(
            changed, [*sorted(fields), "version", "updated_by", "updated_at"]
        )
        activity_log_many(entries)
        initiative_touch(gate.initiative_id)
    return [locked_items[change.item.pk] for change in changes]


def _item_changes(locked: ChecklistItem, change: ChecklistChange) -> dict:
    """The fields a change sets on the item, or ValidationError naming what is wrong."""
    errors = {}
    new = {}
    if change.state is not None:
        if change.state not in ChecklistItem.State.values:
            errors["state"] = f"Choose one of: {', '.join(ChecklistItem.State.values)}."
        new["state"] = change.state
    if change.evidence_url is not None:
        evidence_url = change.evidence_url.strip()
        if evidence_url:
            try:
                validate_url(evidence_url)
            except ValidationError:
                errors["evidence_url"] = "Enter a full http:// or https:// address."
        new["evidence_url"] = evidence_url
    if change.note is not None:
        new["note"] = change.note.strip()
    final_state = new.get("state", locked.state)
    if final_state == ChecklistItem.State.NOT_APPLICABLE:
        reason = (change.na_reason if change.na_reason is not None else locked.na_reason).strip()
        if not reason:
            errors["na_reason"] = "Say why this item does not apply."
        new["na_reason"] = reason
    elif locked.na_reason:
        new["na_reason"] = ""
    if errors:
        raise ValidationError(errors)
    return new
