"""Delivering events to registered webhooks: payloads, signatures and the delivery log."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
import time
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook as StandardWebhook

from apiauth import egress
from core import background
from core.events import Event

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5
# Standard Webhooks (standardwebhooks.com): a secret is "whsec_" + base64 of the key.
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh secret in the Standard Webhooks form, for a new webhook."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_key(secret: str) -> bytes:
    """The HMAC key: a `whsec_` secret is base64, any other secret is its UTF-8 bytes.

    Receivers pass the same to `standardwebhooks.Webhook`: the `whsec_` string as it is,
    any other secret as `secret.encode()`.
    """
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX) + "==", validate=False)
    return secret.encode()


def secret_problem(secret: str) -> str | None:
    """Why `secret` cannot sign deliveries, or None."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    encoded = secret.removeprefix(SECRET_PREFIX).rstrip("=")
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return "After “whsec_” the secret must be base64."
    return None if len(key) >= 16 else "The secret must hold at least 16 bytes."


def signed_headers(secret: str, delivery_id: str, body: bytes, *, at=None) -> dict[str, str]:
    """The Standard Webhooks headers: `webhook-id` (the same on every attempt at one
    delivery), `webhook-timestamp` (this attempt, in Unix seconds) and `webhook-signature`
    (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`). Receivers refuse a timestamp more
    than five minutes off, so a captured delivery cannot be replayed later."""
    at = at or timezone.now()
    signed = StandardWebhook(signing_key(secret)).sign(
        msg_id=delivery_id, timestamp=at, data=body.decode()
    )
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signed,
    }


def chat_text(event: str, payload: dict) -> str:
    initiative = f"{payload.get('initiative', '')} {payload.get('initiative_name', '')}".strip()
    if event == Event.GATE_DECIDED:
        return (
            f"{initiative}: gate “{payload.get('stage_name')}” decided "
            f"{payload.get('decision')} by {payload.get('decided_by')}. "
            f"{payload.get('rationale', '')}"
        ).strip()
    if event == Event.INITIATIVE_STAGE_CHANGED:
        return f"{initiative} moved from {payload.get('from_stage')} to {payload.get('to_stage')}."
    if event == Event.GATE_OVERDUE:
        return (
            f"{initiative}: gate “{payload.get('stage_name')}” is overdue "
            f"(due {payload.get('due_on')})."
        )
    if event == Event.TARGET_MISSED:
        return (
            f"{initiative}: {payload.get('metric_key')} = {payload.get('value')} misses "
            f"{payload.get('comparator')} {payload.get('threshold')}."
        )
    if event == Event.COMMENT_CREATED:
        return f"{initiative}: {payload.get('author_name')} commented on {payload.get('about')}."
    if event == Event.INITIATIVE_CLASSIFIED:
        return (
            f"{initiative} classified {payload.get('tier_label')} under the AI Act "
            f"(confirmed by {payload.get('confirmed_by')})."
        )
    return f"{event}: {json.dumps(payload, default=str)}"


def delivery_body(webhook, event: str, payload: dict, delivery_id: str) -> bytes:
    if webhook.format == webhook.Format.CHAT:
        document = {"text": chat_text(event, payload)}
    else:
        document = {
            "id": delivery_id,
            "event": event,
            "sent_at": timezone.now().isoformat(),
            "data": payload,
        }
    return json.dumps(document, default=str).encode()


def webhook_deliver(*, webhook, event: str, payload: dict, delivery_id: str, attempt: int):
    """POST one event to one webhook and log the attempt. Never raises for receiver errors."""
    from apiauth.models import WebhookDelivery

    body = delivery_body(webhook, event, payload, delivery_id)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Tollgate-Webhooks/1",
        "X-Tollgate-Event": event,
        **signed_headers(webhook.secret, delivery_id, body),
    }
    status, error, refused = None, "", False
    started = time.monotonic()
    try:
        status, reason = egress.post(webhook.url, body, headers, timeout=TIMEOUT_SECONDS)
        if not 200 <= status < 300:
            # Only the status and its reason are kept: the answer's body could be a page
            # of an internal service, and a redirect is an answer, never followed.
            error = f"HTTP {status} {reason}".strip()
    except egress.RefusedTarget as exc:
        error, refused = f"Refused: {exc}", True
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    return WebhookDelivery.objects.create(
        webhook=webhook,
        event=event,
        delivery_id=delivery_id,
        attempt=attempt,
        payload=payload,
        response_status=status,
        error=error[:300],
        refused=refused,
        succeeded=status is not None and 200 <= status < 300,
        duration_ms=duration_ms,
    )


def listening_hooks(event: str) -> list:
    from apiauth.models import Webhook

    return [hook for hook in Webhook.objects.filter(is_active=True) if event in hook.events]


def webhooks_enqueue(event: str, payload: dict, hooks: list | None = None) -> None:
    """Queue a delivery per active webhook that listens to `event` (after commit).

    `hooks` saves the lookup when the caller announces many events of one kind.
    """
    from apiauth.tasks import webhook_deliver_task

    if hooks is None:
        hooks = listening_hooks(event)
    event = str(event)  # a plain name for the task queue and the delivery log
    for hook in hooks:
        delivery_id = uuid.uuid4().hex
        transaction.on_commit(
            lambda hook_id=hook.pk, delivery_id=delivery_id: _send(
                webhook_deliver_task, hook_id, event, payload, delivery_id
            ),
            robust=True,
        )


def webhooks_enqueue_many(event: str, payloads: list[dict]) -> None:
    """Queue every event of a batch with one lookup of the webhooks that listen."""
    hooks = listening_hooks(event)
    for payload in payloads:
        webhooks_enqueue(event, payload, hooks=hooks)


def _send(task, webhook_id, event, payload, delivery_id) -> None:
    """Hand one delivery to a Celery worker, or without a broker to a background thread:
    a receiver's seconds never become part of the request that caused the event."""
    args = [webhook_id, event, payload, delivery_id]
    try:
        background.dispatch(task, *args)
    except Exception:
        # A receiver (or the broker) being down must never fail the request that caused it.
        logger.warning(
            "Webhook delivery %s could not be queued or failed", delivery_id, exc_info=True
        )


def retry_delay(retries: int) -> int:
    """Exponential backoff in seconds: 30 s, 60 s, 120 s, ..."""
    base = getattr(settings, "TOLLGATE_WEBHOOK_RETRY_BASE_SECONDS", 30)
    return base * (2**retries)
