from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/portfolio.csv", views.portfolio_csv, name="portfolio-csv"),
    path("export/gates.csv", views.gates_csv, name="gates-csv"),
]
