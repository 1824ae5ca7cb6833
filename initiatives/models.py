"""Frameworks, initiatives, their business case, production bar, team and activity log."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.db.models.functions import Concat
from django.utils import timezone

from core.db import count_of
from core.fields import ChoiceListField
from core.formatting import number
from teams.models import Team
from teams.roles import StageRole


class Framework(models.Model):
    """An ordered list of stages: a lifecycle an initiative moves through."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="framework_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def default(cls) -> Framework:
        return cls.objects.filter(is_default=True).first() or cls.objects.order_by("pk").first()


class Stage(models.Model):
    """One step of a framework, with its expected duration and its exit gate template."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="stages")
    order = models.PositiveSmallIntegerField()
    key = models.SlugField(max_length=60)
    name = models.CharField(max_length=120)
    goal = models.TextField(blank=True)
    min_weeks = models.PositiveSmallIntegerField(default=0)
    # Empty means open-ended: the stage never stalls and has no gate due date.
    max_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    recommended_roles = ChoiceListField(allowed=StageRole.choices, blank=True)
    has_exit_gate = models.BooleanField(default=True)

    # A gate of an open-ended stage (no max_weeks) is due this long after it opens.
    DEFAULT_GATE_WEEKS = 4

    class Meta:
        ordering = ["framework", "order"]
        constraints = [
            models.UniqueConstraint(fields=["framework", "order"], name="stage_order_unique"),
            models.UniqueConstraint(fields=["framework", "key"], name="stage_key_unique"),
            models.CheckConstraint(
                condition=Q(max_weeks__isnull=True) | Q(max_weeks__gte=models.F("min_weeks")),
                name="stage_max_not_below_min",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.framework.name}: {self.name}"

    @property
    def expected_range(self) -> str:
        if self.max_weeks is None:
            return f"{self.min_weeks}+ weeks" if self.min_weeks else "open-ended"
        return f"{self.min_weeks}–{self.max_weeks} weeks"

    def next_stage(self) -> Stage | None:
        return self.framework.stages.filter(order__gt=self.order).order_by("order").first()

    def gate_due_on(self, opened_on: datetime.date) -> datetime.date:
        """When this stage's exit gate, opened or reopened on `opened_on`, falls due."""
        weeks = self.max_weeks if self.max_weeks is not None else self.DEFAULT_GATE_WEEKS
        return opened_on + datetime.timedelta(weeks=weeks)


class ChecklistItemTemplate(models.Model):
    """One line of a stage's exit gate template."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="checklist_templates")
    order = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=300)
    guidance = models.TextField(blank=True)
    required = models.BooleanField(default=True)
    # The production-bar metric that proves this item, e.g. "accuracy".
    metric_key = models.SlugField(max_length=60, blank=True)

    class Meta:
        ordering = ["stage", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "order"], name="checklist_template_order_unique"
            )
        ]

    def __str__(self) -> str:
        return self.text


class Tag(models.Model):
    name = models.SlugField(max_length=40, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class KeyCounter(models.Model):
    """The last number handed out per key prefix; it only grows, so keys are never reused."""

    prefix = models.CharField(max_length=8, primary_key=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last_value}"


class InitiativeQuerySet(models.QuerySet):
    def stalled(self, today: datetime.date | None = None):
        """Active initiatives past their stage's max duration."""
        return self.filter(Initiative.stalled_q(today or timezone.localdate()))

    def overdue(self, today: datetime.date | None = None):
        """Active initiatives whose open gate is past its due date."""
        return self.filter(Initiative.overdue_q(today or timezone.localdate()))

    def with_flags(self, today: datetime.date):
        """Each initiative with `overdue_flag` and `stalled_flag` (1 or 0), for ordering."""
        return self.annotate(
            overdue_flag=Case(
                When(Initiative.overdue_q(today), then=Value(1)),
                default=Value(0),
                output_field=models.IntegerField(),
            ),
            stalled_flag=Case(
                When(Initiative.stalled_q(today), then=Value(1)),
                default=Value(0),
                output_field=models.IntegerField(),
            ),
        )

    def with_target_counts(self):
        """Each initiative with `targets_met`, `targets_missed` and `targets_no_data`."""
        targets = Target.objects.filter(initiative=OuterRef("pk"))
        return self.annotate(
            targets_met=count_of(targets, "initiative", Q(status=Target.Status.MET)),
            targets_missed=count_of(targets, "initiative", Q(status=Target.Status.MISSED)),
            targets_no_data=count_of(targets, "initiative", Q(status=Target.Status.NO_DATA)),
        )

    def visible_to(self, user):
        from initiatives.policy import visible_initiatives_filter

        condition = visible_initiatives_filter(user)
        if condition is None:
            return self
        return self.filter(condition) if condition else self.none()


key_validator = RegexValidator(r"^[A-Z]{1,8}-\d{3,}$", "Keys look like AI-001.")


class Initiative(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ON_HOLD = "on_hold", "On hold"
        STOPPED = "stopped", "Stopped"
        COMPLETED = "completed", "Completed"

    class Maturity(models.IntegerChoices):
        MANUAL = 0, "0 – manual"
        TRAINING_PIPELINE = 1, "1 – automated training pipeline"
        CICD = 2, "2 – automated CI/CD of the pipeline"

    key = models.CharField(max_length=20, unique=True, editable=False, validators=[key_validator])
    name = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    problem = models.TextField("business problem", blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="initiatives")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_initiatives"
    )
    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sponsored_initiatives",
        verbose_name="executive sponsor",
    )
    framework = models.ForeignKey(Framework, on_delete=models.PROTECT, related_name="initiatives")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="initiatives")
    stage_entered_on = models.DateField(default=timezone.localdate)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    maturity_level = models.PositiveSmallIntegerField(
        "MLOps maturity", choices=Maturity.choices, default=Maturity.MANUAL
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="initiatives")
    # Kept by the services that move stages and gates, so the board and the
    # reminder scan filter on plain indexed columns instead of joins:
    # the day the stage's max duration runs out (empty when open-ended) and the
    # due date of the open gate (empty when no gate is open).
    stalls_on = models.DateField(null=True, blank=True, editable=False)
    gate_due_on = models.DateField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = InitiativeQuerySet.as_manager()

    # What people change by editing an initiative (forms, the API, the admin); the
    # framework, stage, status and dates move only through the gate workflow.
    EDITABLE_FIELDS = ["name", "summary", "problem", "team", "owner", "sponsor", "maturity_level"]

    class Meta:
        ordering = ["key"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "on_hold", "stopped", "completed"]),
                name="initiative_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(maturity_level__gte=0, maturity_level__lte=2),
                name="initiative_maturity_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["framework", "stage", "status"], name="initiative_board_idx"),
            models.Index(fields=["status", "gate_due_on"], name="initiative_overdue_idx"),
            models.Index(fields=["status", "stalls_on"], name="initiative_stalled_idx"),
            models.Index(fields=["team", "status"], name="initiative_team_idx"),
            models.Index(fields=["owner", "status"], name="initiative_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.name}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("initiatives:detail", args=[self.key])

    @property
    def days_in_stage(self) -> int:
        return (timezone.localdate() - self.stage_entered_on).days

    # Stalled: active and past the stage's max duration. Overdue: active and its open gate
    # past due. Each is written twice, for a row and for a query, side by side.

    @property
    def is_stalled(self) -> bool:
        return self.is_late(self.stalls_on)

    @property
    def is_overdue(self) -> bool:
        return self.is_late(self.gate_due_on)

    def is_late(self, day: datetime.date | None) -> bool:
        return self.status == self.Status.ACTIVE and day is not None and day < timezone.localdate()

    @staticmethod
    def stalled_q(today: datetime.date) -> Q:
        return Q(status=Initiative.Status.ACTIVE, stalls_on__lt=today)

    @staticmethod
    def overdue_q(today: datetime.date) -> Q:
        return Q(status=Initiative.Status.ACTIVE, gate_due_on__lt=today)

    def composition_gap(self, memberships=None, stages: list[Stage] | None = None) -> list[str]:
        """Recommended roles of the current and next stage that nobody on the team holds.

        `stages`, the framework's stages in order, saves reading the next stage.
        """
        if stages is None:
            following = self.stage.next_stage()
        else:
            following = next((stage for stage in stages if stage.order > self.stage.order), None)
        if memberships is None:
            memberships = self.memberships.all()
        held = {m.stage_role for m in memberships}
        return [role for role in roles_wanted(self.stage, following) if role not in held]


def roles_wanted(stage: Stage, following: Stage | None) -> list[str]:
    """The roles a team needs in `stage`: its recommended roles, then those of the next one."""
    wanted = list(stage.recommended_roles)
    if following is not None:
        wanted += [role for role in following.recommended_roles if role not in wanted]
    return wanted


def stalls_on_for(stage: Stage, entered_on: datetime.date) -> datetime.date | None:
    if stage.max_weeks is None:
        return None
    return entered_on + datetime.timedelta(weeks=stage.max_weeks)


class BusinessCase(models.Model):
    """Why the initiative is worth doing, and what it costs at scale."""

    initiative = models.OneToOneField(
        Initiative, on_delete=models.CASCADE, related_name="business_case"
    )
    outcome = models.TextField("outcome statement", blank=True)
    metric_name = models.CharField("business metric", max_length=120, blank=True)
    metric_baseline = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    metric_target = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    expected_annual_value = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal(0), validators=[MinValueValidator(0)]
    )
    investment_to_date = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal(0), validators=[MinValueValidator(0)]
    )
    planned_team_cost = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal(0), validators=[MinValueValidator(0)]
    )
    planned_infra_cost = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal(0), validators=[MinValueValidator(0)]
    )
    cost_per_task_budget = models.DecimalField(
        max_digits=12, decimal_places=4, default=Decimal(0), validators=[MinValueValidator(0)]
    )
    monthly_volume = models.PositiveIntegerField("projected monthly tasks", default=0)
    updated_at = models.DateTimeField(auto_now=True)

    TRACKED_FIELDS = [
        "outcome",
        "metric_name",
        "metric_baseline",
        "metric_target",
        "expected_annual_value",
        "investment_to_date",
        "planned_team_cost",
        "planned_infra_cost",
        "cost_per_task_budget",
        "monthly_volume",
    ]

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(expected_annual_value__gte=0)
                & Q(investment_to_date__gte=0)
                & Q(planned_team_cost__gte=0)
                & Q(planned_infra_cost__gte=0)
                & Q(cost_per_task_budget__gte=0),
                name="business_case_amounts_not_negative",
            )
        ]

    # A derived figure and what it is shown with (the API's unit economics): the annual
    # cost at 100x volume must fit 24 digits with 4 decimal places. (The annual value at
    # 100x fits by the column's own max_digits.)
    LARGEST_MULTIPLIER = 100
    DERIVED_COST_LIMIT = Decimal(10) ** 20

    def __str__(self) -> str:
        return f"Business case of {self.initiative.key}"

    def clean(self) -> None:
        """Refuse figures whose derived unit economics would not fit (they answered 500)."""
        super().clean()
        errors = {}
        budget = self.cost_per_task_budget or Decimal(0)
        volume = self.monthly_volume or 0
        annual_cost = budget * volume * self.LARGEST_MULTIPLIER * 12
        if annual_cost >= self.DERIVED_COST_LIMIT:
            message = (
                "Cost per task times monthly volume is too large: at 100x volume the annual "
                f"cost would pass {self.DERIVED_COST_LIMIT:,.0f}."
            )
            errors["cost_per_task_budget"] = [message]
            errors["monthly_volume"] = [message]
        if errors:
            raise ValidationError(errors)

    @property
    def revision_number(self) -> int:
        """The number of the latest kept revision (0 before the first save)."""
        return self.revisions.order_by("-number").values_list("number", flat=True).first() or 0

    @property
    def total_investment(self) -> Decimal:
        return self.investment_to_date + self.planned_team_cost + self.planned_infra_cost

    @property
    def has_unit_economics(self) -> bool:
        """Whether the unit economics say anything: without a projected monthly volume every
        row is zero tasks at zero cost, so the page shows where they will come from instead."""
        return bool(self.monthly_volume)

    def unit_economics(self) -> list[dict]:
        """Monthly and annual variable cost at 1x, 10x and 100x the projected volume."""
        rows = []
        for multiplier in (1, 10, self.LARGEST_MULTIPLIER):
            volume = self.monthly_volume * multiplier
            monthly_cost = self.cost_per_task_budget * volume
            rows.append(
                {
                    "multiplier": multiplier,
                    "monthly_volume": volume,
                    "monthly_cost": monthly_cost,
                    "annual_cost": monthly_cost * 12,
                    "annual_value": self.expected_annual_value * multiplier,
                }
            )
        return rows


class BusinessCaseRevision(models.Model):
    """A kept revision of a business case: who changed what, and when."""

    business_case = models.ForeignKey(
        BusinessCase, on_delete=models.CASCADE, related_name="revisions"
    )
    number = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # {"field": [before, after]} for the fields this revision changed.
    changes = models.JSONField(default=dict)
    snapshot = models.JSONField(default=dict)

    class Meta:
        ordering = ["business_case", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["business_case", "number"], name="business_case_revision_unique"
            )
        ]

    def __str__(self) -> str:
        return f"Revision {self.number} of {self.business_case}"


class Target(models.Model):
    """One numeric line of an initiative's production bar."""

    class Category(models.TextChoices):
        QUALITY = "quality", "Quality"
        LATENCY = "latency", "Latency"
        COST = "cost", "Cost"
        SAFETY = "safety", "Safety"
        RELIABILITY = "reliability", "Reliability"
        ADOPTION = "adoption", "Adoption"
        BUSINESS = "business", "Business"

    class Comparator(models.TextChoices):
        AT_LEAST = ">=", "at least (≥)"
        AT_MOST = "<=", "at most (≤)"

    class Status(models.TextChoices):
        MET = "met", "Met"
        MISSED = "missed", "Missed"
        NO_DATA = "no_data", "No data"

    STANDARD_METRICS = {
        "task_success_rate": ("quality", ">=", "%"),
        "accuracy": ("quality", ">=", "%"),
        "latency_p95_ms": ("latency", "<=", "ms"),
        "cost_per_task": ("cost", "<=", "USD"),
        "safety_incident_rate": ("safety", "<=", "%"),
        "uptime": ("reliability", ">=", "%"),
        "drift_psi": ("reliability", "<=", ""),
        "active_users": ("adoption", ">=", "users"),
    }

    # What people call the standard metrics; a custom key reads as its words.
    METRIC_LABELS = {
        "task_success_rate": "Task success rate",
        "accuracy": "Accuracy",
        "latency_p95_ms": "Latency (p95)",
        "cost_per_task": "Cost per task",
        "safety_incident_rate": "Safety incident rate",
        "uptime": "Uptime",
        "drift_psi": "Drift (PSI)",
        "active_users": "Active users",
    }

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="targets")
    metric_key = models.SlugField(max_length=60)
    category = models.CharField(max_length=16, choices=Category.choices)
    comparator = models.CharField(max_length=2, choices=Comparator.choices)
    threshold = models.FloatField()
    unit = models.CharField(max_length=20, blank=True)
    description = models.CharField(max_length=200, blank=True)
    # The latest measurement, kept by measurement_record so that "met/missed"
    # is a column read, not a subquery per target.
    latest_value = models.FloatField(null=True, blank=True, editable=False)
    latest_measured_at = models.DateTimeField(null=True, blank=True, editable=False)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.NO_DATA, editable=False
    )
    # How many raw readings the target has, kept by measurements_record and the retention
    # task, so a page of a series of 500,000 readings needs no COUNT over all of them.
    measurement_count = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["initiative", "category", "metric_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "metric_key"], name="target_metric_unique"
            ),
            models.CheckConstraint(
                condition=Q(comparator__in=[">=", "<="]), name="target_comparator_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["met", "missed", "no_data"]), name="target_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["initiative", "status"], name="target_status_idx")]

    def __str__(self) -> str:
        unit = self.unit if self.unit in ("", "%") else f" {self.unit}"
        return f"{self.metric_label} {self.comparator} {number(self.threshold)}{unit}"

    def is_satisfied_by(self, value: float) -> bool:
        if self.comparator == self.Comparator.AT_LEAST:
            return value >= self.threshold
        return value <= self.threshold

    @classmethod
    def label_for(cls, metric_key: str) -> str:
        if metric_key in cls.METRIC_LABELS:
            return cls.METRIC_LABELS[metric_key]
        return metric_key.replace("_", " ").replace("-", " ").capitalize()

    @property
    def metric_label(self) -> str:
        return self.label_for(self.metric_key)


class Measurement(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        INTEGRATION = "integration", "Integration"

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="measurements")
    value = models.FloatField()
    measured_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["target", "-measured_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=["manual", "integration"]), name="measurement_source_valid"
            )
        ]
        indexes = [models.Index(fields=["target", "-measured_at"], name="measurement_series_idx")]

    def __str__(self) -> str:
        return f"{self.target.metric_key}={self.value:g} at {self.measured_at:%Y-%m-%d %H:%M}"


class DailyMeasurement(models.Model):
    """One target's readings of one day (in the configured time zone), folded together once
    the raw readings are older than the retention period (TOLLGATE_MEASUREMENT_RAW_DAYS)."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="daily_measurements")
    day = models.DateField()
    samples = models.PositiveIntegerField()
    minimum = models.FloatField()
    maximum = models.FloatField()
    mean = models.FloatField()

    class Meta:
        ordering = ["target", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["target", "day"], name="daily_measurement_unique"),
            models.CheckConstraint(condition=Q(samples__gte=1), name="daily_measurement_samples"),
            models.CheckConstraint(
                condition=Q(minimum__lte=models.F("maximum")), name="daily_measurement_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target.metric_key} on {self.day}: mean {self.mean:g} of {self.samples}"


class Membership(models.Model):
    """A person on an initiative's team, in a stage role, with an allocation."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="initiative_memberships"
    )
    stage_role = models.CharField(max_length=32, choices=StageRole.choices)
    allocation_percent = models.PositiveSmallIntegerField(
        default=100, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["initiative", "stage_role"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "user", "stage_role"], name="membership_unique"
            ),
            models.CheckConstraint(
                condition=Q(allocation_percent__gte=1, allocation_percent__lte=100),
                name="membership_allocation_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.get_stage_role_display()} on {self.initiative.key}"


class ActivityQuerySet(models.QuerySet):
    def with_withdrawn(self):
        """Annotate `withdrawn`: the entry's object was deleted later (a `<type>.deleted`
        entry names it), so what the entry quotes of it is no longer shown; and `revised`:
        it was edited after the entry (a later `<type>.edited`), so the entry's quote is no
        longer what it says. In the same query, so a page of entries costs what it did."""

        def later(action: str):
            return Activity.objects.filter(
                object_type=OuterRef("object_type"),
                object_id=OuterRef("object_id"),
                verb=Concat(OuterRef("object_type"), Value(action)),
                pk__gt=OuterRef("pk"),
            ).exclude(object_id="")

        deleted = Activity.objects.filter(
            object_type=OuterRef("object_type"),
            object_id=OuterRef("object_id"),
            verb=Concat(OuterRef("object_type"), Value(".deleted")),
        ).exclude(object_id="")
        return self.annotate(withdrawn=Exists(deleted), revised=Exists(later(".edited")))

    def update(self, **kwargs):
        raise TypeError("The activity log is append-only.")

    def delete(self):
        raise TypeError("The activity log is append-only.")


class Activity(models.Model):
    """One change to anything in Tollgate. Append-only: the audit trail and the timeline."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The log outlives what it describes, so the initiative link is nulled
    # rather than cascading, and the key is kept as text.
    initiative = models.ForeignKey(
        Initiative, on_delete=models.SET_NULL, null=True, blank=True, related_name="activities"
    )
    initiative_key = models.CharField(max_length=20, blank=True)
    verb = models.CharField(max_length=60)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    field = models.CharField(max_length=60, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    message = models.TextField(blank=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["initiative", "-created_at"], name="activity_initiative_idx"),
            models.Index(fields=["object_type", "object_id"], name="activity_object_idx"),
            models.Index(fields=["verb", "created_at"], name="activity_verb_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.verb} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("The activity log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The activity log is append-only.")

    # Where a message starts quoting its object's words: "commented on X: “…”".
    QUOTE_OPENS = ": “"

    @property
    def shown_message(self) -> str:
        """The message as people may read it now: an entry about something deleted or
        edited since (a comment) keeps what happened and drops the words it quoted, which
        are no longer there or no longer what it says (`with_withdrawn`)."""
        if self.verb.endswith((".deleted", ".edited")):
            return self.message
        if getattr(self, "withdrawn", False):
            since = "since deleted"
        elif getattr(self, "revised", False):
            since = "since edited"
        else:
            return self.message
        said, quote, _ = self.message.partition(self.QUOTE_OPENS)
        return f"{said} ({since})" if quote else self.message
