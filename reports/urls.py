from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/portfolio.csv", views.portfolio_csv, name="portfolio-csv"),
    path("export/gates.csv", views.gates_csv, name="gates-csv"),
    path("export/ai-register.csv", views.ai_register_csv, name="ai-register-csv"),
    path("export/ai-register.json", views.ai_register_json, name="ai-register-json"),
]
