"""AI Act classification of initiatives, the obligations catalogue and review intervals.

The catalogue is data (loaded by a data migration, edited in the admin): which article,
for which role and tier, from which date (with the source of that date, because the
timeline has been amended) and at which stage's exit gate it must be evidenced.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.validators import choice_list_problem
from initiatives.models import Framework, Initiative, Stage
from teams.roles import PortfolioRole

# The portfolio role (a Django group) that may confirm a classification besides portfolio admins.
COMPLIANCE_GROUP = PortfolioRole.COMPLIANCE


class Tier(models.TextChoices):
    PROHIBITED = "prohibited", "Prohibited"
    HIGH_RISK = "high_risk", "High-risk"
    LIMITED = "limited", "Limited risk (transparency)"
    MINIMAL = "minimal", "Minimal risk"


class Role(models.TextChoices):
    """What the organisation is for the AI system."""

    PROVIDER = "provider", "Provider"
    DEPLOYER = "deployer", "Deployer"
    BOTH = "both", "Provider and deployer"


# The roles an obligation names; a classification's "both" holds each of them.
OBLIGATION_ROLES = [Role.PROVIDER, Role.DEPLOYER]


class Flag(models.TextChoices):
    """What a classification found besides its tier; an obligation may need one of them."""

    ANNEX_I = "annex_i", "High-risk through a product under Annex I (Art. 6(1))"
    ANNEX_III = "annex_iii", "High-risk through an Annex III use (Art. 6(2))"
    GPAI = "gpai", "General-purpose AI model"
    GPAI_SYSTEMIC = "gpai_systemic_risk", "General-purpose AI model with systemic risk"
    FRIA = "fria_required", "Fundamental rights impact assessment required"
    INTERACTS = "art50_interaction", "Interacts directly with people (Art. 50(1))"
    SYNTHETIC = "art50_synthetic_content", "Generates or manipulates content (Art. 50(2))"
    EMOTION = (
        "art50_emotion_biometric",
        "Emotion recognition or biometric categorisation (Art. 50(3))",
    )
    DEEP_FAKE = "art50_deep_fake", "Deep fakes (Art. 50(4))"


class Obligation(models.Model):
    """One duty of the Act, in our own words: a working aid, not legal advice."""

    code = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=200)
    guidance = models.TextField(blank=True)
    article = models.CharField(max_length=40, help_text="e.g. Art. 9")
    article_url = models.URLField(max_length=300, blank=True)
    # Who it binds (provider, deployer) and for which tiers.
    roles = models.JSONField(default=list)
    tiers = models.JSONField(default=list)
    # A flag the classification must carry too (empty: none).
    requires_flag = models.CharField(max_length=30, choices=Flag.choices, blank=True)
    applies_from = models.DateField()
    applies_from_source = models.CharField(
        max_length=300, help_text="Where the date comes from: the timeline has been amended."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.article}: {self.title}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors = {}
        for name, allowed in (("roles", OBLIGATION_ROLES), ("tiers", Tier.values)):
            problem = choice_list_problem(getattr(self, name), allowed, required=True)
            if problem:
                errors[name] = problem
        if errors:
            raise ValidationError(errors)


class ObligationStage(models.Model):
    """Per framework: the stage whose exit gate must evidence an obligation."""

    obligation = models.ForeignKey(Obligation, on_delete=models.CASCADE, related_name="stages")
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["obligation", "framework"]
        constraints = [
            models.UniqueConstraint(
                fields=["obligation", "framework"], name="obligation_stage_once_per_framework"
            )
        ]

    def __str__(self) -> str:
        return f"{self.obligation.code} at the exit gate of {self.stage.name}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.stage_id and self.framework_id and self.stage.framework_id != self.framework_id:
            raise ValidationError({"stage": "The stage is not one of the framework's."})
        if self.stage_id and not self.stage.has_exit_gate:
            raise ValidationError({"stage": "This stage has no exit gate to evidence it."})


class ReviewInterval(models.Model):
    """How long a confirmed classification of a tier holds before it is reviewed."""

    tier = models.CharField(max_length=16, choices=Tier.choices, unique=True)
    months = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(60)]
    )

    class Meta:
        ordering = ["tier"]

    def __str__(self) -> str:
        return f"{self.get_tier_display()}: every {self.months} months"


DEFAULT_REVIEW_MONTHS = 12


def review_due_on(tier: str, on: datetime.date) -> datetime.date:
    """When a classification of `tier` confirmed `on` is next reviewed."""
    interval = ReviewInterval.objects.filter(tier=tier).values_list("months", flat=True).first()
    return add_months(on, interval or DEFAULT_REVIEW_MONTHS)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """`day` moved on by whole months; the 31st becomes the last day of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=candidate)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - 28 exists in every month


class ClassificationRevision(models.Model):
    """One answer to the questionnaire: proposed by the owner's side, confirmed by an admin
    or the compliance role. Every revision is kept."""

    class State(models.TextChoices):
        PROPOSED = "proposed", "Awaiting confirmation"
        CONFIRMED = "confirmed", "Confirmed"
        SUPERSEDED = "superseded", "Superseded"

    initiative = models.ForeignKey(
        Initiative, on_delete=models.CASCADE, related_name="ai_classification_revisions"
    )
    number = models.PositiveIntegerField()
    questionnaire_version = models.PositiveSmallIntegerField()
    answers = models.JSONField()
    tier = models.CharField(max_length=16, choices=Tier.choices)
    role = models.CharField(max_length=10, choices=Role.choices)
    flags = models.JSONField(default=list)
    # The answers that led to the tier and flags, in words.
    reasons = models.JSONField(default=list)
    obligation_codes = models.JSONField(default=list)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PROPOSED)
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    classified_at = models.DateTimeField(default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["initiative", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "number"], name="classification_revision_number_unique"
            ),
            # One proposal waits at a time; a new one replaces it.
            models.UniqueConstraint(
                fields=["initiative"],
                condition=Q(state="proposed"),
                name="classification_one_proposal",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["proposed", "confirmed", "superseded"]),
                name="classification_revision_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(tier__in=["prohibited", "high_risk", "limited", "minimal"]),
                name="classification_revision_tier_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.initiative.key} classification #{self.number}: {self.get_tier_display()}"


class Classification(models.Model):
    """An initiative's confirmed classification: what the gates, board and register read."""

    initiative = models.OneToOneField(
        Initiative, on_delete=models.CASCADE, related_name="ai_classification"
    )
    # Revisions go only with their initiative, and the classification with them.
    revision = models.ForeignKey(ClassificationRevision, on_delete=models.CASCADE, related_name="+")
    tier = models.CharField(max_length=16, choices=Tier.choices, db_index=True)
    role = models.CharField(max_length=10, choices=Role.choices)
    flags = models.JSONField(default=list)
    confirmed_at = models.DateTimeField()
    next_review_on = models.DateField(db_index=True)
    # Why a review is asked for before its date (e.g. the initiative entered Production).
    review_prompt = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["initiative"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tier__in=["prohibited", "high_risk", "limited", "minimal"]),
                name="classification_tier_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.initiative.key}: {self.get_tier_display()}"

    @property
    def is_prohibited(self) -> bool:
        return self.tier == Tier.PROHIBITED


class ObligationItem(models.Model):
    """An obligation as a required item on one of an initiative's gates.

    Never deleted by a reclassification: an obligation that no longer applies has its
    open item marked not applicable ("reclassified") and `dropped_at` set, and one that
    applies again reopens the same item.
    """

    obligation = models.ForeignKey(Obligation, on_delete=models.PROTECT, related_name="items")
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="+")
    gate = models.ForeignKey("gates.Gate", on_delete=models.CASCADE, related_name="+")
    item = models.OneToOneField(
        "gates.ChecklistItem", on_delete=models.CASCADE, related_name="obligation_link"
    )
    added_at = models.DateTimeField(default=timezone.now)
    dropped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["initiative", "obligation"]
        constraints = [
            models.UniqueConstraint(fields=["obligation", "gate"], name="obligation_once_per_gate")
        ]
        indexes = [models.Index(fields=["initiative", "obligation"], name="obligation_item_idx")]

    def __str__(self) -> str:
        return f"{self.obligation.code} on {self.gate_id}"
