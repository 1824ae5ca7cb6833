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

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from gates import services as gate_services
from gates.models import ChecklistItem, Gate
from gates.services import MeasurementInput
from initiatives import services as initiative_services
from initiatives.activity import activity_log
from initiatives.exceptions import ServiceError
from initiatives.models import Initiative, KeyCounter, Measurement, Membership
from portfolio_import.models import ExternalReference
from portfolio_import.planning import (
    ADVANCING,
    DEFAULT_OVERRIDE,
    DEFAULT_RATIONALE,
    RESUME,
    REVIEW,
    ChecklistChange,
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
    order: int  # at the same moment: checklist, then measurements, then decisions
    kind: str
    row: object


class Applier:
    def __init__(self, plan: Plan, *, actor):
        self.plan = plan
        self.actor = actor
        self.now = plan.now

    def run(self) -> None:
        self._reserve_keys()
        new = [initiative for initiative in self.plan.initiatives if initiative.is_new]
        for start in range(0, len(new), BATCH_SIZE):
            self._create(new[start : start + BATCH_SIZE])
        for initiative in self.plan.initiatives:
            if not initiative.is_new:
                self._update(initiative)
        quiet, busy = [], []
        for initiative in self.plan.initiatives:
            has_events = initiative.new_steps or initiative.checklist or initiative.completed
            (busy if has_events else quiet).append(initiative)
        # Measurements alone need no replay in order: one batch for all of them.
        self._measurements([row for initiative in quiet for row in self._fresh(initiative)])
        for initiative in busy:
            self._replay(initiative)
        if self.plan.initiatives:
            activity_log(
                actor=self.actor,
                initiative=None,
                verb="portfolio.imported",
                after=self._summary(),
                message=f"Portfolio import of {len(self.plan.outcomes)} row(s)",
            )

    def _summary(self) -> dict:
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for outcome in self.plan.outcomes:
            counts[outcome.table][outcome.action] += 1
        return {table: dict(actions) for table, actions in counts.items()}

    # --- keys -------------------------------------------------------------------------------

    def _reserve_keys(self) -> None:
        """Move each key counter past the keys the file gives, so none is handed out twice."""
        for prefix, number in self.plan.key_numbers.items():
            counter, _ = KeyCounter.objects.select_for_update().get_or_create(prefix=prefix)
            if counter.last_value < number:
                counter.last_value = number
                counter.save(update_fields=["last_value"])

    # --- new initiatives --------------------------------------------------------------------

    def _create(self, plans: list[InitiativePlan]) -> None:
        started = gate_services.initiatives_start(
            rows=[
                gate_services.InitiativeStart(
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
            actor=None,
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
        self._members([row for plan in plans for row in plan.members], created=True)

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
                    initiative_services.initiative_update(
                        initiative=initiative, actor=self.actor, **changed
                    )
                case_changes = {
                    name: value
                    for name, value in plan.business_case.items()
                    if name in outcome.changes
                }
                if case_changes:
                    initiative_services.business_case_update(
                        initiative=initiative, actor=self.actor, **case_changes
                    )
                known = {target.metric_key for target in initiative.targets.all()}
                for spec in plan.targets:
                    if spec.metric_key not in known:
                        gate_services.target_create(
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
        self._members([row for row in plan.members if row.outcome.action == Action.CREATE])

    def _members(self, rows, *, created: bool = False) -> None:
        if not rows:
            return
        try:
            initiative_services.memberships_add(
                rows=[
                    Membership(
                        initiative=row.outcome_initiative if False else None,
                        user=row.person,
                        stage_role=row.stage_role,
                        allocation_percent=row.allocation,
                    )
                    for row in rows
                ],
                actor=None,
            )
        except (ValidationError, ServiceError) as error:
            raise RowFailed(rows[0].outcome, "person", _messages(error)) from error

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
                gate_services.measurements_record(rows=inputs, actor=None, source=source)
            except (ValidationError, ServiceError) as error:
                raise RowFailed(rows[0][1].outcome, "value", _messages(error)) from error

    def _targets(self, initiative_ids) -> dict:
        from initiatives.models import Target

        return {
            (target.initiative_id, target.metric_key): target
            for target in Target.objects.filter(initiative_id__in=initiative_ids)
        }

    # --- history, in the order it happened -------------------------------------------------------

    def _replay(self, plan: InitiativePlan) -> None:
        events = self._events(plan)
        pending: list[tuple[InitiativePlan, MeasurementRow]] = []
        for event in events:
            if event.kind == "measurement":
                pending.append((plan, event.row))
                continue
            self._measurements(pending)
            pending = []
            if event.kind == "checklist":
                self._tick(plan, event.row)
            elif event.kind == "decision":
                self._decide(plan, event.row)
            elif event.kind == "complete":
                gate_services.initiative_complete(
                    initiative=plan.existing, actor=plan.existing.owner, at=event.at
                )
        self._measurements(pending)

    def _events(self, plan: InitiativePlan) -> list[_Event]:
        events = [_Event(row.at, 1, "measurement", row) for _, row in self._fresh(plan)]
        first_decision: dict[int, datetime.datetime] = {}
        for step in plan.new_steps:
            first_decision.setdefault(step.stage.pk, step.at)
            events.append(_Event(step.at, 2, "decision", step))
        last = max((event.at for event in events), default=plan.start_at or self.now)
        for change in plan.checklist:
            at = change.at
            if at is None:
                decided = first_decision.get(change.stage.pk)
                at = decided - BEFORE_DECISION if decided else max(last, self.now)
                change.at = at
            events.append(_Event(at, 0, "checklist", change))
        if plan.completed:
            events.append(_Event(max(last, self.now), 3, "complete", None))
        events.sort(key=lambda event: (event.at, event.order))
        return events

    def _tick(self, plan: InitiativePlan, change: ChecklistChange) -> None:
        gate = Gate.objects.pending().filter(initiative=plan.existing).first()
        if gate is None or gate.stage_id != change.stage.pk:
            raise RowFailed(
                change.outcome,
                "updated_at",
                f"On {timezone.localtime(change.at):%Y-%m-%d %H:%M} the gate of "
                f"{change.stage.name} was not open.",
            )
        item = ChecklistItem.objects.filter(gate=gate, text=change.text).order_by("order").first()
        if item is None:
            raise RowFailed(
                change.outcome, "item", f"The {change.stage.name} gate has no item {change.text!r}."
            )
        same = (
            item.state == change.state
            and (not change.evidence_url or item.evidence_url == change.evidence_url)
            and (not change.note or item.note == change.note)
        )
        if same:
            change.outcome.action = Action.UNCHANGED
            return
        change.outcome.action = (
            Action.CREATE
            if plan.outcome and (plan.outcome.action == Action.CREATE)
            else Action.UPDATE
        )
        try:
            gate_services.checklist_item_update(
                item=item,
                actor=change.updated_by,
                state=change.state,
                na_reason=change.na_reason if change.state == "not_applicable" else None,
                evidence_url=change.evidence_url or None,
                note=change.note or None,
                at=change.at,
            )
        except (ValidationError, ServiceError) as error:
            raise RowFailed(change.outcome, "state", _messages(error)) from error

    def _decide(self, plan: InitiativePlan, step: HistoryStep) -> None:
        initiative = plan.existing
        try:
            if step.decision == RESUME:
                gate_services.initiative_resume(
                    initiative=initiative, actor=step.decided_by, at=step.at
                )
                return
            gate = Gate.objects.pending().get(initiative=initiative)
            if step.decision == REVIEW:
                gate_services.gate_request_review(gate=gate, actor=step.decided_by, at=step.at)
                return
            if gate.state == Gate.State.OPEN:
                gate = gate_services.gate_request_review(
                    gate=gate, actor=initiative.owner, at=step.at
                )
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
            gate_services.gate_vote(
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


def _unused():  # pragma: no cover - keeps names used by later steps referenced
    return Initiative
