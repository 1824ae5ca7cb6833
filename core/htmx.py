"""How pages answer HTMX: the whole page, or one named partial of its template."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def template_for(request, template: str, name: str) -> str:
    """The page, or its named partial for an HTMX request (not boosted, not a history restore)."""
    htmx = request.htmx
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        return f"{template}#{name}"
    return template


def apply_service_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError next to the form's fields (or on top when unknown)."""
    if hasattr(error, "error_dict"):
        for field_name, errors in error.message_dict.items():
            form.add_error(field_name if field_name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
