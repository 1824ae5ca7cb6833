"""The activity log in words: one describer for every place the log is shown.

The initiative page's timeline, the weekly digest and the API's `message` field all say what an
entry means through `describe`, so an entry reads the same wherever a person meets it: labels,
not field names or stored values ("reason it does not apply", "Not applicable", "Go").
"""

from __future__ import annotations

import re

from gates.models import ChecklistItem, Decision
from initiatives.models import Initiative, Target

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
    if activity.verb in ("target.missed", "target.met") and activity.after in ("missed", "met"):
        now = activity.message.partition(" = ")[2]
        status = _value_label("status", activity.after).lower()
        return f"{_metric_names(subject)}: {status}" + (f", now {now}" if now else "")
    if activity.verb == "gate.gatekeeper_added":
        return f"added a gatekeeper to the {gate_name}"
    if activity.verb == "initiative.stage_changed":
        return f"moved it from {activity.before or '—'} to {activity.after or '—'}"
    return None


def describe(activity) -> str:
    """One readable line for an entry of the log, from its message or its verb (without who
    did it: each place puts the actor's name in its own way)."""
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
        activity.description = describe(activity)
