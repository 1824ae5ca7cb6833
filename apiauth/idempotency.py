"""Idempotency-Key for POSTs that must not happen twice (measurements, gate decisions).

The same key with the same request replays the first response; with another
request it is refused (422); while the first is still running, a retry gets 409.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apiauth.errors import IdempotencyConflict, IdempotencyMismatch
from apiauth.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEEP_FOR = datetime.timedelta(hours=24)
# An in-progress key older than this belongs to a request that crashed.
ABANDONED_AFTER = datetime.timedelta(minutes=10)
MAX_KEY_LENGTH = 255


def request_fingerprint(request) -> str:
    try:
        # Canonical JSON, so key order and whitespace do not make two requests differ.
        body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    except Exception:
        body = ""
    material = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(material.encode()).hexdigest()


def idempotent(view_method):
    """Wrap a DRF view method so a POST with Idempotency-Key runs at most once."""

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return view_method(self, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({HEADER: [f"At most {MAX_KEY_LENGTH} characters."]})
        fingerprint = request_fingerprint(request)
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=request.user, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            record = IdempotencyKey.objects.filter(user=request.user, key=key).first()
            if record is None:  # expired and cleaned up between the two statements
                raise IdempotencyConflict() from None
            if record.fingerprint != fingerprint:
                raise IdempotencyMismatch() from None
            if record.state == IdempotencyKey.State.IN_PROGRESS:
                if record.created_at > timezone.now() - ABANDONED_AFTER:
                    raise IdempotencyConflict() from None
                # The first attempt died without finishing (nothing was committed):
                # this retry takes the key over.
                IdempotencyKey.objects.filter(pk=record.pk).delete()
                return wrapper(self, request, *args, **kwargs)
            response = Response(record.response_body, status=record.response_status)
            response["Idempotent-Replayed"] = "true"
            return response

        try:
            response = view_method(self, request, *args, **kwargs)
        except Exception:
            # Nothing happened (the service rolled back), so the client may retry the key.
            record.delete()
            raise
        if response.status_code >= 400:
            record.delete()
            return response
        record.state = IdempotencyKey.State.DONE
        record.response_status = response.status_code
        record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
        record.save(update_fields=["state", "response_status", "response_body"])
        return response

    return wrapper


def idempotency_keys_purge(*, older_than: datetime.timedelta = KEEP_FOR) -> int:
    """Delete idempotency records older than `older_than` (default 24 hours)."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
