"""/healthz: database and broker status for load balancers and compose healthchecks."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _database_health() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("Health check: database unreachable", exc_info=True)
        # The class name only: the message may carry host names or credentials.
        return {"ok": False, "vendor": connection.vendor, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor}


def _broker_health() -> dict:
    url = settings.REDIS_URL
    if not url:
        # No broker configured: tasks run in-process, so there is nothing to check.
        return {"ok": None, "url_configured": False}
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except Exception as exc:
        logger.warning("Health check: broker unreachable", exc_info=True)
        return {"ok": False, "url_configured": True, "error": type(exc).__name__}
    finally:
        client.close()
    return {"ok": True, "url_configured": True}


@never_cache
@require_GET
def healthz(request):
    """Liveness for load balancers: 503 only when the database is down.

    A broker outage delays reminders and webhooks but the web app keeps
    serving, so it reports "degraded" with a 200.
    """
    database = _database_health()
    broker = _broker_health()
    healthy = database["ok"] and broker["ok"] is not False
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "database": database, "broker": broker},
        status=200 if database["ok"] else 503,
    )
