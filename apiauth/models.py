"""API tokens, idempotency records and webhooks."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apiauth.egress import validate_public_url
from core.events import Event
from core.fields import ChoiceListField

TOKEN_PREFIX = "tg_"


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A bearer token acting with its user's permissions. Only a hash of the secret is kept."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        READ_WRITE = "read_write", "Read and write"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    # The first characters of the secret, so people can tell their tokens apart.
    prefix = models.CharField(max_length=12, db_index=True, editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.READ)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=["read", "read_write"]), name="api_token_scope_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, *, user, name: str, scope: str = Scope.READ, expires_at=None):
        """Create a token; returns (token, plain secret). The secret is never stored."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls(
            user=user,
            name=name,
            scope=scope,
            expires_at=expires_at,
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            secret_hash=token_hash(secret),
        )
        token.full_clean()
        token.save()
        return token, secret

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class IdempotencyKey(models.Model):
    """The first response to a POST carrying an Idempotency-Key, replayed on retries."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # sha256 of method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique"),
            models.CheckConstraint(
                condition=Q(state__in=["in_progress", "done"]), name="idempotency_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


def new_webhook_secret() -> str:
    from apiauth.webhooks import new_secret

    return new_secret()


class Webhook(models.Model):
    """A receiver of events, signed with its secret."""

    class Format(models.TextChoices):
        JSON = "json", "JSON"
        CHAT = "chat", "Chat text"

    name = models.CharField(max_length=100)
    url = models.URLField(
        max_length=500,
        validators=[validate_public_url],
        help_text="http:// or https:// on a public address; internal receivers need "
        "TOLLGATE_WEBHOOK_ALLOWED_HOSTS.",
    )
    secret = models.CharField(
        max_length=200,
        default=new_webhook_secret,
        help_text="Signs every delivery (Standard Webhooks). Give receivers this value.",
    )
    events = ChoiceListField(allowed=lambda: [(event.value, event.value) for event in Event])
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.JSON)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(format__in=["json", "chat"]), name="webhook_format_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        # The events are checked by their field (ChoiceListField).
        from apiauth.webhooks import secret_problem

        if problem := secret_problem(self.secret or ""):
            raise ValidationError({"secret": problem})


class WebhookDelivery(models.Model):
    """One attempt to deliver one event to one webhook."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=60)
    # Shared by every attempt at the same delivery, and sent as webhook-id.
    delivery_id = models.CharField(max_length=40, db_index=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    payload = models.JSONField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The status's reason or why it failed; never the receiver's answer.
    error = models.TextField(blank=True)
    # The URL was refused (scheme or internal address): retrying would not help.
    refused = models.BooleanField(default=False)
    succeeded = models.BooleanField(default=False)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        outcome = "ok" if self.succeeded else "failed"
        return f"{self.event} to {self.webhook} #{self.attempt} {outcome}"
