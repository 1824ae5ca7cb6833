"""ETag from a row's `version`, and If-Match for optimistic concurrency."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError

from apiauth.errors import PreconditionFailed


def etag_for(obj) -> str:
    return f'"{obj.version}"'


def expected_version(request, current) -> int | None:
    """The version If-Match names (None without the header); 412 when it is already stale."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    value = header.split(",")[0].strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    try:
        version = int(value)
    except ValueError:
        raise ValidationError({"If-Match": ['Send the ETag you received, e.g. "3".']}) from None
    if version != current.version:
        raise PreconditionFailed()
    return version
