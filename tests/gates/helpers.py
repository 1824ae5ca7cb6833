"""Small steps the gate service tests share: find an item, clear a checklist, decide a gate."""

import datetime

from gates.models import ChecklistItem, Decision, Gate
from gates.services import checklist_item_update, gate_request_review, gate_vote
from initiatives.models import Activity, Initiative

WEEK = datetime.timedelta(weeks=1)


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def verbs(initiative) -> list[str]:
    return list(
        Activity.objects.filter(initiative=initiative).order_by("id").values_list("verb", flat=True)
    )


def item_at(gate: Gate, order: int) -> ChecklistItem:
    return gate.items.get(order=order)


def clear_required(gate: Gate, actor) -> None:
    for item in gate.items.filter(required=True):
        checklist_item_update(item=item, actor=actor, state=ChecklistItem.State.DONE)


def in_review(gate: Gate) -> Gate:
    return gate_request_review(gate=gate, actor=gate.initiative.owner)


def decide(gate: Gate, decision: str, actor=None, **kwargs) -> Gate:
    """Ask for review and vote as the sponsor (the default gatekeeper)."""
    in_review(gate)
    return gate_vote(
        gate=gate,
        actor=actor or gate.initiative.sponsor,
        decision=decision,
        rationale=kwargs.pop("rationale", f"Deciding {decision}."),
        **kwargs,
    )


def go_with_override(initiative: Initiative) -> Gate:
    gate = initiative.gates.get(state=Gate.State.OPEN)
    return decide(gate, Decision.GO, override_justification="Accepted risk for the test.")
