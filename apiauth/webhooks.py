"""Delivering events to registered webhooks: payloads, signatures and the delivery log."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.events import Event

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Tollgate-Signature"
TIMEOUT_SECONDS = 5


def signature(secret: str, body: bytes) -> str:
    """The X-Tollgate-Signature value: sha256=<hex HMAC of the raw body>."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_is_valid(secret: str, body: bytes, header: str) -> bool:
    return hmac.compare_digest(signature(secret, body), header or "")


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
    request = urllib.request.Request(
        webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Tollgate-Webhooks/1",
            "X-Tollgate-Event": event,
            "X-Tollgate-Delivery": delivery_id,
            SIGNATURE_HEADER: signature(webhook.secret, body),
        },
    )
    status, response_text, error = None, "", ""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
            response_text = response.read(2000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status = exc.code
        response_text = exc.read(2000).decode("utf-8", "replace")
        error = f"HTTP {exc.code}"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration_ms = int((time.monotonic() - started) * 1000)
    return WebhookDelivery.objects.create(
        webhook=webhook,
        event=event,
        delivery_id=delivery_id,
        attempt=attempt,
        payload=payload,
        response_status=status,
        response_body=response_text,
        error=error,
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
    try:
        task.delay(webhook_id, event, payload, delivery_id)
    except Exception:
        # A receiver (or the broker) being down must never fail the request that caused it.
        logger.warning(
            "Webhook delivery %s could not be queued or failed", delivery_id, exc_info=True
        )


def retry_delay(retries: int) -> int:
    """Exponential backoff in seconds: 30 s, 60 s, 120 s, ..."""
    base = getattr(settings, "TOLLGATE_WEBHOOK_RETRY_BASE_SECONDS", 30)
    return base * (2**retries)


def overdue_gates_publish(*, today=None) -> int:
    """Announce gate.overdue for every pending gate of an active initiative past its due date.

    Run once a day (see CELERY_BEAT_SCHEDULE), so each overdue gate is announced daily.
    """
    from gates.models import Gate

    hooks = listening_hooks(Event.GATE_OVERDUE)
    if not hooks:
        return 0  # nobody listens: no need to read the overdue gates at all
    today = today or timezone.localdate()
    gates = (
        Gate.objects.overdue(today).select_related("initiative", "stage").order_by("due_on", "pk")
    )
    count = 0
    for gate in gates:
        webhooks_enqueue(
            Event.GATE_OVERDUE,
            {
                "initiative": gate.initiative.key,
                "initiative_name": gate.initiative.name,
                "gate": gate.pk,
                "stage": gate.stage.key,
                "stage_name": gate.stage.name,
                "due_on": gate.due_on.isoformat(),
                "days_overdue": (today - gate.due_on).days,
            },
            hooks=hooks,
        )
        count += 1
    return count
