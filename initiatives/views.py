import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Prefetch, Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from initiatives.models import Initiative, Membership
from teams.roles import StageRole

logger = logging.getLogger(__name__)

LIST_PAGE_SIZE = 50
TIMELINE_LENGTH = 20


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


def _describe_activity(activity) -> str:
    """One readable line for the timeline, from the entry's message or its verb."""
    if activity.message:
        return activity.message
    subject = activity.object_repr
    if activity.field:
        field = activity.field.replace("_", " ")
        if _is_short(activity.before) and _is_short(activity.after):
            before, after = activity.before or "—", activity.after or "—"
            return f"changed {field} of {subject}: {before} → {after}"
        return f"changed {field} of {subject}"
    noun, _, action = activity.verb.partition(".")
    if not action:
        return f"{activity.verb} {subject}"
    return f"{action.replace('_', ' ')} {noun.replace('_', ' ')} {subject}"


def _is_short(value) -> bool:
    return value is None or (isinstance(value, str | int | float) and len(str(value)) <= 40)


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


@login_required
@require_GET
def initiative_list(request):
    query = request.GET.get("q", "").strip()
    initiatives = (
        Initiative.objects.visible_to(request.user)
        .select_related("team", "owner", "stage", "framework")
        .order_by("pk")
    )
    if query:
        initiatives = initiatives.filter(Q(key__icontains=query) | Q(name__icontains=query))
    page = Paginator(initiatives, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    template = "initiatives/list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, {"page": page, "query": query})


@login_required
@require_GET
def initiative_detail(request, key):
    initiative = get_object_or_404(
        Initiative.objects.visible_to(request.user)
        .select_related(
            "team", "owner", "sponsor", "framework", "stage__framework", "business_case"
        )
        .prefetch_related(
            "tags",
            "targets",
            Prefetch("memberships", queryset=Membership.objects.select_related("user")),
        ),
        key=key,
    )
    # Through the reverse relation, so initiatives does not import the gates app.
    gate = (
        initiative.gates.filter(stage_id=initiative.stage_id)
        .select_related("decided_by")
        .prefetch_related("items", "gatekeepers__user")
        .first()
    )
    memberships = list(initiative.memberships.all())
    activities = list(initiative.activities.select_related("actor")[:TIMELINE_LENGTH])
    for activity in activities:
        activity.description = _describe_activity(activity)
    role_labels = dict(StageRole.choices)
    context = {
        "initiative": initiative,
        "gate": gate,
        "readiness": gate.readiness_counts() if gate else None,
        "business_case": getattr(initiative, "business_case", None),
        "memberships": memberships,
        "composition_gap": [
            role_labels.get(role, role) for role in initiative.composition_gap(memberships)
        ],
        "activities": activities,
    }
    return render(request, "initiatives/detail.html", context)
