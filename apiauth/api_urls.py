"""/api/v1/: one router made of every app's API routes, with a browsable root."""

from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.routers import DefaultRouter

from collaboration.api.urls import router as collaboration_router
from compliance.api.urls import router as compliance_router
from gates.api.urls import router as gates_router
from initiatives.api.urls import router as initiatives_router
from portfolio_import.api.urls import router as import_router
from teams.api.urls import router as teams_router

router = DefaultRouter()
for app_router in (
    initiatives_router,
    gates_router,
    collaboration_router,
    compliance_router,
    teams_router,
    import_router,
):
    router.registry.extend(app_router.registry)


@csrf_exempt  # answers 404 to every method; it changes nothing, so a token POST gets it too
def api_not_found(request, *args, **kwargs):
    """Unknown paths under /api/v1/ answer in the API's error shape, not an HTML page."""
    from django.http import JsonResponse

    from apiauth.errors import error_body

    return JsonResponse(error_body("not_found", "No such API endpoint."), status=404)


urlpatterns = [*router.urls, re_path(r"^.*$", api_not_found)]
