"""Reminders, escalations and digests: what was (or will be) sent to whom, and the rules."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator, validate_comma_separated_integer_list
from django.db import models
from django.db.models import Q
from django.utils import timezone

from gates.models import Gate
from initiatives.models import Framework, Initiative


class Kind(models.TextChoices):
    DUE_SOON = "due_soon", "Gate due soon"
    OVERDUE = "overdue", "Gate overdue"
    ESCALATION = "escalation", "Escalation to sponsor"
    QUIET = "quiet", "Quiet initiative"
    REVIEW_WAITING = "review_waiting", "Review waiting"
    DIGEST = "digest", "Weekly digest"
    MENTION = "mention", "Mentioned"
    COMMENT = "comment", "Comment on something I watch"
    REVIEW_REQUESTED = "review_requested", "Review requested"
    GATE_DECIDED = "gate_decided", "Gate decided"
    ITEM_REOPENED = "item_reopened", "Item reopened by a missed target"
    GATEKEEPER_ADDED = "gatekeeper_added", "Added as gatekeeper"
    MEMBER_ADDED = "member_added", "Added to a team"
    CLASSIFICATION_REVIEW = "ai_review", "AI Act classification due for review"
    SUMMARY = "summary", "Daily summary"


# Everybody chooses how each of these reaches them by email; escalations always do,
# and the daily summary is what "daily" means.
CHOOSABLE_KINDS = [kind for kind in Kind if kind not in (Kind.ESCALATION, Kind.SUMMARY)]


class ReminderPolicy(models.Model):
    """A framework's own reminder rules; an empty field keeps the TOLLGATE_REMINDERS default."""

    framework = models.OneToOneField(
        Framework, on_delete=models.CASCADE, related_name="reminder_policy"
    )
    due_soon_days = models.CharField(
        "remind this many days before the due date",
        max_length=60,
        blank=True,
        validators=[validate_comma_separated_integer_list],
        help_text="Comma-separated, e.g. 7,1. Empty: the default.",
    )
    overdue_every_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    escalate_after_days = models.PositiveSmallIntegerField(
        "escalate to the sponsor after this many days overdue",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )
    escalate_every_days = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    quiet_after_days = models.PositiveSmallIntegerField(
        "nudge the owner after this many days without activity",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )
    review_waiting_days = models.PositiveSmallIntegerField(
        "remind gatekeepers after a review has waited this many days",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )

    class Meta:
        verbose_name_plural = "reminder policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(overdue_every_days__isnull=True) | Q(overdue_every_days__gte=1),
                name="reminder_policy_overdue_every_positive",
            ),
            models.CheckConstraint(
                condition=Q(escalate_every_days__isnull=True) | Q(escalate_every_days__gte=1),
                name="reminder_policy_escalate_every_positive",
            ),
            models.CheckConstraint(
                condition=Q(review_waiting_days__isnull=True) | Q(review_waiting_days__gte=1),
                name="reminder_policy_review_waiting_positive",
            ),
            models.CheckConstraint(
                condition=Q(quiet_after_days__isnull=True) | Q(quiet_after_days__gte=1),
                name="reminder_policy_quiet_after_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"Reminder rules of {self.framework}"

    def overrides(self) -> dict:
        """The fields this policy sets, in the shape of settings.TOLLGATE_REMINDERS."""
        values = {}
        if self.due_soon_days.strip():
            values["due_soon_days"] = sorted(
                {int(part) for part in self.due_soon_days.split(",") if part.strip()},
                reverse=True,
            )
        for name in (
            "overdue_every_days",
            "escalate_after_days",
            "escalate_every_days",
            "quiet_after_days",
            "review_waiting_days",
        ):
            value = getattr(self, name)
            if value is not None:
                values[name] = value
        return values


class NotificationPreference(models.Model):
    """What a person wants by email. The in-app inbox always gets everything."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_digest = models.BooleanField("weekly digest by email", default=True)
    # Escalations to a sponsor ignore this: somebody must hear about a late gate.
    email_reminders = models.BooleanField("reminders by email", default=True)

    def __str__(self) -> str:
        return f"Notification preferences of {self.user}"


class Delivery(models.TextChoices):
    NOW = "now", "At once"
    DAILY = "daily", "Daily summary"
    OFF = "off", "Inbox only"


class DeliveryPreference(models.Model):
    """How one kind of notice reaches one person by email; the inbox always gets it.

    Without a row, reminders and the digest follow NotificationPreference's two
    switches, and every other kind is emailed at once.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delivery_preferences"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    delivery = models.CharField(max_length=8, choices=Delivery.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="delivery_preference_unique"),
            models.CheckConstraint(
                condition=Q(delivery__in=Delivery.values), name="delivery_preference_valid"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["escalation", "summary"]),
                name="delivery_preference_kind_choosable",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.user}: {self.get_delivery_display()}"


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)

    def for_inbox(self, user):
        return self.filter(recipient=user).select_related("initiative")


class Notification(models.Model):
    """One message to one person, in the inbox and (unless skipped) by email.

    The scan inserts the row before anything is sent; `dedupe_key` makes a
    second scan (or a concurrent one) a no-op, and only a pending row is sent.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # In the inbox only: the recipient turned this email off, or has no address.
        SKIPPED = "skipped", "In-app only"
        # Emailed with the next daily summary, as the recipient chose.
        DAILY = "daily", "Waiting for the daily summary"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    initiative = models.ForeignKey(
        Initiative,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    gate = models.ForeignKey(
        Gate, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    dedupe_key = models.CharField(max_length=200, unique=True)
    subject = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The scan that inserted the row: lets a scan tell its own rows from a rival's.
    scan_id = models.UUIDField(null=True, blank=True, editable=False)
    # When a send task was last put on the queue; a pending row whose task
    # vanished (broker down, worker lost) is put back after a while.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["pending", "sent", "failed", "skipped", "daily"]),
                name="notification_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=Kind.values), name="notification_kind_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
            models.Index(fields=["state", "enqueued_at"], name="notification_redrive_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient}: {self.subject}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
