"""One JSON shape for every API error: {"code": ..., "message": ..., "errors": {field: [...]}}."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from initiatives.exceptions import ServiceError

logger = logging.getLogger(__name__)


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource changed since you read it (If-Match does not match)."
    default_code = "precondition_failed"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the 1 MB limit."
    default_code = "payload_too_large"


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed."
    default_code = "idempotency_in_progress"


class IdempotencyMismatch(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used with a different request."
    default_code = "idempotency_key_reused"


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field": [...], "rows.3.value": [...]}."""
    errors: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for name, value in detail.items():
            key = f"{prefix}.{name}" if prefix else str(name)
            for sub_key, messages in _flatten(value, key).items():
                errors.setdefault(sub_key, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(value, dict | list) for value in detail):
            errors.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in detail)
        else:
            for index, value in enumerate(detail):
                if value in ({}, []):
                    continue
                key = f"{prefix}.{index}" if prefix else str(index)
                for sub_key, messages in _flatten(value, key).items():
                    errors.setdefault(sub_key, []).extend(messages)
    else:
        errors.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return errors


def error_body(code: str, message: str, errors: dict | None = None) -> dict:
    return {"code": code, "message": message, "errors": errors or {}}


def _django_validation_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if name == "__all__" else name): list(messages)
            for name, messages in error.message_dict.items()
        }
    return {"non_field_errors": list(error.messages)}


def exception_handler(exc, context):
    """The REST_FRAMEWORK EXCEPTION_HANDLER: every 4xx in the same shape."""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    if isinstance(exc, DjangoValidationError):
        errors = _django_validation_errors(exc)
        first = next(iter(errors.values()), ["Invalid input."])[0]
        return Response(error_body("invalid", first, errors), status=400)
    if isinstance(exc, ServiceError):
        return Response(error_body(exc.code, exc.message), status=exc.status)
    if isinstance(exc, DataError):
        # A value the database cannot store (out of range, NUL byte): the input's fault.
        logger.warning("API request carried a value the database refused", exc_info=True)
        return Response(error_body("invalid", "A value is out of range or malformed."), status=400)
    if isinstance(exc, IntegrityError):
        logger.warning("API request hit a database constraint", exc_info=True)
        return Response(
            error_body("conflict", "The change conflicts with existing data."), status=409
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    headers = {
        name: response[name] for name in ("WWW-Authenticate", "Retry-After") if name in response
    }
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        first = next(iter(errors.values()), ["Invalid input."])[0]
        body = error_body("invalid", first, errors)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        if isinstance(detail, dict | list):
            errors = _flatten(detail)
            message = next(iter(errors.values()), [str(exc.default_detail)])[0]
        else:
            errors, message = {}, str(detail)
        code = exc.get_codes() if not isinstance(detail, dict | list) else exc.default_code
        if isinstance(exc, exceptions.ParseError):
            code = "malformed_request"
        body = error_body(str(code), message, errors)
    else:  # Http404 and PermissionDenied from Django
        body = error_body(
            "not_found" if response.status_code == 404 else "permission_denied",
            "Not found." if response.status_code == 404 else "You may not do this.",
        )
    return Response(body, status=response.status_code, headers=headers)
