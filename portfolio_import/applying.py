"""Writing a valid plan through the initiatives and gates services, all or nothing.

Every write goes through the same service functions the pages and the API use,
so imported rows obey the same rules and write the same activity log; each
event is passed the time it happened, so history keeps its real dates.
A dry run does the whole thing and rolls it back, so the preview finds every
problem the services would find, not just the ones visible in the cells.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from compliance.services import classification_confirm, classification_propose
from core.formatting import counted
from gates.models import ChecklistItem, Gate, StageTransition
from gates.services import ChecklistChange as ItemChange
from gates.services import (
    InitiativeStart,
    MeasurementInput,
    checklist_items_update,
    gate_request_review,
    gate_vote,
    initiative_complete,
    initiative_resume,
    initiative_update,
    initiatives_start,
    measurements_record,
    target_create,
)
from initiatives.activity import activity_log
from initiatives.exceptions import ServiceError
from initiatives.models import (
    Activity,
    BusinessCase,
    Initiative,
    Measurement,
    Membership,
    Target,
)
from initiatives.services import business_case_update, memberships_add
from portfolio_import.models import ExternalReference
from portfolio_import.planning import (
    ADVANCING,
    DEFAULT_OVERRIDE,
    DEFAULT_RATIONALE,
    RESUME,
    REVIEW,
    ChecklistChange,
    ClassificationRow,
    HistoryStep,
    InitiativePlan,
    MeasurementRow,
    Plan,
)
from portfolio_import.report import Action, RowOutcome

# Rows written per bulk statement when initiatives are created together.
BATCH_SIZE = 500
# A checklist change with no time of its own lands this long before the decision it preceded.
BEFORE_DECISION = datetime.timedelta(hours=1)


class RowFailed(Exception):
    """A service refused a row while replaying the plan; the transaction is rolled back."""

    def __init__(self, outcome: RowOutcome, column: str, message: str):
        super().__init__(message)
        self.outcome, self.column, self.message = outcome, column, message


class _DryRun(Exception):
    pass


def _messages(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, "message_dict"):
            return " ".join(f"{' '.join(v)}" for v in error.message_dict.values())
        return " ".join(error.messages)
    if isinstance(error, ServiceError):
        return error.message
    return str(error)


def apply_plan(plan: Plan, *, actor, dry_run: bool) -> bool:
    """Write the plan in one transaction; True when it was (or, dry, would be) written."""
    try:
        with transaction.atomic():
            Applier(plan, actor=actor).run()
            if dry_run:
                raise _DryRun
    except _DryRun:
        return True
    except RowFailed as failure:
        failure.outcome.problem(failure.column, failure.message)
        return False
    return True


@dataclass
class _Event:
    at: datetime.datetime
    order: int  # at the same moment: the decided gate's checklist, readings, decisions, others
    kind: str
    row: object


class Applier:
    def __init__(self, plan: Plan, *, actor):
        self.plan = plan
        self.actor = actor
        self.now = plan.now

    def run(self) -> None:
        new = [initiative for initiative in self.plan.initiatives if initiative.is_new]
        present = [initiative for initiative in self.plan.initiatives if not initiative.is_new]
        for start in range(0, len(new), BATCH_SIZE):
            self._create(new[start : start + BATCH_SIZE])
        for initiative in present:
            self._update(initiative)
        quiet, busy = [], []
        for initiative in self.plan.initiatives:
            has_events = (
                initiative.new_steps
                or initiative.checklist
                or initiative.completed
                or initiative.classification
            )
            (busy if has_events else quiet).append(initiative)
        # Measurements alone need no replay in order: one batch for all of them.
        self._measurements([row for initiative in quiet for row in self._fresh(initiative)])
        for initiative in busy:
            self._replay(initiative)
        self._date_new_rows([initiative for initiative in new if initiative.existing])
        if any(o.action in (Action.CREATE, Action.UPDATE) for o in self.plan.outcomes):
            activity_log(
                actor=self.actor,
                initiative=None,
                verb="portfolio.imported",
                after=self._summary(),
                message=f"Portfolio import of {counted(len(self.plan.outcomes), 'row')}",
            )

    def _summary(self) -> dict:
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for outcome in self.plan.outcomes:
            counts[outcome.table][outcome.action] += 1
        return {table: dict(actions) for table, actions in counts.items()}

    # --- new initiatives --------------------------------------------------------------------

    def _create(self, plans: list[InitiativePlan]) -> None:
        started = initiatives_start(
            rows=[
                InitiativeStart(
                    key=plan.key or None,
                    name=plan.fields["name"],
                    team=plan.fields["team"],
                    owner=plan.fields["owner"],
                    sponsor=plan.fields["sponsor"],
                    framework=plan.framework,
                    stage=plan.start_stage,
                    summary=plan.fields.get("summary", ""),
                    problem=plan.fields.get("problem", ""),
                    maturity_level=plan.fields.get("maturity_level", 0),
                    at=plan.start_at,
                    business_case=plan.business_case,
                    tags=plan.tags or [],
                    targets=[
                        {
                            "metric_key": spec.metric_key,
                            "threshold": spec.threshold,
                            "comparator": spec.comparator,
                            "unit": spec.unit,
                        }
                        for spec in plan.targets
                    ],
                )
                for plan in plans
            ],
            actor=self.actor,
        )
        references = []
        for plan, initiative in zip(plans, started, strict=True):
            plan.existing = initiative
            plan.outcome.label = initiative.key
            if plan.external_id:
                references.append(
                    ExternalReference(initiative=initiative, external_id=plan.external_id)
                )
        ExternalReference.objects.bulk_create(references)
        self._members([(plan, row) for plan in plans for row in plan.members])

    def _date_new_rows(self, plans: list[InitiativePlan]) -> None:
        """The created and updated columns of the rows an import creates carry the time the
        history gives, as every event does: the initiative, its business case, targets and
        team from its start, each reading from when it was taken, and the initiative last
        updated at its last logged event. A few statements per batch of initiatives."""
        ids = [plan.existing.pk for plan in plans]
        for first in range(0, len(ids), BATCH_SIZE):
            batch = ids[first : first + BATCH_SIZE]
            started = StageTransition.objects.filter(
                initiative=OuterRef("pk"), from_stage__isnull=True
            ).values("transitioned_at")[:1]
            last = (
                Activity.objects.filter(initiative=OuterRef("pk"))
                .order_by("-created_at")
                .values("created_at")[:1]
            )
            Initiative.objects.filter(pk__in=batch).update(
                created_at=Coalesce(Subquery(started), F("created_at")),
                updated_at=Coalesce(Subquery(last), F("updated_at")),
            )
            created = Initiative.objects.filter(pk=OuterRef("initiative_id")).values("created_at")
            BusinessCase.objects.filter(initiative_id__in=batch).update(
                updated_at=Subquery(created[:1])
            )
            for model in (Target, Membership):
                model.objects.filter(initiative_id__in=batch).update(
                    created_at=Subquery(created[:1])
                )
            Measurement.objects.filter(target__initiative_id__in=batch).update(
                created_at=F("measured_at")
            )

    # --- initiatives already in Tollgate ------------------------------------------------------

    def _update(self, plan: InitiativePlan) -> None:
        initiative = plan.existing
        outcome = plan.outcome
        if outcome is not None and outcome.action == Action.UPDATE:
            changed = {
                name: value for name, value in plan.fields.items() if name in outcome.changes
            }
            if plan.tags is not None and "tags" in outcome.changes:
                changed["tags"] = plan.tags
            try:
                if changed:
                    initiative_update(initiative=initiative, actor=self.actor, **changed)
                case_changes = {
                    name: value
                    for name, value in plan.business_case.items()
                    if name in outcome.changes
                }
                if case_changes:
                    business_case_update(initiative=initiative, actor=self.actor, **case_changes)
                known = {target.metric_key for target in initiative.targets.all()}
                for spec in plan.targets:
                    if spec.metric_key not in known:
                        target_create(
                            initiative=initiative,
                            actor=self.actor,
                            metric_key=spec.metric_key,
                            threshold=spec.threshold,
                            comparator=spec.comparator,
                            unit=spec.unit,
                        )
            except (ValidationError, ServiceError) as error:
                raise RowFailed(outcome, "", _messages(error)) from error
        if plan.external_id and not hasattr(initiative, "external_reference"):
            ExternalReference.objects.create(initiative=initiative, external_id=plan.external_id)
        self._members([(plan, row) for row in plan.members if row.outcome.action == Action.CREATE])

    def _members(self, rows: list[tuple[InitiativePlan, object]]) -> None:
        """Teams join when the initiative starts (new ones) or now (already in Tollgate)."""
        by_time = defaultdict(list)
        for plan, row in rows:
            by_time[plan.start_at].append((plan, row))
        for at, group in by_time.items():
            try:
                memberships_add(
                    rows=[
                        Membership(
                            initiative=plan.existing,
                            user=row.person,
                            stage_role=row.stage_role,
                            allocation_percent=row.allocation,
                        )
                        for plan, row in group
                    ],
                    actor=self.actor,
                    at=at,
                )
            except (ValidationError, ServiceError) as error:
                raise RowFailed(group[0][1].outcome, "person", _messages(error)) from error

    # --- measurements -----------------------------------------------------------------------

    def _fresh(self, plan: InitiativePlan) -> list[tuple[InitiativePlan, MeasurementRow]]:
        """The plan's measurements not already recorded (so a re-import adds nothing)."""
        rows = [(plan, row) for row in plan.measurements]
        if (plan.outcome is not None and plan.outcome.action == Action.CREATE) or not rows:
            return rows
        targets = {t.metric_key: t for t in plan.existing.targets.all()}
        recorded = set(
            Measurement.objects.filter(target__in=targets.values()).values_list(
                "target_id", "measured_at", "value"
            )
        )
        fresh = []
        for plan_, row in rows:
            target = targets.get(row.metric_key)
            if target is not None and (target.pk, row.at, row.value) in recorded:
                row.outcome.action = Action.UNCHANGED
            else:
                fresh.append((plan_, row))
        return fresh

    def _measurements(self, rows: list[tuple[InitiativePlan, MeasurementRow]]) -> None:
        if not rows:
            return
        targets = self._targets({plan.existing.pk for plan, _ in rows})
        by_source = defaultdict(list)
        for plan, row in rows:
            by_source[row.source].append(
                MeasurementInput(
                    target=targets[(plan.existing.pk, row.metric_key)],
                    value=row.value,
                    measured_at=row.at,
                )
            )
        for source, inputs in by_source.items():
            try:
                measurements_record(rows=inputs, actor=None, source=source, history=True)
            except (ValidationError, ServiceError) as error:
                raise RowFailed(rows[0][1].outcome, "value", _messages(error)) from error

    def _targets(self, initiative_ids) -> dict:
        return {
            (target.initiative_id, target.metric_key): target
            for target in Target.objects.filter(initiative_id__in=initiative_ids)
        }

    # --- history, in the order it happened -------------------------------------------------------

    def _replay(self, plan: InitiativePlan) -> None:
        """Each event at its time; readings, and changes to one gate at one moment, together."""
        if plan.outcome is None or plan.outcome.action != Action.CREATE:
            self._compare_decided_gates(plan)
        readings: list[tuple[InitiativePlan, MeasurementRow]] = []
        ticks: list[ChecklistChange] = []
        for event in self._events(plan):
            if event.kind != "measurement" and readings:
                self._measurements(readings)
                readings = []
            if ticks and (
                event.kind != "checklist"
                or (event.at, event.row.stage.pk) != (ticks[0].at, ticks[0].stage.pk)
            ):
                self._ticks(plan, ticks)
                ticks = []
            if event.kind == "measurement":
                readings.append((plan, event.row))
            elif event.kind == "checklist":
                ticks.append(event.row)
            elif event.kind == "decision":
                self._decide(plan, event.row)
            elif event.kind == "complete":
                self._complete(plan, event.at)
            elif event.kind == "classification":
                self._classify(plan, event.row)
        self._ticks(plan, ticks)
        self._measurements(readings)

    def _compare_decided_gates(self, plan: InitiativePlan) -> None:
        """Checklist rows for gates already decided in Tollgate: frozen, so equal or refused."""
        pending = Gate.objects.pending().filter(initiative=plan.existing).first()
        later = {step.stage.pk for step in plan.new_steps}
        frozen = [
            change
            for change in plan.checklist
            if change.stage.pk not in later
            and (pending is None or change.stage.pk != pending.stage_id)
        ]
        if not frozen:
            return
        items = {
            (stage_id, text): (state, evidence_url, note)
            for stage_id, text, state, evidence_url, note in ChecklistItem.objects.filter(
                gate__initiative=plan.existing
            ).values_list("gate__stage_id", "text", "state", "evidence_url", "note")
        }
        for change in frozen:
            current = items.get((change.stage.pk, change.text))
            if current is None:
                raise RowFailed(
                    change.outcome,
                    "item",
                    f"The {change.stage.name} gate of {plan.label} has no item {change.text!r}.",
                )
            state, evidence_url, _note = current
            if state != change.state or (
                change.evidence_url and evidence_url != change.evidence_url
            ):
                raise RowFailed(
                    change.outcome,
                    "state",
                    f"The {change.stage.name} gate of {plan.label} was decided with this item "
                    f"{state.replace('_', ' ')}; its checklist is frozen.",
                )
            change.outcome.action = Action.UNCHANGED
        plan.checklist = [change for change in plan.checklist if change not in frozen]

    def _events(self, plan: InitiativePlan) -> list[_Event]:
        events = [_Event(row.at, 1, "measurement", row) for _, row in self._fresh(plan)]
        first_decision: dict[int, datetime.datetime] = {}
        for step in plan.new_steps:
            first_decision.setdefault(step.stage.pk, step.at)
            events.append(_Event(step.at, 2, "decision", step))
        last = max((event.at for event in events), default=plan.start_at or self.now)
        decided_at = {(step.at, step.stage.pk) for step in plan.new_steps}
        for change in plan.checklist:
            at = change.at
            if at is None:
                decided = first_decision.get(change.stage.pk)
                at = decided - BEFORE_DECISION if decided else max(last, self.now)
                change.at = at
            # At the moment of a decision, a change to that gate comes first; a change to
            # another gate (the one the decision opens) comes after.
            order = 0 if (at, change.stage.pk) in decided_at else 3
            events.append(_Event(at, order, "checklist", change))
        if plan.completed:
            # Completed after the last thing its history tells of; now only if it tells nothing.
            events.append(_Event(last, 3, "complete", None))
        if plan.classification is not None:
            # Before anything else at its moment: its obligations join the gate in play.
            events.append(_Event(plan.classification.at, -1, "classification", plan.classification))
        events.sort(key=lambda event: (event.at, event.order))
        return events

    def _classify(self, plan: InitiativePlan, row: ClassificationRow) -> None:
        """Propose and confirm at the time it was confirmed: the obligations land on the gate
        in play then, and on later gates as the history opens them."""
        try:
            classification_propose(
                initiative=plan.existing,
                actor=row.classified_by,
                answers=row.answers,
                questionnaire_version=row.questionnaire_version,
                at=row.at,
            )
            classification_confirm(
                initiative=plan.existing,
                actor=row.confirmed_by or self.actor,
                at=row.at,
                announce=False,
            )
        except (ValidationError, ServiceError, PermissionDenied) as error:
            raise RowFailed(row.outcome, "answers", _messages(error)) from error

    def _complete(self, plan: InitiativePlan, at) -> None:
        try:
            initiative_complete(initiative=plan.existing, actor=self.actor, at=at)
        except (ValidationError, ServiceError) as error:
            raise RowFailed(plan.outcome, "status", _messages(error)) from error

    def _ticks(self, plan: InitiativePlan, changes: list[ChecklistChange]) -> None:
        """Changes to the items of one gate at one moment: one service call."""
        if not changes:
            return
        first = changes[0]
        gate = Gate.objects.pending().filter(initiative=plan.existing).first()
        if gate is None or gate.stage_id != first.stage.pk:
            raise RowFailed(
                first.outcome,
                "updated_at",
                f"On {timezone.localtime(first.at):%Y-%m-%d %H:%M} the gate of "
                f"{first.stage.name} was not open.",
            )
        items = {}
        for item in ChecklistItem.objects.filter(gate=gate).order_by("-order"):
            items[item.text] = item  # the first of two items with one text wins
        updates = []
        for change in changes:
            item = items.get(change.text)
            if item is None:
                raise RowFailed(
                    change.outcome,
                    "item",
                    f"The {change.stage.name} gate has no item {change.text!r}.",
                )
            same = (
                item.state == change.state
                and (not change.evidence_url or item.evidence_url == change.evidence_url)
                and (not change.note or item.note == change.note)
            )
            if same:
                change.outcome.action = Action.UNCHANGED
                continue
            created = plan.outcome is not None and plan.outcome.action == Action.CREATE
            change.outcome.action = Action.CREATE if created else Action.UPDATE
            updates.append(
                ItemChange(
                    item=item,
                    actor=change.updated_by,
                    state=change.state,
                    na_reason=change.na_reason if change.state == "not_applicable" else None,
                    evidence_url=change.evidence_url or None,
                    note=change.note or None,
                )
            )
        if not updates:
            return
        try:
            checklist_items_update(gate=gate, changes=updates, at=first.at)
        except (ValidationError, ServiceError) as error:
            raise RowFailed(first.outcome, "state", _messages(error)) from error

    def _decide(self, plan: InitiativePlan, step: HistoryStep) -> None:
        initiative = plan.existing
        try:
            if step.decision == RESUME:
                initiative_resume(initiative=initiative, actor=step.decided_by, at=step.at)
                return
            gate = Gate.objects.pending().get(initiative=initiative)
            if step.decision == REVIEW:
                gate_request_review(gate=gate, actor=step.decided_by, at=step.at)
                return
            if gate.state == Gate.State.OPEN:
                gate = gate_request_review(gate=gate, actor=initiative.owner, at=step.at)
            if not gate.gatekeepers.filter(user=step.decided_by).exists():
                raise RowFailed(
                    step.outcome,
                    "decided_by",
                    f"{step.decided_by.get_full_name() or step.decided_by} is not a "
                    "gatekeeper of this gate (the sponsor is).",
                )
            open_required = gate.items.filter(required=True, state="open").exists()
            override = step.override
            if step.decision == "go" and open_required and not override:
                override = DEFAULT_OVERRIDE
            gate_vote(
                gate=gate,
                actor=step.decided_by,
                decision=step.decision,
                rationale=step.rationale or DEFAULT_RATIONALE,
                override_justification=override,
                at=step.at,
            )
        except (ValidationError, ServiceError) as error:
            raise RowFailed(step.outcome, "decision", _messages(error)) from error
        if step.decision in ADVANCING:
            initiative.refresh_from_db()
