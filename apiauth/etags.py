"""ETag from a row's `version`, and If-Match for optimistic concurrency (RFC 9110, 13.1.1)."""

from __future__ import annotations

import re

from rest_framework.exceptions import ValidationError

from apiauth.errors import PreconditionFailed

# One entity-tag: optional weakness marker, then a quoted opaque tag (no quotes inside).
ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*')


def etag_for(obj) -> str:
    return f'"{obj.version}"'


def parse_if_match(header: str) -> list[tuple[bool, str]] | None:
    """The entity-tags of an If-Match list as (weak, opaque tag) pairs; None for `*`.

    Raises ValueError when the header is not a comma-separated list of entity-tags.
    """
    if header.strip() == "*":
        return None
    tags = []
    for part in header.split(","):
        if not part.strip():
            continue  # RFC 9110 lists allow empty elements
        match = ENTITY_TAG.fullmatch(part)
        if match is None:
            raise ValueError(part)
        tags.append((bool(match.group(1)), match.group(2)))
    if not tags:
        raise ValueError(header)
    return tags


def expected_version(request, current) -> int | None:
    """The version If-Match confirms (None without the header or for `*`); 412 otherwise.

    If-Match holds when any listed tag equals the current ETag by strong comparison:
    weak tags (`W/"3"`) never match, the order of the list does not matter.
    """
    header = request.headers.get("If-Match", "")
    if not header.strip():
        return None
    try:
        tags = parse_if_match(header)
    except ValueError:
        raise ValidationError(
            {"If-Match": ['Send the ETag you received, e.g. "3", or a list of them.']}
        ) from None
    if tags is None:
        return None
    current_tag = str(current.version)
    if not any(not weak and tag == current_tag for weak, tag in tags):
        raise PreconditionFailed()
    return current.version
