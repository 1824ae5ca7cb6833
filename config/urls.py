from django.contrib import admin
from django.urls import include, path

from initiatives.views import healthz

urlpatterns = [
    path("", include("initiatives.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
