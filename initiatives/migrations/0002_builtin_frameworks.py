"""The two built-in frameworks. Admins may edit them afterwards; gates copy from them."""

from django.db import migrations

R = "required"
REC = "recommended"

AI_MATURITY = {
    "slug": "ai-maturity",
    "name": "AI product maturity",
    "description": "Proof of concept, MVP, production and scale, each with an exit gate.",
    "is_default": True,
    "stages": [
        {
            "key": "poc",
            "name": "Proof of concept",
            "goal": "Prove technical feasibility.",
            "weeks": (4, 8),
            "roles": ["ml_engineer", "product_manager"],
            "items": [
                ("Minimum viable accuracy reached on representative data", R, "accuracy"),
                ("Approach shown viable at projected production scale", R, ""),
                ("Data availability and quality confirmed for production", R, ""),
                ("Business case updated with measured PoC results", R, ""),
                ("Production bar written: task success, latency, cost per task, safety", R, ""),
                ("MVP scope, timeline and staffing agreed", R, ""),
                ("Evaluation set of 50+ representative tasks scored automatically", REC, ""),
            ],
        },
        {
            "key": "mvp",
            "name": "MVP",
            "goal": "Prove users want it.",
            "weeks": (8, 16),
            "roles": ["ml_engineer", "product_manager", "software_engineer", "ux_designer"],
            "items": [
                ("User feedback confirms value against metrics set before launch", R, ""),
                ("Feedback loop feeds model improvement", R, ""),
                (
                    "Core AI features meet accuracy targets in production conditions",
                    R,
                    "task_success_rate",
                ),
                ("Production architecture planned: infrastructure, monitoring, CI/CD", R, ""),
                ("Unit economics modelled at 10x and 100x volume", R, ""),
                ("Rollback procedure written and rehearsed", R, ""),
                ("Named production owner accepted", R, ""),
            ],
        },
        {
            "key": "production",
            "name": "Production",
            "goal": "Run reliably at initial scale.",
            "weeks": (4, 8),
            "roles": [
                "ml_engineer",
                "product_manager",
                "software_engineer",
                "ux_designer",
                "data_engineer",
                "mlops_engineer",
            ],
            "items": [
                ("Service level met for 30+ consecutive days", R, "uptime"),
                ("Automated retraining runs and is validated", R, ""),
                ("Drift detection and alerting live", R, "drift_psi"),
                ("Incident runbooks written and exercised", R, ""),
                ("Cost per inference within budget at current volume", R, "cost_per_task"),
                ("Scaling plan with explicit triggers", R, ""),
                ("Access control and compliance review complete", REC, ""),
            ],
        },
        {
            "key": "scale",
            "name": "Scale",
            "goal": "Grow and optimise.",
            "weeks": (0, None),
            "roles": [
                "ml_engineer",
                "product_manager",
                "software_engineer",
                "ux_designer",
                "data_engineer",
                "mlops_engineer",
                "platform_engineer",
            ],
            "items": [],
        },
    ],
}

PHASED_ROLLOUT = {
    "slug": "phased-rollout",
    "name": "Five-phase rollout",
    "description": "A production-minded PoC, then MVP, pilot, hardening and full rollout.",
    "is_default": False,
    "stages": [
        {
            "key": "poc",
            "name": "Production-minded PoC",
            "goal": "Prove feasibility on production-like data.",
            "weeks": (3, 4),
            "roles": ["ml_engineer", "data_scientist", "product_manager", "domain_expert"],
            "items": [
                ("Production-like, messy data used", R, ""),
                ("Accuracy, latency and performance targets set", R, ""),
                ("Edge cases and failure modes tested", R, ""),
                ("Integration points mapped", R, ""),
            ],
        },
        {
            "key": "mvp-build",
            "name": "MVP build",
            "goal": "Build the smallest system that can run in production.",
            "weeks": (6, 8),
            "roles": ["ml_engineer", "product_manager", "software_engineer", "data_engineer"],
            "items": [
                ("Model packaged with versioning and rollback", R, ""),
                ("Automated data ingestion and validation", R, ""),
                ("Stable API for integrations", R, ""),
                ("Monitoring of accuracy, errors and latency", R, "latency_p95_ms"),
                ("Basic UI for the primary use case", R, ""),
            ],
        },
        {
            "key": "pilot",
            "name": "Pilot",
            "goal": "Learn from a real cohort of users.",
            "weeks": (6, 8),
            "roles": [
                "ml_engineer",
                "product_manager",
                "software_engineer",
                "ux_designer",
                "mlops_engineer",
            ],
            "items": [
                ("Pilot cohort chosen", R, ""),
                ("Expansion criteria agreed", R, ""),
                ("Structured feedback gathered", R, ""),
                ("Usage, accuracy and load measured in production", R, "accuracy"),
            ],
        },
        {
            "key": "hardening",
            "name": "Hardening",
            "goal": "Make it safe to run for everyone.",
            "weeks": (6, 8),
            "roles": [
                "ml_engineer",
                "product_manager",
                "software_engineer",
                "mlops_engineer",
                "platform_engineer",
            ],
            "items": [
                ("10x projected load tested", R, "latency_p95_ms"),
                ("Graceful degradation in place", R, ""),
                ("Security review complete", R, ""),
                ("User and admin documentation and runbooks written", R, ""),
                ("Training material ready", R, ""),
            ],
        },
        {
            "key": "full-rollout",
            "name": "Full rollout",
            "goal": "Expand to every user and track the impact.",
            "weeks": (6, 8),
            "roles": ["product_manager", "platform_engineer", "mlops_engineer", "domain_expert"],
            "items": [],
        },
    ],
}


def load(apps, schema_editor):
    Framework = apps.get_model("initiatives", "Framework")
    Stage = apps.get_model("initiatives", "Stage")
    Template = apps.get_model("initiatives", "ChecklistItemTemplate")
    for spec in (AI_MATURITY, PHASED_ROLLOUT):
        framework, _ = Framework.objects.update_or_create(
            slug=spec["slug"],
            defaults={
                "name": spec["name"],
                "description": spec["description"],
                "is_default": spec["is_default"],
            },
        )
        for order, stage_spec in enumerate(spec["stages"], start=1):
            min_weeks, max_weeks = stage_spec["weeks"]
            stage, _ = Stage.objects.update_or_create(
                framework=framework,
                key=stage_spec["key"],
                defaults={
                    "order": order,
                    "name": stage_spec["name"],
                    "goal": stage_spec["goal"],
                    "min_weeks": min_weeks,
                    "max_weeks": max_weeks,
                    "recommended_roles": stage_spec["roles"],
                    "has_exit_gate": bool(stage_spec["items"]),
                },
            )
            for item_order, (text, kind, metric) in enumerate(stage_spec["items"], start=1):
                Template.objects.update_or_create(
                    stage=stage,
                    order=item_order,
                    defaults={"text": text, "required": kind == R, "metric_key": metric},
                )


def unload(apps, schema_editor):
    apps.get_model("initiatives", "Framework").objects.filter(
        slug__in=[AI_MATURITY["slug"], PHASED_ROLLOUT["slug"]]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
