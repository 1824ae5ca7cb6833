"""Classifying initiatives and carrying the obligations onto their gates.

A product manager (anyone who may edit the initiative) proposes a classification by
answering the questionnaire; a portfolio admin or the compliance role confirms it. The
confirmed classification's obligations become required regulatory items on the exit
gate of the stage the catalogue names (the gate in play now, later gates as they open);
a reclassification never deletes one: an item that no longer applies is marked not
applicable with the reason "reclassified" and reopened if it applies again.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from compliance.classifier import (
    QUESTIONNAIRE_VERSION,
    AnswerError,
    ObligationSpec,
    answers_clean,
    classify,
)
from compliance.models import (
    Classification,
    ClassificationRevision,
    Obligation,
    ObligationItem,
    Tier,
    review_due_on,
)
from compliance.policy import may_confirm
from compliance.selectors import active_catalogue, obligations_with_stages
from core.events import Event, publish_on_commit
from core.formatting import counted
from core.types import Actor
from gates.models import ChecklistItem, Gate
from gates.services import checklist_item_update
from initiatives.activity import activity_entry, activity_log, activity_log_many
from initiatives.exceptions import InvalidState, StaleEdit
from initiatives.models import Initiative

RECLASSIFIED = "reclassified"


def obligation_catalogue() -> list[ObligationSpec]:
    """The active catalogue as the classifier reads it."""
    return [ObligationSpec.of(obligation) for obligation in active_catalogue()]


_catalogue = obligation_catalogue


@transaction.atomic
def classification_propose(
    *,
    initiative: Initiative,
    actor: Actor,
    answers: dict,
    questionnaire_version: int = QUESTIONNAIRE_VERSION,
    at: datetime.datetime | None = None,
) -> ClassificationRevision:
    """Record answers to the questionnaire as a proposed classification awaiting confirmation.

    A proposal still waiting is superseded by the new one; `at` dates it (imported history,
    the demo; empty: now). Returns the new revision.
    Raises ValidationError naming each answer that does not fit the questionnaire.
    """
    try:
        clean = answers_clean(answers, questionnaire_version)
    except AnswerError as error:
        raise ValidationError(error.errors) from error
    locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
    result = classify(clean, _catalogue())
    revisions = ClassificationRevision.objects.filter(initiative=locked)
    revisions.filter(state=ClassificationRevision.State.PROPOSED).update(
        state=ClassificationRevision.State.SUPERSEDED
    )
    number = (revisions.aggregate(last=Max("number"))["last"] or 0) + 1
    revision = ClassificationRevision.objects.create(
        initiative=locked,
        number=number,
        questionnaire_version=questionnaire_version,
        answers=clean,
        tier=result.tier,
        role=result.role,
        flags=result.flags,
        reasons=result.reasons,
        obligation_codes=result.obligations,
        classified_by=actor if actor is not None and actor.is_authenticated else None,
        classified_at=at or timezone.now(),
    )
    activity_log(
        actor=actor,
        initiative=locked,
        verb="classification.proposed",
        obj=revision,
        after=result.tier,
        at=revision.classified_at,
        message=f"proposed the AI Act classification {Tier(result.tier).label}",
    )
    return revision


@transaction.atomic
def classification_confirm(
    *,
    initiative: Initiative,
    actor: Actor,
    revision_number: int | None = None,
    at: datetime.datetime | None = None,
    announce: bool = True,
) -> Classification:
    """Confirm the proposal waiting: it becomes the initiative's classification, its
    obligations land on the gates, and the next review date is set by the tier.

    `revision_number` is the proposal the confirmer saw; a newer one raises StaleEdit.
    Raises PermissionDenied unless the actor is a portfolio admin or has the compliance
    role, and InvalidState when nothing awaits confirmation. Imported history (not
    `announce`) tells no integration.
    """
    if actor is None or not may_confirm(actor):
        raise PermissionDenied(
            "Only a portfolio admin or the compliance role can confirm a classification."
        )
    locked = Initiative.objects.select_for_update().get(pk=initiative.pk)
    proposal = (
        ClassificationRevision.objects.select_for_update()
        .filter(initiative=locked, state=ClassificationRevision.State.PROPOSED)
        .first()
    )
    if proposal is None:
        raise InvalidState("There is no proposed classification to confirm.")
    if revision_number is not None and proposal.number != revision_number:
        raise StaleEdit("A newer proposal replaced the one you saw.", current=proposal)
    now = at or timezone.now()
    # Today's catalogue decides what applies, so a row edited since the proposal counts.
    result = classify(proposal.answers, _catalogue())
    previous = Classification.objects.filter(initiative=locked).first()
    ClassificationRevision.objects.filter(
        initiative=locked, state=ClassificationRevision.State.CONFIRMED
    ).update(state=ClassificationRevision.State.SUPERSEDED)
    proposal.tier, proposal.role, proposal.flags = result.tier, result.role, result.flags
    proposal.reasons, proposal.obligation_codes = result.reasons, result.obligations
    proposal.state = ClassificationRevision.State.CONFIRMED
    proposal.confirmed_by, proposal.confirmed_at = actor, now
    proposal.save()
    classification, _ = Classification.objects.update_or_create(
        initiative=locked,
        defaults={
            "revision": proposal,
            "tier": result.tier,
            "role": result.role,
            "flags": result.flags,
            "confirmed_at": now,
            "next_review_on": review_due_on(result.tier, timezone.localdate(now)),
            "review_prompt": "",
        },
    )
    obligations_sync(initiative=locked, codes=result.obligations, actor=actor, at=now)
    activity_log(
        actor=actor,
        initiative=locked,
        verb="classification.confirmed",
        obj=locked,
        field="ai_tier",
        before=previous.tier if previous else None,
        after=result.tier,
        message=f"confirmed the AI Act classification {Tier(result.tier).label}",
        at=now,
    )
    if announce:
        _announce(locked, proposal, classification, previous, result, actor, now)
    return classification


def _announce(locked, proposal, classification, previous, result, actor, now) -> None:
    """initiative.classified, once the confirmation commits."""
    publish_on_commit(
        Event.INITIATIVE_CLASSIFIED,
        {
            "initiative": locked.key,
            "initiative_name": locked.name,
            "tier": result.tier,
            "tier_label": Tier(result.tier).label,
            "previous_tier": previous.tier if previous else None,
            "role": result.role,
            "flags": result.flags,
            "obligations": result.obligations,
            "revision": proposal.number,
            "questionnaire_version": proposal.questionnaire_version,
            "classified_by": proposal.classified_by.get_username()
            if proposal.classified_by
            else None,
            "confirmed_by": actor.get_username(),
            "confirmed_at": now.isoformat(),
            "next_review_on": classification.next_review_on.isoformat(),
        },
    )


@transaction.atomic
def classification_review_prompt(
    *, initiative: Initiative, stage_name: str, actor: Actor = None
) -> Classification | None:
    """Ask for a review of the classification now: the initiative entered a stage where what
    it does may have changed (TOLLGATE_AI_REVIEW_STAGES). The reminder scan tells the
    owner; the initiative page says why. None when it is not classified."""
    classification = (
        Classification.objects.select_for_update().filter(initiative=initiative).first()
    )
    if classification is None:
        return None
    today = timezone.localdate()
    classification.next_review_on = min(classification.next_review_on, today)
    classification.review_prompt = f"it entered {stage_name}"[:200]
    classification.save(update_fields=["next_review_on", "review_prompt"])
    activity_log(
        actor=actor,
        initiative=initiative,
        verb="classification.review_due",
        obj=initiative,
        field="ai_review_on",
        after=classification.next_review_on,
        message=f"asked for a review of the AI Act classification: it entered {stage_name}",
    )
    return classification


def on_stage_changed(event: str, payload: dict) -> None:
    """Listener of initiative.stage_changed (after commit): prompt a review on entering one
    of the stages TOLLGATE_AI_REVIEW_STAGES names."""
    from django.conf import settings

    if payload.get("to_stage") not in settings.TOLLGATE_AI_REVIEW_STAGES:
        return
    initiative = (
        Initiative.objects.filter(key=payload.get("initiative")).select_related("stage").first()
    )
    if initiative is not None:
        classification_review_prompt(initiative=initiative, stage_name=initiative.stage.name)


def obligations_sync(
    *, initiative: Initiative, codes: list[str], actor: Actor, at: datetime.datetime
) -> None:
    """Make the initiative's regulatory items match `codes`: add what now applies to the
    gate in play (when its stage is due), mark what no longer applies not applicable."""
    obligations = obligations_with_stages(codes)
    wanted = {obligation.pk for obligation in obligations}
    links = list(
        ObligationItem.objects.filter(initiative=initiative)
        .select_related("item", "gate")
        .order_by("added_at", "pk")
    )
    live, dropped = {}, {}
    for link in links:
        if link.dropped_at is None and link.obligation_id not in wanted:
            link.dropped_at = at
            link.save(update_fields=["dropped_at"])
            if link.item.state == ChecklistItem.State.OPEN and link.gate.is_pending:
                checklist_item_update(
                    item=link.item,
                    actor=actor,
                    state=ChecklistItem.State.NOT_APPLICABLE,
                    na_reason=RECLASSIFIED,
                )
        if link.dropped_at is None:
            live[link.obligation_id] = link
        else:
            dropped[link.obligation_id] = link
    gate = Gate.objects.pending().filter(initiative=initiative).select_related("stage").first()
    if gate is None:
        return
    gate.initiative = initiative
    adding = []
    for obligation in obligations:
        if obligation.pk in live or not _due_at(obligation, gate):
            continue
        old = dropped.get(obligation.pk)
        if old is not None and old.gate_id == gate.pk:
            # It applies again: the same item comes back, its history intact.
            old.dropped_at = None
            old.save(update_fields=["dropped_at"])
            if old.item.state == ChecklistItem.State.NOT_APPLICABLE and (
                old.item.na_reason == RECLASSIFIED
            ):
                checklist_item_update(
                    item=old.item, actor=actor, state=ChecklistItem.State.OPEN, na_reason=""
                )
            continue
        adding.append(obligation)
    _items_add({gate.pk: (gate, adding)}, actor=actor, at=at)


def _due_at(obligation: Obligation, gate: Gate) -> bool:
    """Is `gate` the one to evidence `obligation`: its stage, or a later one (catching up)?
    An obligation without a stage in the framework goes on the gate in play."""
    stage = obligation.stage_for.get(gate.initiative.framework_id)
    return stage is None or stage.order <= gate.stage.order


def _items_add(
    wanted: dict[int, tuple[Gate, list[Obligation]]], *, actor: Actor, at: datetime.datetime
) -> None:
    """Add each gate's obligations as required regulatory items after its last item."""
    wanted = {pk: pair for pk, pair in wanted.items() if pair[1]}
    if not wanted:
        return
    last = dict(
        ChecklistItem.objects.filter(gate_id__in=list(wanted))
        .values("gate")
        .annotate(last=Max("order"))
        .values_list("gate", "last")
    )
    items, links, entries = [], [], []
    for gate_pk, (gate, obligations) in wanted.items():
        order = last.get(gate_pk) or 0
        for obligation in obligations:
            order += 1
            item = ChecklistItem(
                gate=gate,
                order=order,
                text=obligation.title,
                guidance=_guidance(obligation),
                required=True,
                regulation=obligation.article,
                regulation_url=obligation.article_url,
                updated_at=at,
            )
            items.append(item)
            links.append(
                ObligationItem(
                    obligation=obligation,
                    initiative_id=gate.initiative_id,
                    gate=gate,
                    item=item,
                    added_at=at,
                )
            )
        added = f"added {counted(len(obligations), 'AI Act obligation')} to the {gate}"
        entries.append(
            activity_entry(
                actor=actor,
                initiative=gate.initiative,
                verb="gate.obligations_added",
                obj=gate,
                after=[obligation.code for obligation in obligations],
                message=added[:300],
                at=at,
            )
        )
    ChecklistItem.objects.bulk_create(items)
    ObligationItem.objects.bulk_create(links)
    activity_log_many(entries)


def _guidance(obligation: Obligation) -> str:
    day = obligation.applies_from
    applies = f"{obligation.article} of the EU AI Act, applies from {day.day} {day:%B %Y}"
    parts = [f"{applies} ({obligation.applies_from_source})."]
    if obligation.guidance:
        parts.append(obligation.guidance)
    parts.append("A working aid, not legal advice.")
    return " ".join(parts)


def obligations_on_gates_opened(*, gates: list[Gate], actor: Actor) -> None:
    """The provider gates call as gates open (gates.openings): each classified initiative's
    obligations due at the new gate's stage (or earlier and never placed) become its items,
    and the obligations carried as conditions follow their items onto the new gate."""
    by_initiative = {gate.initiative_id: gate for gate in gates}
    current = {
        classification.initiative_id: classification
        for classification in Classification.objects.filter(
            initiative_id__in=list(by_initiative)
        ).select_related("revision")
    }
    if not current:
        return
    links = list(
        ObligationItem.objects.filter(initiative_id__in=list(current), dropped_at__isnull=True)
    )
    carried = dict(
        ChecklistItem.objects.filter(
            gate__in=[gate for gate in gates if gate.initiative_id in current],
            carried_from_id__in=[link.item_id for link in links],
        ).values_list("carried_from_id", "pk")
    )
    moved = []
    live = defaultdict(set)
    for link in links:
        if link.item_id in carried:
            link.item_id = carried[link.item_id]
            link.gate = by_initiative[link.initiative_id]
            moved.append(link)
        live[link.initiative_id].add(link.obligation_id)
    ObligationItem.objects.bulk_update(moved, ["item", "gate"])
    codes = {code for c in current.values() for code in c.revision.obligation_codes}
    obligations = obligations_with_stages(codes)
    wanted = {}
    for initiative_id, classification in current.items():
        gate = by_initiative[initiative_id]
        applying = set(classification.revision.obligation_codes)
        wanted[gate.pk] = (
            gate,
            [
                obligation
                for obligation in obligations
                if obligation.code in applying
                and obligation.pk not in live[initiative_id]
                and _due_at(obligation, gate)
            ],
        )
    _items_add(wanted, actor=actor, at=max(gate.opened_at for gate in gates))
