from django.apps import AppConfig


class PortfolioImportConfig(AppConfig):
    name = "portfolio_import"
    verbose_name = "Portfolio import"
