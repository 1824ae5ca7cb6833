"""Everything under /api/ answers in the API's error shape, whoever produced the error."""

from __future__ import annotations

import logging

from django.http import JsonResponse

from apiauth.errors import error_body
from core.views import csrf_failure as core_csrf_failure

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
# Codes and messages for errors raised before or outside the API's views: Django's
# 404/405/500 pages, the CSRF check, CommonMiddleware, a view that fails unexpectedly.
GENERIC = {
    400: ("bad_request", "The request could not be read."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("permission_denied", "You may not do this."),
    404: ("not_found", "No such API endpoint."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("payload_too_large", "The request body is too large."),
    500: ("server_error", "Something went wrong on our side; the error was logged."),
}
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Location")


def is_api_path(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _is_json(response) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip() == "application/json"


class ApiErrorShapeMiddleware:
    """An error answer under /api/ that is not JSON becomes {"code", "message", "errors"}.

    The API's views answer in that shape themselves (apiauth.errors.exception_handler);
    this catches the rest: the CSRF check before a view, Django's 404 and 500 pages,
    method checks of plain views. It sits outermost, so it also sees the 500 page
    Django renders for an unhandled exception anywhere below it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_api_path(request) and response.status_code >= 400 and not _is_json(response):
            return self.reshape(response)
        return response

    @staticmethod
    def reshape(response):
        status = response.status_code
        code, message = GENERIC.get(status, GENERIC[500] if status >= 500 else GENERIC[400])
        shaped = JsonResponse(error_body(code, message), status=status)
        for name in KEPT_HEADERS:
            if name in response:
                shaped[name] = response[name]
        return shaped


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the API's shape under /api/, Django's page elsewhere."""
    if is_api_path(request):
        return JsonResponse(
            error_body(
                "csrf_failed",
                "CSRF verification failed. Integrations authenticate with "
                "'Authorization: Bearer <token>'; browser sessions send the CSRF token.",
            ),
            status=403,
        )
    return core_csrf_failure(request, reason=reason)
