from django.urls import path

from . import views

app_name = "portfolio_import"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("template.xlsx", views.template_download, name="template"),
    path("export/portfolio.xlsx", views.export_download, name="export"),
    path("<int:pk>/", views.preview, name="preview"),
    path("<int:pk>/apply/", views.apply, name="apply"),
]
