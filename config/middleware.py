"""Turn a lost database connection into a clear 503 instead of a 500."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
MESSAGE = "Tollgate cannot reach its database right now. Nothing was lost; try again shortly."


class DatabaseUnavailableMiddleware:
    """While PostgreSQL is down (or restarting), answer 503 with Retry-After.

    Django reconnects on the next request by itself, so service resumes without a
    restart once the database is back.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("Database unavailable for %s %s", request.method, request.path, exc_info=True)
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {"code": "service_unavailable", "message": MESSAGE, "errors": {}}, status=503
            )
        else:
            response = HttpResponse(
                f"<!doctype html><title>Tollgate is unavailable</title><h1>Temporarily "
                f"unavailable</h1><p>{MESSAGE}</p>",
                status=503,
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
