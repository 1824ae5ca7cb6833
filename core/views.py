"""Answers every app shares: the refused form (CSRF failure), the site icon."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from core.htmx import FAILURE_HEADER, STALE_PAGE, is_htmx, sign_in_page_wide


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form or htmx request whose CSRF token no longer matches: the page was opened before
    the person signed in again (or out). Development and production answer alike.

    htmx: without a session, the whole page goes to sign in; with one, a short 403 that
    static/js/htmx-errors.js shows next to the control ("reload the page"). Otherwise a page
    that says what happened and what to do.
    """
    if is_htmx(request):
        if not request.user.is_authenticated:
            return sign_in_page_wide(request)
        response = HttpResponse(
            "This page is out of date; reload it and try again.",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
        response[FAILURE_HEADER] = STALE_PAGE
        return response
    return HttpResponse(render_to_string("403_csrf.html", request=request), status=403)


@require_GET
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on pages without an icon link (the admin)."""
    icon = settings.BASE_DIR / "static" / "img" / "favicon.svg"
    return HttpResponse(icon.read_bytes(), content_type="image/svg+xml")
