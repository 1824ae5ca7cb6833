"""The initiative page: everything it shows, composed from initiatives and their gates.

The initiative views render it, and the gate views render it again with a form's errors.
"""

from __future__ import annotations

import math

from gates import selectors as gate_selectors
from gates.describing import describe_all
from gates.forms import ChecklistItemForm, GatekeeperForm, GateRuleForm, VoteForm
from gates.models import readiness_of
from initiatives import selectors
from initiatives.forms import MeasurementForm
from initiatives.models import Initiative
from initiatives.policy import InitiativeAccess
from teams.roles import StageRole

SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 120, 28, 3


def _sparkline(target) -> dict | None:
    """Coordinates of a small SVG line of the target's recent values, with its threshold.

    Any finite values at all: the scale is computed on halves, so the span of -1.79e308
    and 1.79e308 stays finite (it was inf, and every coordinate nan). Values that are not
    finite, stored before inputs were bounded, are left out.
    """
    values = [value for _, value in target.series if math.isfinite(value)]
    if not values:
        return None
    threshold = target.threshold if math.isfinite(target.threshold) else values[-1]
    low = min([*values, threshold]) / 2
    high = max([*values, threshold]) / 2
    span = (high - low) or 1.0
    step = (SPARK_WIDTH - 2 * SPARK_PAD) / max(len(values) - 1, 1)

    def y(value: float) -> float:
        fraction = (value / 2 - low) / span
        return round(SPARK_HEIGHT - SPARK_PAD - fraction * (SPARK_HEIGHT - 2 * SPARK_PAD), 1)

    points = [(round(SPARK_PAD + index * step, 1), y(value)) for index, value in enumerate(values)]
    return {
        "points": " ".join(f"{x},{y_}" for x, y_ in points),
        "last": points[-1],
        "threshold_y": y(threshold),
        "width": SPARK_WIDTH,
        "height": SPARK_HEIGHT,
        "count": len(values),
    }


def _stage_steps(initiative, stages, transitions) -> list[dict]:
    """Every stage of the framework with when the initiative entered it (if it did)."""
    entered = {}
    for transition in transitions:
        entered[transition.to_stage_id] = transition
    steps = []
    for stage in stages:
        if stage.order < initiative.stage.order:
            position = "past"
        elif stage.pk == initiative.stage_id:
            position = "current"
        else:
            position = "future"
        steps.append({"stage": stage, "position": position, "transition": entered.get(stage.pk)})
    return steps


def initiative_page_context(
    request, initiative: Initiative, access: InitiativeAccess, **forms
) -> dict:
    """Everything the initiative page shows, for a person whose `access` the view decided.

    The gate views reuse it to show their forms' errors (`vote_form`, `gatekeeper_form`,
    `rule_form`).
    """
    user = request.user
    gate = gate_selectors.current_gate(initiative)
    memberships = list(initiative.memberships.all())
    stages = list(initiative.framework.stages.order_by("order"))
    transitions = gate_selectors.stage_timeline(initiative)
    activities, has_older = selectors.activity_page(initiative, 1)
    describe_all(activities)
    targets = selectors.targets_with_series(initiative)
    for target in targets:
        target.sparkline = _sparkline(target)
    role_labels = dict(StageRole.choices)
    context = {
        "initiative": initiative,
        "gate": gate,
        "business_case": getattr(initiative, "business_case", None),
        "memberships": memberships,
        "composition_gap": [
            role_labels.get(role, role) for role in initiative.composition_gap(memberships, stages)
        ],
        "steps": _stage_steps(initiative, stages, transitions),
        "transitions": transitions,
        "decisions": gate_selectors.gate_decisions(initiative),
        "targets": targets,
        "activities": activities,
        "has_older": has_older,
        "activity_page": 1,
        "access": access,
        "can_edit": access.can_edit,
        "can_edit_checklist": access.can_edit_checklist,
        "can_measure": access.can_record_measurement,
        "measurement_form": MeasurementForm(),
    }
    if gate is not None:
        items = list(gate.items.all())
        cleared, required = readiness_of(items)
        votes = list(gate.votes.select_related("voter").filter(round=gate.review_round))
        has_voted = any(vote.voter_id == user.pk for vote in votes)
        may_vote = gate.state == gate.State.IN_REVIEW and not has_voted and access.can_vote(gate)
        if access.can_edit_checklist and gate.is_pending:
            for item in items:
                item.form = ChecklistItemForm.for_item(item)
        context.update(
            {
                "items": items,
                "readiness": (cleared, required),
                "open_required": required - cleared,
                "votes": votes,
                "may_vote": may_vote,
                "vote_form": forms.get("vote_form") or (VoteForm() if may_vote else None),
                "can_request_review": gate.state == gate.State.OPEN
                and initiative.status == Initiative.Status.ACTIVE
                and access.can_request_review,
                "can_manage_gatekeepers": gate.is_pending and access.can_manage_gatekeepers,
            }
        )
        if context["can_manage_gatekeepers"]:
            context["gatekeeper_form"] = forms.get("gatekeeper_form") or GatekeeperForm(gate=gate)
            context["rule_form"] = forms.get("rule_form") or GateRuleForm(
                initial={"rule": gate.rule}
            )
    return context
