"""How pages answer htmx: one question, one way to render, one header.

A page and its fragments are one template with named partials. A request that swaps a part
of a page gets the partial; every other request (a plain one, a boosted link or form, or
htmx restoring history after a cache miss) gets the whole page. Whatever answer can differ
with the HX-Request header says so in `Vary`, so no cache hands a fragment to Back.

Failed htmx requests are shown by one script for every page: static/js/htmx-errors.js.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

HX_REQUEST = "HX-Request"


def is_partial_request(request: HttpRequest) -> bool:
    """Does this request swap part of a page (htmx, not boosted, not a history restore)?"""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def vary_on_htmx(response: HttpResponse) -> HttpResponse:
    """Mark a response that depends on whether htmx asked for it; returns the response."""
    patch_vary_headers(response, (HX_REQUEST,))
    return response


def template_for(request: HttpRequest, template: str, partial: str) -> str:
    """`template`, or its named `partial` ("template#partial") for a partial request."""
    return f"{template}#{partial}" if is_partial_request(request) else template


def render_page_or_partial(
    request: HttpRequest,
    template: str,
    partial: str,
    context: dict | None = None,
    *,
    status: int | None = None,
) -> HttpResponse:
    """Render the page, or its `partial` for a partial request, with `Vary: HX-Request`."""
    response = render(request, template_for(request, template, partial), context, status=status)
    return vary_on_htmx(response)


def apply_service_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError next to the form's fields (or on top when unknown)."""
    if hasattr(error, "error_dict"):
        for field_name, errors in error.message_dict.items():
            form.add_error(field_name if field_name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
