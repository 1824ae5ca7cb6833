"""Small helpers every app's API views share."""

from __future__ import annotations

from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from initiatives.policy import can


def query_params(request, serializer_class) -> dict:
    """Validate query parameters with a serializer; 400 in the usual shape when invalid."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def require(user, action, obj=None) -> None:
    """403 unless the policy allows it (the object was already found visible: no 404 here)."""
    if not can(user, action, obj):
        raise PermissionDenied("You may not do this.")


# The largest id a bigint column holds; larger numbers overflow the database driver.
MAX_ID = 2**63 - 1


def parse_id(value, name: str) -> int:
    """A query-parameter id, or 400 when it is not a plausible one."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: ["Send a numeric id."]}) from None
    if not 1 <= number <= MAX_ID:
        raise ValidationError({name: ["No such id."]})
    return number


class IdLookupMixin:
    """404 (not a database overflow) for path ids that cannot exist."""

    def get_object(self):
        value = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise NotFound() from None
        if not 1 <= number <= MAX_ID:
            raise NotFound()
        return super().get_object()
