from django.apps import AppConfig


class CollaborationConfig(AppConfig):
    """Comments, mentions, evidence files and watching, on top of initiatives and gates."""

    name = "collaboration"
    verbose_name = "Collaboration"

    def ready(self) -> None:
        # A decision's snapshot lists the evidence files it relied on; gates asks
        # whoever registered, without knowing this app.
        from collaboration import evidence
        from gates import snapshots

        snapshots.register(evidence.snapshot_evidence)
