from rest_framework import permissions
from rest_framework.exceptions import ValidationError

from apiauth.models import ApiToken


class TokenScope(permissions.BasePermission):
    """A read-scoped token may only read, whatever its user may do in the browser."""

    message = "This token is read-only."

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken) or request.method in permissions.SAFE_METHODS:
            return True
        return token.scope == ApiToken.Scope.READ_WRITE


class NoNullBytes(permissions.BasePermission):
    """400 for NUL characters in the path or query string, before any view code runs.

    PostgreSQL text columns cannot hold them, so a lookup with one would fail in
    the database; request bodies are covered by DRF's CharField validator.
    """

    def has_permission(self, request, view) -> bool:
        for name, value in view.kwargs.items():
            if "\x00" in str(value):
                raise ValidationError({name: ["Null characters are not allowed."]})
        for name, values in request.query_params.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                raise ValidationError({name: ["Null characters are not allowed."]})
        return True


class NoEmptyParameters(permissions.BasePermission):
    """400 naming the parameter for `?since=` and the like, before any view code runs.

    A parameter given without a value was read as "not given": `since=` listed
    everything, `page_size=null` the default page. A client that sends a parameter
    means something by it, so an empty or repeated one is refused.
    """

    def has_permission(self, request, view) -> bool:
        for name, values in request.query_params.lists():
            if any(not value.strip() for value in values):
                raise ValidationError({name: ["Give a value, or leave the parameter out."]})
            if len(values) > 1:
                raise ValidationError({name: ["Give this parameter once."]})
        return True
