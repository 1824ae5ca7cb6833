from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.health import healthz
from core.views import favicon
from initiatives import converters  # noqa: F401  (registers <initiative_key:…>)
from reports.views import initiative_brief
from teams.forms import BoundedPasswordChangeForm, BoundedSetPasswordForm, SignInForm
from teams.password_reset import password_reset

urlpatterns = [
    # Before the initiatives include, which owns the rest of /initiatives/<key>/.
    path("initiatives/<initiative_key:key>/brief/", initiative_brief, name="initiative-brief"),
    path("", include("initiatives.urls")),
    path("", include("gates.urls")),
    path("", include("collaboration.urls")),
    path("", include("compliance.urls")),
    # Django's account views (the paths and names of django.contrib.auth.urls), each with a
    # bounded form; the password reset's form also throttles the emails.
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=SignInForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(form_class=BoundedPasswordChangeForm),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password_reset/", password_reset, name="password_reset"),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=BoundedSetPasswordForm),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("inbox/", include("notifications.urls")),
    path("dashboard/", include("reports.urls")),
    path("import/", include("portfolio_import.urls")),
    path("", include("departures.urls")),
    path("", include("teams.urls")),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("account/", include("apiauth.urls")),
    path("api/v1/", include("apiauth.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

if settings.OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))
