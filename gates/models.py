"""Gates: the exit gate of one stage for one initiative, its checklist, votes and transitions."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone

from initiatives.models import ChecklistItemTemplate, Initiative, Stage, Target


class Decision(models.TextChoices):
    GO = "go", "Go"
    CONDITIONAL_GO = "conditional_go", "Conditional go"
    HOLD = "hold", "Hold"
    RECYCLE = "recycle", "Recycle"
    STOP = "stop", "Stop"


# The decisions that clear a gate: the initiative advances to the next stage.
ADVANCING = (Decision.GO, Decision.CONDITIONAL_GO)


class GateQuerySet(models.QuerySet):
    def pending(self):
        """Gates still in play: open or in review."""
        return self.filter(state__in=Gate.PENDING_STATES)

    def overdue(self, today: datetime.date):
        """Pending gates of active initiatives past their due date."""
        return self.pending().filter(due_on__lt=today, initiative__status=Initiative.Status.ACTIVE)

    def with_readiness(self):
        """Each gate with `required_cleared` of `required_total` checklist items."""
        required = Q(items__required=True)
        return self.annotate(
            required_total=Count("items", filter=required),
            required_cleared=Count(
                "items", filter=required & Q(items__state__in=ChecklistItem.CLEARED_STATES)
            ),
        )

    def awaiting_vote_from(self, user):
        """Gates in review where the user is a gatekeeper who has not voted in this round."""
        voted = Vote.objects.filter(
            gate=models.OuterRef("pk"), voter=user, round=models.OuterRef("review_round")
        )
        return self.filter(state=Gate.State.IN_REVIEW, gatekeepers__user=user).exclude(
            models.Exists(voted)
        )


class Gate(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        IN_REVIEW = "in_review", "In review"
        DECIDED = "decided", "Decided"

    class Rule(models.TextChoices):
        ANY = "any", "Any one gatekeeper"
        ALL = "all", "All gatekeepers"

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="gates")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="gates")
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    rule = models.CharField(max_length=8, choices=Rule.choices, default=Rule.ANY)
    due_on = models.DateField(null=True, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    review_round = models.PositiveIntegerField(default=0)
    review_requested_at = models.DateTimeField(null=True, blank=True)
    review_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rationale = models.TextField(blank=True)
    override_justification = models.TextField(blank=True)
    # What the deciders saw: the checklist and the latest measurement per target.
    snapshot = models.JSONField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = GateQuerySet.as_manager()

    PENDING_STATES = (State.OPEN, State.IN_REVIEW)

    class Meta:
        ordering = ["initiative", "stage__order"]
        constraints = [
            models.UniqueConstraint(fields=["initiative", "stage"], name="gate_stage_unique"),
            # One gate per initiative is in play at a time.
            models.UniqueConstraint(
                fields=["initiative"],
                condition=Q(state__in=["open", "in_review"]),
                name="gate_one_pending_per_initiative",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["open", "in_review", "decided"]), name="gate_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(state="decided", decision__in=Decision.values)
                | (~Q(state="decided") & Q(decision="")),
                name="gate_decision_matches_state",
            ),
            models.CheckConstraint(condition=Q(rule__in=["any", "all"]), name="gate_rule_valid"),
        ]
        indexes = [
            models.Index(fields=["state", "due_on"], name="gate_due_idx"),
            models.Index(fields=["state", "review_requested_at"], name="gate_review_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.initiative.key} exit gate of {self.stage.name}"

    @property
    def is_pending(self) -> bool:
        return self.state in self.PENDING_STATES

    @property
    def is_cleared(self) -> bool:
        """Decided go or conditional go: the initiative moved past this gate."""
        return self.state == self.State.DECIDED and self.decision in ADVANCING

    @property
    def is_overdue(self) -> bool:
        return self.is_pending and self.due_on is not None and self.due_on < timezone.localdate()

    def readiness_counts(self) -> tuple[int, int]:
        """(cleared, total) of required items; uses annotations when the queryset made them."""
        if hasattr(self, "required_total"):
            return self.required_cleared, self.required_total
        return readiness_of(self.items.all())

    @property
    def readiness(self) -> float:
        cleared, total = self.readiness_counts()
        return 1.0 if total == 0 else cleared / total


class Gatekeeper(models.Model):
    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="gatekeepers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gatekeeping"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["gate", "user"], name="gatekeeper_unique")]

    def __str__(self) -> str:
        return f"{self.user} on {self.gate}"


class Vote(models.Model):
    """One gatekeeper's vote in one review round."""

    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    round = models.PositiveIntegerField()
    decision = models.CharField(max_length=16, choices=Decision.choices)
    rationale = models.TextField()
    override_justification = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["gate", "round", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["gate", "voter", "round"], name="vote_once_per_round"),
            models.CheckConstraint(condition=~Q(rationale=""), name="vote_rationale_required"),
        ]

    def __str__(self) -> str:
        return f"{self.voter} voted {self.decision} on {self.gate}"


class GateDecision(models.Model):
    """A decision taken on a gate in one review round, with what the deciders saw."""

    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="decisions")
    round = models.PositiveIntegerField()
    decision = models.CharField(max_length=16, choices=Decision.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)
    rationale = models.TextField()
    override_justification = models.TextField(blank=True)
    snapshot = models.JSONField()

    class Meta:
        ordering = ["gate", "-decided_at"]
        constraints = [
            # Exactly one decision per review round, even under concurrent voters.
            models.UniqueConstraint(fields=["gate", "round"], name="gate_decision_once_per_round"),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} on {self.gate}"


class ChecklistItemQuerySet(models.QuerySet):
    def cleared(self):
        """Items done or not applicable."""
        return self.filter(state__in=ChecklistItem.CLEARED_STATES)


class ChecklistItem(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        NOT_APPLICABLE = "not_applicable", "Not applicable"

    # An item counts towards readiness when done, or not applicable with a reason.
    CLEARED_STATES = (State.DONE, State.NOT_APPLICABLE)

    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="items")
    template = models.ForeignKey(
        ChecklistItemTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    order = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=300)
    guidance = models.TextField(blank=True)
    required = models.BooleanField(default=True)
    metric_key = models.SlugField(max_length=60, blank=True)
    target = models.ForeignKey(
        Target, on_delete=models.SET_NULL, null=True, blank=True, related_name="linked_items"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    na_reason = models.TextField("reason it does not apply", blank=True)
    evidence_url = models.URLField(max_length=500, blank=True)
    note = models.TextField(blank=True)
    # A condition carried from a conditional go on the previous gate, and the item it
    # was carried from.
    is_condition = models.BooleanField(default=False)
    condition_due_on = models.DateField(null=True, blank=True)
    carried_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="carried_to"
    )
    # A regulatory item cites the provision it evidences (e.g. "Art. 9" of the AI Act);
    # apps built on gates add such items when a gate opens (see gates.openings).
    regulation = models.CharField(max_length=60, blank=True)
    regulation_url = models.URLField(max_length=300, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    # Bumped on every write; a stale edit names the version it saw.
    version = models.PositiveIntegerField(default=1)

    objects = ChecklistItemQuerySet.as_manager()

    class Meta:
        ordering = ["gate", "order"]
        constraints = [
            models.UniqueConstraint(fields=["gate", "order"], name="checklist_item_order_unique"),
            models.CheckConstraint(
                condition=Q(state__in=["open", "done", "not_applicable"]),
                name="checklist_item_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state="not_applicable") | ~Q(na_reason=""),
                name="checklist_item_na_needs_reason",
            ),
        ]
        indexes = [models.Index(fields=["target", "state"], name="checklist_item_target_idx")]

    def __str__(self) -> str:
        return self.text

    @property
    def is_cleared(self) -> bool:
        return self.state in self.CLEARED_STATES

    @property
    def is_regulatory(self) -> bool:
        return bool(self.regulation)


def readiness_of(items: Iterable[ChecklistItem]) -> tuple[int, int]:
    """(cleared, total) of the required items among `items`."""
    required = [item for item in items if item.required]
    return sum(1 for item in required if item.is_cleared), len(required)


def open_required_items(items: Iterable[ChecklistItem]) -> list[ChecklistItem]:
    """The required items not yet cleared: what a go needs an override for."""
    return [item for item in items if item.required and not item.is_cleared]


class StageTransition(models.Model):
    """An initiative entering a stage: the history the dashboard's conversion figures use."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="transitions")
    from_stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="entries")
    gate = models.ForeignKey(
        Gate, on_delete=models.SET_NULL, null=True, blank=True, related_name="transitions"
    )
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    transitioned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["initiative", "transitioned_at"]
        constraints = [
            # A gate advances an initiative once: a second decision cannot add a transition.
            models.UniqueConstraint(fields=["gate"], name="transition_once_per_gate"),
        ]
        indexes = [
            models.Index(fields=["to_stage", "transitioned_at"], name="transition_stage_idx"),
            models.Index(fields=["initiative", "transitioned_at"], name="transition_history_idx"),
        ]

    def __str__(self) -> str:
        origin = self.from_stage.name if self.from_stage else "start"
        return f"{self.initiative.key}: {origin} → {self.to_stage.name}"
