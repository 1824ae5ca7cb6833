from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    """EU AI Act risk classification of initiatives and the obligations it puts on their gates."""

    name = "compliance"
    verbose_name = "AI Act compliance"

    def ready(self) -> None:
        # Gates ask whoever registered, without knowing this app: what a gate gets as it
        # opens, and whether a gate may be passed.
        from compliance import selectors, services
        from gates import guards, openings

        openings.register(services.obligations_on_gates_opened)
        guards.register(selectors.prohibited_refusal)
