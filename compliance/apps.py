from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    """EU AI Act risk classification of initiatives and the obligations it puts on their gates."""

    name = "compliance"
    verbose_name = "AI Act compliance"
