"""Reviews and decisions: gatekeepers and their rule, review requests, votes, and what a
decision does to the initiative (advance, hold, recycle, stop).
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import ngettext

from core.events import Event, publish_on_commit
from core.formatting import counted
from core.types import Actor
from gates import guards, snapshots
from gates.models import (
    ADVANCING,
    ChecklistItem,
    Decision,
    Gate,
    GateDecision,
    Gatekeeper,
    StageTransition,
    Vote,
    open_required_items,
    readiness_of,
)
from gates.services.lifecycle import gate_open
from gates.services.moments import event_time
from initiatives.activity import activity_log
from initiatives.exceptions import AlreadyDecided, InvalidState
from initiatives.models import Initiative, Stage, stalls_on_for
from initiatives.services import initiative_touch


@transaction.atomic
def gatekeeper_add(*, gate: Gate, user: AbstractBaseUser, actor: Actor) -> Gatekeeper:
    """Add a decision maker to a gate (portfolio admins do this for executives).

    Returns the gatekeeper (the existing one when already added). Raises InvalidState once
    the gate is decided.
    """
    gate = Gate.objects.select_for_update().select_related("initiative").get(pk=gate.pk)
    if not gate.is_pending:
        raise InvalidState("This gate has been decided; its gatekeepers are fixed.")
    gatekeeper, created = Gatekeeper.objects.get_or_create(gate=gate, user=user)
    if created:
        activity_log(
            actor=actor,
            initiative=gate.initiative,
            verb="gate.gatekeeper_added",
            obj=gate,
            after=str(user),
        )
        publish_on_commit(
            Event.GATE_GATEKEEPER_ADDED,
            {"initiative": gate.initiative.key, "gate": gate.pk, "user_id": user.pk},
        )
    return gatekeeper


@transaction.atomic
def gatekeeper_remove(*, gate: Gate, user: AbstractBaseUser, actor: Actor) -> Gate:
    """Take a decision maker off a gate (an executive who left, a wrong choice).

    The last active gatekeeper of a gate in review stays: somebody must be able to decide
    it. When the gate waits for all gatekeepers and everybody left has voted, their votes
    decide it now. Returns the gate. Raises InvalidState once the gate is decided or for
    the last active gatekeeper of a gate in review; Gatekeeper.DoesNotExist for a person
    who does not keep the gate.
    """
    gate = Gate.objects.select_for_update().select_related("initiative", "stage").get(pk=gate.pk)
    if not gate.is_pending:
        raise InvalidState("This gate has been decided; its gatekeepers are fixed.")
    keeper = Gatekeeper.objects.select_related("user").get(gate=gate, user=user)
    others = gate.gatekeepers.exclude(pk=keeper.pk)
    if gate.state == Gate.State.IN_REVIEW and not others.filter(user__is_active=True).exists():
        name = user.get_full_name() or user.get_username()
        raise InvalidState(
            f"{name} is the last active gatekeeper of this gate, which is in review. "
            "Add another gatekeeper first."
        )
    keeper.delete()
    activity_log(
        actor=actor,
        initiative=gate.initiative,
        verb="gate.gatekeeper_removed",
        obj=gate,
        before=str(user),
    )
    if gate.state == Gate.State.IN_REVIEW and gate.rule == Gate.Rule.ALL:
        _decide_when_everybody_voted(gate, actor)
    return gate


def _decide_when_everybody_voted(gate: Gate, actor: Actor) -> None:
    """Under the rule "all": once every remaining gatekeeper has voted, take the decision."""
    votes = list(Vote.objects.filter(gate=gate, round=gate.review_round).order_by("created_at"))
    keepers = set(gate.gatekeepers.values_list("user_id", flat=True))
    if not votes or not keepers <= {vote.voter_id for vote in votes}:
        return
    counted = [vote for vote in votes if vote.voter_id in keepers]
    outcome = combine_votes([vote.decision for vote in counted])
    items = list(gate.items.select_related("target").order_by("order"))
    open_required = open_required_items(items)
    justification = ""
    if outcome == Decision.GO and open_required:
        justification = "; ".join(
            v.override_justification for v in counted if v.override_justification
        )
    last = counted[-1]
    _gate_decide(
        gate=gate,
        decision=outcome,
        actor=last.voter,
        rationale=last.rationale,
        override_justification=justification,
        items=items,
        open_required=open_required,
        following=gate.stage.next_stage(),
        at=timezone.now(),
    )


@transaction.atomic
def gate_rule_set(*, gate: Gate, rule: str, actor: Actor) -> Gate:
    """Choose whether any one gatekeeper or all of them decide.

    Returns the gate as saved. Raises ValidationError for an unknown rule, InvalidState once
    the gate is decided.
    """
    if rule not in Gate.Rule.values:
        raise ValidationError({"rule": f"Choose one of: {', '.join(Gate.Rule.values)}."})
    gate = Gate.objects.select_for_update().select_related("initiative").get(pk=gate.pk)
    if gate.state == Gate.State.DECIDED:
        raise InvalidState("This gate has been decided; its rule is fixed.")
    if gate.rule != rule:
        activity_log(
            actor=actor,
            initiative=gate.initiative,
            verb="gate.changed",
            obj=gate,
            field="rule",
            before=gate.rule,
            after=rule,
        )
        gate.rule = rule
        gate.version += 1
        gate.save(update_fields=["rule", "version"])
    return gate


@transaction.atomic
def gate_reschedule(*, gate: Gate, due_on: datetime.date, actor: Actor) -> Gate:
    """Move an undecided gate's due date; the board's copy on the initiative follows.

    Returns the gate as saved. Raises InvalidState once the gate is decided. A date equal
    to the stored one changes and logs nothing.
    """
    gate = Gate.objects.select_for_update().select_related("initiative").get(pk=gate.pk)
    if gate.state == Gate.State.DECIDED:
        raise InvalidState("This gate has been decided; its due date is fixed.")
    if gate.due_on != due_on:
        activity_log(
            actor=actor,
            initiative=gate.initiative,
            verb="gate.changed",
            obj=gate,
            field="due_on",
            before=gate.due_on,
            after=due_on,
        )
        gate.due_on = due_on
        gate.version += 1
        gate.save(update_fields=["due_on", "version"])
        if gate.initiative.stage_id == gate.stage_id:
            Initiative.objects.filter(pk=gate.initiative_id).update(gate_due_on=due_on)
    return gate


@transaction.atomic
def gate_request_review(*, gate: Gate, actor: Actor, at: datetime.datetime | None = None) -> Gate:
    """The owner's side asks the gatekeepers to decide.

    Returns the gate, now in review. Raises AlreadyDecided for a decided gate, InvalidState
    when a review is already asked for, the initiative is not active or nobody keeps the gate.
    `at` is when it was asked, for imported history (see event_time).
    """
    gate = Gate.objects.select_for_update().select_related("initiative").get(pk=gate.pk)
    if gate.state == Gate.State.IN_REVIEW:
        raise InvalidState("A review has already been requested for this gate.")
    if gate.state == Gate.State.DECIDED:
        raise AlreadyDecided("This gate has already been decided.")
    if gate.initiative.status != Initiative.Status.ACTIVE:
        raise InvalidState("Only an active initiative can ask for a review.")
    if not gate.gatekeepers.exists():
        raise InvalidState("This gate has no gatekeepers; ask a portfolio admin to add one.")
    # A review nobody can decide would wait for ever. Imported history (`at`) was decided
    # by the people of its day, who may have left since.
    if at is None and not gate.gatekeepers.filter(user__is_active=True).exists():
        raise InvalidState(
            "Nobody who keeps this gate is active any more; ask a portfolio admin to hand "
            "the departed person's gates to a successor (People → Departures)."
        )
    moment = event_time(at, gate.initiative, not_before=gate.opened_at if at else None)
    gate.state = Gate.State.IN_REVIEW
    gate.review_round += 1
    gate.review_requested_at = moment
    gate.review_requested_by = actor
    gate.version += 1
    gate.save(
        update_fields=[
            "state",
            "review_round",
            "review_requested_at",
            "review_requested_by",
            "version",
        ]
    )
    activity_log(
        actor=actor,
        initiative=gate.initiative,
        verb="gate.review_requested",
        obj=gate,
        after={"round": gate.review_round},
        at=moment,
    )
    initiative_touch(gate.initiative_id)
    if at is not None:
        return gate  # imported history: nobody is asked again
    cleared, required = readiness_of(list(gate.items.all()))
    publish_on_commit(
        Event.GATE_REVIEW_REQUESTED,
        {
            "initiative": gate.initiative.key,
            "initiative_name": gate.initiative.name,
            "gate": gate.pk,
            "round": gate.review_round,
            "requested_by": actor.get_username() if actor is not None else None,
            "requested_by_name": (actor.get_full_name() or actor.get_username())
            if actor is not None
            else None,
            "readiness": {"cleared": cleared, "required": required},
        },
    )
    return gate


# Under the "all" rule, when votes differ, the gate does not advance if anyone
# voted against advancing, and the most severe of those votes stands.
_SEVERITY = [Decision.STOP, Decision.HOLD, Decision.RECYCLE]


def combine_votes(decisions: list[str]) -> str:
    """The decision of an "all" rule gate from its votes (every gatekeeper has voted)."""
    against = [d for d in decisions if d not in ADVANCING]
    if against:
        return next(d for d in _SEVERITY if d in against)
    if Decision.CONDITIONAL_GO in decisions:
        return Decision.CONDITIONAL_GO
    return Decision.GO


@transaction.atomic
def gate_vote(
    *,
    gate: Gate,
    actor: AbstractBaseUser,
    decision: str,
    rationale: str,
    override_justification: str = "",
    at: datetime.datetime | None = None,
) -> Gate:
    """Record a gatekeeper's vote; when the gate's rule is met, take the decision.

    Returns the gate (decided, or still in review while votes are missing). The gate row is
    locked, so two concurrent deciders are serialised: the second finds the gate decided and
    gets AlreadyDecided. Raises InvalidState outside a review, for someone who does not keep
    the gate or has voted this round, and ValidationError for an unknown decision, a missing
    rationale, a go over open required items without a justification, or an advance past
    the last stage. `at` is when the vote was cast, for imported history (see event_time).
    """
    gate = Gate.objects.select_for_update().select_related("initiative", "stage").get(pk=gate.pk)
    if gate.state == Gate.State.DECIDED:
        raise AlreadyDecided(
            f"This gate was already decided ({gate.get_decision_display()}) by "
            f"{gate.decided_by} at {timezone.localtime(gate.decided_at):%Y-%m-%d %H:%M}."
        )
    if gate.state != Gate.State.IN_REVIEW:
        raise InvalidState("Ask for a review before deciding this gate.")
    if not gate.gatekeepers.filter(user=actor).exists():
        raise InvalidState("Only this gate's gatekeepers can decide it.")
    if Vote.objects.filter(gate=gate, voter=actor, round=gate.review_round).exists():
        raise InvalidState("You have already voted in this review.")

    rationale = (rationale or "").strip()
    override_justification = (override_justification or "").strip()
    errors = {}
    if decision not in Decision.values:
        errors["decision"] = f"Choose one of: {', '.join(Decision.values)}."
    if not rationale:
        errors["rationale"] = "Write down why: the rationale is part of the record."
    items = list(gate.items.select_related("target").order_by("order"))
    open_required = open_required_items(items)
    if decision == Decision.GO and open_required and not override_justification:
        errors["override_justification"] = (
            f"{counted(len(open_required), 'required item')} "
            f"{ngettext('is', 'are', len(open_required))} still open. Go needs an explicit "
            "override with a written justification, or decide conditional go."
        )
    following = gate.stage.next_stage()
    refusal = guards.refusal(gate=gate, decision=decision) if decision in ADVANCING else None
    if refusal:
        errors["decision"] = refusal
    elif decision in ADVANCING and following is None:
        errors["decision"] = "This is the last stage; there is nothing to advance to."
    if (
        decision == Decision.CONDITIONAL_GO
        and following is not None
        and not following.has_exit_gate
        and open_required
    ):
        errors["decision"] = (
            f"{following.name} has no exit gate to carry conditions into; "
            "decide go with an override instead."
        )
    if errors:
        raise ValidationError(errors)
    moment = event_time(at, gate.initiative, not_before=gate.review_requested_at if at else None)

    Vote.objects.create(
        gate=gate,
        voter=actor,
        round=gate.review_round,
        decision=decision,
        rationale=rationale,
        override_justification=override_justification,
        created_at=moment,
    )
    activity_log(
        actor=actor,
        initiative=gate.initiative,
        verb="gate.voted",
        obj=gate,
        after=decision,
        message=rationale,
        at=moment,
    )
    if gate.rule == Gate.Rule.ANY:
        outcome = decision
    else:
        round_votes = Vote.objects.filter(gate=gate, round=gate.review_round)
        votes = list(round_votes.values_list("decision", flat=True))
        # Every active gatekeeper must have voted; a deactivated one is waited for by nobody.
        waiting = gate.gatekeepers.filter(user__is_active=True).exclude(
            user__in=round_votes.values("voter")
        )
        if waiting.exists():
            return gate
        outcome = combine_votes(votes)
        if outcome != decision:
            override_justification = ""
        if outcome == Decision.GO and open_required and not override_justification:
            override_justification = "; ".join(
                Vote.objects.filter(gate=gate, round=gate.review_round)
                .exclude(override_justification="")
                .values_list("override_justification", flat=True)
            )
    _gate_decide(
        gate=gate,
        decision=outcome,
        actor=actor,
        rationale=rationale,
        override_justification=override_justification,
        items=items,
        open_required=open_required,
        following=following,
        at=moment,
        announce=at is None,
    )
    return gate


def decision_snapshot(
    gate: Gate, items: list[ChecklistItem], at: datetime.datetime | None = None
) -> dict:
    """What the deciders saw, as JSON: every checklist item and the latest value of every
    target, with the readiness they added up to."""
    targets = gate.initiative.targets.order_by("metric_key")
    cleared, required = readiness_of(items)
    return {
        "taken_at": (at or timezone.now()).isoformat(),
        "readiness": {"cleared": cleared, "required": required},
        "checklist": [
            {
                "id": item.pk,
                "text": item.text,
                "required": item.required,
                "state": item.state,
                "na_reason": item.na_reason,
                "evidence_url": item.evidence_url,
                "note": item.note,
                "is_condition": item.is_condition,
            }
            for item in items
        ],
        "targets": [
            {
                "id": target.pk,
                "metric_key": target.metric_key,
                "comparator": target.comparator,
                "threshold": target.threshold,
                "unit": target.unit,
                "latest_value": target.latest_value,
                "measured_at": target.latest_measured_at.isoformat()
                if target.latest_measured_at
                else None,
                "status": target.status,
            }
            for target in targets
        ],
    }


def _gate_decide(
    *,
    gate: Gate,
    decision: str,
    actor: AbstractBaseUser,
    rationale: str,
    override_justification: str,
    items: list[ChecklistItem],
    open_required: list[ChecklistItem],
    following: Stage | None,
    at: datetime.datetime,
    announce: bool = True,
) -> None:
    """Take the decision at `at`; imported history (not `announce`) tells no integration."""
    snapshot = snapshots.contribute(
        gate=gate, items=items, snapshot=decision_snapshot(gate, items, at)
    )
    now = at
    try:
        with transaction.atomic():
            GateDecision.objects.create(
                gate=gate,
                round=gate.review_round,
                decision=decision,
                decided_by=actor,
                decided_at=now,
                rationale=rationale,
                override_justification=override_justification,
                snapshot=snapshot,
            )
    except IntegrityError as error:
        raise AlreadyDecided("This gate was decided a moment ago by somebody else.") from error

    initiative = Initiative.objects.select_for_update().get(pk=gate.initiative_id)
    today = timezone.localdate(now)
    gate.decided_by = actor
    gate.decided_at = now
    gate.rationale = rationale
    gate.override_justification = override_justification
    gate.snapshot = snapshot
    gate.version += 1
    initiative.version += 1

    if decision == Decision.RECYCLE:
        # The gate goes round again with a new due date; the decision stays on record.
        gate.state = Gate.State.OPEN
        gate.decision = ""
        gate.due_on = gate.stage.gate_due_on(today)
        initiative.gate_due_on = gate.due_on
    else:
        gate.state = Gate.State.DECIDED
        gate.decision = decision
        initiative.gate_due_on = None
    gate.save(
        update_fields=[
            "decided_by",
            "decided_at",
            "rationale",
            "override_justification",
            "snapshot",
            "version",
            "state",
            "decision",
            "due_on",
        ]
    )

    if decision == Decision.HOLD:
        initiative.status = Initiative.Status.ON_HOLD
    elif decision == Decision.STOP:
        initiative.status = Initiative.Status.STOPPED
    initiative.save(update_fields=["version", "gate_due_on", "status", "updated_at"])

    activity_log(
        actor=actor,
        initiative=initiative,
        verb="gate.decided",
        obj=gate,
        after=decision,
        message=rationale,
        at=now,
    )
    payload = {
        "initiative": initiative.key,
        "initiative_name": initiative.name,
        "gate": gate.pk,
        "stage": gate.stage.key,
        "stage_name": gate.stage.name,
        "decision": decision,
        "decision_label": Decision(decision).label,
        "decided_by": actor.get_username() if actor is not None else None,
        "decided_at": now.isoformat(),
        "rationale": rationale,
    }
    if announce:
        publish_on_commit(Event.GATE_DECIDED, payload)
    if decision in ADVANCING:
        _advance(
            initiative=initiative,
            gate=gate,
            following=following,
            actor=actor,
            decision=decision,
            conditions=open_required if decision == Decision.CONDITIONAL_GO else [],
            at=now,
            announce=announce,
        )


def _advance(
    *,
    initiative: Initiative,
    gate: Gate,
    following: Stage,
    actor: Actor,
    decision: str,
    conditions: list[ChecklistItem],
    at: datetime.datetime,
    announce: bool,
) -> None:
    today = timezone.localdate(at)
    previous = initiative.stage
    initiative.stage = following
    initiative.stage_entered_on = today
    initiative.stalls_on = stalls_on_for(following, today)
    initiative.save(update_fields=["stage", "stage_entered_on", "stalls_on"])
    StageTransition.objects.create(
        initiative=initiative,
        from_stage=previous,
        to_stage=following,
        gate=gate,
        decision=decision,
        decided_by=actor,
        transitioned_at=at,
    )
    activity_log(
        actor=actor,
        initiative=initiative,
        verb="initiative.stage_changed",
        obj=initiative,
        field="stage",
        before=previous.name,
        after=following.name,
        at=at,
    )
    if announce:
        publish_on_commit(
            Event.INITIATIVE_STAGE_CHANGED,
            {
                "initiative": initiative.key,
                "initiative_name": initiative.name,
                "from_stage": previous.key,
                "to_stage": following.key,
                "decision": decision,
            },
        )
    gate_open(initiative=initiative, stage=following, actor=actor, at=at, conditions=conditions)
