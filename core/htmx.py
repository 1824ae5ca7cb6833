"""How pages answer htmx: one question, one way to render, one header, one middleware.

A page and its fragments are one template with named partials. A request that swaps a part
of a page gets the partial; every other request (a plain one, a boosted link or form, or
htmx restoring history after a cache miss) gets the whole page. Every answer says
`Vary: HX-Request` (HtmxPagesMiddleware), so no cache hands a fragment to Back.

History: htmx keeps no snapshots of pages (HTMX_CONFIG, rendered by base.html). Back or
Forward to an address a filter wrote reloads that address from the server, which renders the
page and its filter form from the query; filter forms say `autocomplete="off"`, so the
browser does not put back what the form held before.

Failed htmx requests are shown by one script for every page: static/js/htmx-errors.js.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseRedirectBase
from django.shortcuts import render, resolve_url
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.html import escape

HX_REQUEST = "HX-Request"

# htmx's settings for every page (the <meta name="htmx-config"> of base.html).
HTMX_CONFIG = {
    # No inline styles: the Content-Security-Policy allows none.
    "includeIndicatorStyles": False,
    # No snapshots of pages in sessionStorage: a snapshot holds the DOM without the state of
    # its form controls and restores under whatever address htmx last recorded.
    "historyCacheSize": 0,
    # Back or Forward to an address htmx wrote: load the whole page from the server...
    "refreshOnHistoryMiss": True,
    # ...and should htmx ever ask for it itself, as a page, not as a fragment.
    "historyRestoreAsHxRequest": False,
}


def htmx_config_meta() -> str:
    """The <meta> element that configures htmx on every page."""
    return f'<meta name="htmx-config" content="{escape(json.dumps(HTMX_CONFIG))}">'


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


def sign_in_page_wide(request: HttpRequest) -> HttpResponse:
    """For an htmx request that needs a sign-in: take the whole browser to the sign-in page,
    coming back to the page the person was on (HX-Current-URL), not to the fragment's URL."""
    page = request.htmx.current_url_abs_path if getattr(request, "htmx", None) else None
    login = resolve_url(settings.LOGIN_URL)
    response = HttpResponse(status=200)
    response["HX-Redirect"] = f"{login}?{urlencode({'next': page or '/'})}"
    add_never_cache_headers(response)
    return response


def _is_sign_in_redirect(response: HttpResponse) -> bool:
    if not isinstance(response, HttpResponseRedirectBase):
        return False
    return urlsplit(response["Location"]).path == urlsplit(resolve_url(settings.LOGIN_URL)).path


class HtmxPagesMiddleware:
    """What every page does for htmx, in one place.

    - Every answer varies on HX-Request, so a browser or proxy cache never gives the answer
      to an htmx request for an address to Back, Forward or a plain visit of that address.
    - An htmx request (GET or POST) that is sent to the sign-in page (a session expired, a
      sign-out in another tab) takes the whole browser there with `next` = the page, instead
      of swapping the sign-in form into a part of the page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "htmx", None) and _is_sign_in_redirect(response):
            response = sign_in_page_wide(request)
        return vary_on_htmx(response)
