"""The activity log as people read it: names and labels, never field names or stored values."""

from __future__ import annotations

from gates.describing import describe_all
from initiatives.models import Activity


def entry(verb, *, field="", before=None, after=None, message="", actor_id=1, object_id="7"):
    return Activity(
        verb=verb,
        field=field,
        before=before,
        after=after,
        message=message,
        actor_id=actor_id,
        object_id=object_id,
        object_repr="AI-001 exit gate of MVP",
    )


def lines(*activities) -> list[str]:
    activities = list(activities)
    describe_all(activities)
    return [activity.description for activity in activities]


def test_fields_and_values_are_named_as_people_say_them():
    assert lines(
        entry("item.changed", field="na_reason", before="", after="x" * 80),
        entry("initiative.changed", field="status", before="on_hold", after="active"),
        entry("business_case.revised", after=["investment_to_date", "expected_annual_value"]),
        entry("target.met", field="status", message="latency_p95_ms = 876ms"),
        entry("initiative.stage_changed", field="stage", before="MVP", after="Production"),
    ) == [
        "changed the reason it does not apply of AI-001 exit gate of MVP",
        "changed the status of AI-001 exit gate of MVP: On hold → Active",
        "revised the business case: expected annual value, investment to date",
        "Latency (p95) = 876ms",
        "moved it from MVP to Production",
    ]


def test_a_vote_that_decided_the_gate_is_shown_once_as_the_decision():
    decided = entry("gate.decided", after="hold", message="Wait for the audit.")
    voted = entry("gate.voted", after="hold", message="Wait for the audit.")
    other_vote = entry("gate.voted", after="go", message="Ready.", actor_id=2)
    assert lines(decided, voted, other_vote) == [
        "decided Hold on the exit gate of MVP: “Wait for the audit.”",
        "voted go: “Ready.”",
    ]
