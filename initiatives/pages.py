"""The initiative page: everything it shows, composed from initiatives and their gates.

The initiative views render it, and the gate views render it again with a form's errors.
"""

from __future__ import annotations

import math
import re

from gates import selectors as gate_selectors
from gates.forms import ChecklistItemForm, GatekeeperForm, GateRuleForm, VoteForm
from gates.models import ChecklistItem, Decision, readiness_of
from initiatives import selectors
from initiatives.forms import MeasurementForm
from initiatives.models import Initiative, Target
from initiatives.policy import InitiativeAccess
from teams.roles import StageRole

_ITEM_STATES = {
    "done": "ticked “{subject}” done",
    "not_applicable": "marked “{subject}” not applicable",
    "open": "reopened “{subject}”",
}


# What the fields the log names are called on the pages.
FIELD_LABELS = {
    "na_reason": "reason it does not apply",
    "evidence_url": "evidence link",
    "metric_name": "business metric",
    "monthly_volume": "projected monthly tasks",
    "outcome": "outcome statement",
    "maturity_level": "MLOps maturity",
}
# Fields whose values are choices: the log keeps the value, people read the label.
VALUE_LABELS = {
    "state": dict(ChecklistItem.State.choices),
    "status": {**dict(Initiative.Status.choices), **dict(Target.Status.choices)},
    "decision": dict(Decision.choices),
}
_METRIC_KEY = re.compile(r"\b(" + "|".join(map(re.escape, Target.METRIC_LABELS)) + r")\b")


def _field_label(name: str) -> str:
    return FIELD_LABELS.get(name) or name.replace("_", " ")


def _value_label(field: str, value) -> str:
    if value in (None, ""):
        return "—"
    return str(VALUE_LABELS.get(field, {}).get(value, value))


def _metric_names(text: str) -> str:
    """A line with the standard metrics' keys ("latency_p95_ms = 876") in their names."""
    return _METRIC_KEY.sub(lambda match: Target.label_for(match.group(1)), text)


def _decision_label(value) -> str:
    return Decision(value).label if value in Decision.values else str(value)


def _describe_in_words(activity) -> str | None:
    """The entries people read most, as people say them; None for the general rule."""
    subject = activity.object_repr
    gate_name = subject.split(" ", 1)[-1]  # "AI-001 exit gate of MVP" → "exit gate of MVP"
    reason = f": “{activity.message}”" if activity.message else ""
    if activity.verb == "item.changed" and activity.field == "state":
        phrase = _ITEM_STATES.get(activity.after)
        return phrase.format(subject=subject) if phrase else None
    if activity.verb == "gate.decided":
        return f"decided {_decision_label(activity.after)} on the {gate_name}{reason}"
    if activity.verb == "gate.voted":
        return f"voted {_decision_label(activity.after).lower()}{reason}"
    if activity.verb == "gate.review_requested":
        return f"asked for a review of the {gate_name}"
    if activity.verb == "business_case.revised" and isinstance(activity.after, list | dict):
        fields = ", ".join(_field_label(name) for name in sorted(activity.after))
        return f"revised the business case: {fields}"
    if activity.verb == "gate.gatekeeper_added":
        return f"added a gatekeeper to the {gate_name}"
    if activity.verb == "initiative.stage_changed":
        return f"moved it from {activity.before or '—'} to {activity.after or '—'}"
    return None


def _describe_activity(activity) -> str:
    """One readable line for the timeline, from the entry's message or its verb."""
    in_words = _describe_in_words(activity)
    if in_words:
        return in_words
    # Lines written from a target name its metric by key ("latency_p95_ms = 876ms").
    about_a_target = activity.verb.startswith("target.") or activity.verb == "item.followed_target"
    if activity.message:
        message = activity.shown_message
        return _metric_names(message) if about_a_target else message
    subject = _metric_names(activity.object_repr) if about_a_target else activity.object_repr
    if activity.field:
        field = _field_label(activity.field)
        if _is_short(activity.before) and _is_short(activity.after):
            before = _value_label(activity.field, activity.before)
            after = _value_label(activity.field, activity.after)
            return f"changed the {field} of {subject}: {before} → {after}"
        return f"changed the {field} of {subject}"
    noun, _, action = activity.verb.partition(".")
    if not action:
        return f"{activity.verb} {subject}"
    return f"{action.replace('_', ' ')} {noun.replace('_', ' ')} {subject}"


def _is_short(value) -> bool:
    return value is None or (isinstance(value, str | int | float) and len(str(value)) <= 40)


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


def _repeats_the_decision(vote, decision) -> bool:
    """A vote that decided the gate on its own says what the decision beside it says."""
    return (
        vote.verb == "gate.voted"
        and decision.verb == "gate.decided"
        and vote.actor_id == decision.actor_id
        and vote.message == decision.message
        and vote.object_id == decision.object_id
    )


def describe_all(activities: list) -> None:
    """Give each activity entry the line the timeline shows; a decision is shown once."""
    shown = []
    for activity in activities:
        if shown and (
            _repeats_the_decision(activity, shown[-1]) or _repeats_the_decision(shown[-1], activity)
        ):
            if activity.verb == "gate.decided":
                shown[-1] = activity
            continue
        shown.append(activity)
    activities[:] = shown
    for activity in activities:
        activity.description = _describe_activity(activity)


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
