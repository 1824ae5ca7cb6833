from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.health import healthz
from initiatives import converters  # noqa: F401  (registers <initiative_key:…>)
from reports.views import initiative_brief
from teams.forms import SignInForm

urlpatterns = [
    # Before the initiatives include, which owns the rest of /initiatives/<key>/.
    path("initiatives/<initiative_key:key>/brief/", initiative_brief, name="initiative-brief"),
    path("", include("initiatives.urls")),
    path("", include("gates.urls")),
    path("", include("collaboration.urls")),
    # Before Django's auth URLs: the sign-in form with bounded fields.
    path("accounts/login/", LoginView.as_view(authentication_form=SignInForm), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("inbox/", include("notifications.urls")),
    path("dashboard/", include("reports.urls")),
    path("import/", include("portfolio_import.urls")),
    path("", include("teams.urls")),
    path("healthz", healthz, name="healthz"),
    path("account/", include("apiauth.urls")),
    path("api/v1/", include("apiauth.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

if settings.OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))
