"""The data migrations load the built-in frameworks and the portfolio-role groups."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from initiatives.models import ChecklistItemTemplate, Framework, Stage
from teams.roles import PortfolioRole

pytestmark = pytest.mark.django_db

builtin_frameworks = importlib.import_module("initiatives.migrations.0002_builtin_frameworks")


def stages_of(slug: str) -> list[Stage]:
    return list(Stage.objects.filter(framework__slug=slug).order_by("order"))


def test_ai_maturity_is_the_default_framework():
    assert Framework.default().slug == "ai-maturity"
    assert list(Framework.objects.filter(is_default=True).values_list("slug", flat=True)) == [
        "ai-maturity"
    ]


def test_ai_maturity_has_four_stages_with_their_durations():
    stages = stages_of("ai-maturity")
    assert [(s.key, s.name, s.min_weeks, s.max_weeks) for s in stages] == [
        ("poc", "Proof of concept", 4, 8),
        ("mvp", "MVP", 8, 16),
        ("production", "Production", 4, 8),
        ("scale", "Scale", 0, None),
    ]
    assert [s.has_exit_gate for s in stages] == [True, True, True, False]
    assert stages[-1].checklist_templates.count() == 0
    assert stages[-1].next_stage() is None


def test_ai_maturity_recommended_roles_grow_with_each_stage():
    poc, mvp, production, scale = stages_of("ai-maturity")
    assert poc.recommended_roles == ["ml_engineer", "product_manager"]
    assert set(mvp.recommended_roles) - set(poc.recommended_roles) == {
        "software_engineer",
        "ux_designer",
    }
    assert set(production.recommended_roles) - set(mvp.recommended_roles) == {
        "data_engineer",
        "mlops_engineer",
    }
    assert set(scale.recommended_roles) - set(production.recommended_roles) == {"platform_engineer"}
    for stage in (poc, mvp, production, scale):
        stage.clean()  # every role is a known StageRole


@pytest.mark.parametrize(
    ("stage_key", "required", "metrics"),
    [
        # required flags in template order; metric links by order
        ("poc", [True] * 6 + [False], {1: "accuracy"}),
        ("mvp", [True] * 7, {3: "task_success_rate"}),
        ("production", [True] * 6 + [False], {1: "uptime", 3: "drift_psi", 5: "cost_per_task"}),
    ],
)
def test_ai_maturity_exit_gate_templates(stage_key, required, metrics):
    templates = list(
        ChecklistItemTemplate.objects.filter(
            stage__framework__slug="ai-maturity", stage__key=stage_key
        ).order_by("order")
    )
    assert len(templates) == 7
    assert [t.order for t in templates] == list(range(1, 8))
    assert [t.required for t in templates] == required
    assert {t.order: t.metric_key for t in templates if t.metric_key} == metrics
    assert all(t.text for t in templates)


def test_ai_maturity_template_texts_follow_the_design():
    texts = list(
        ChecklistItemTemplate.objects.filter(stage__framework__slug="ai-maturity")
        .order_by("stage__order", "order")
        .values_list("text", flat=True)
    )
    assert texts[0] == "Minimum viable accuracy reached on representative data"
    assert texts[6] == "Evaluation set of 50+ representative tasks scored automatically"
    assert texts[7] == "User feedback confirms value against metrics set before launch"
    assert texts[14] == "Service level met for 30+ consecutive days"
    assert texts[20] == "Access control and compliance review complete"


def test_phased_rollout_has_five_stages_and_no_exit_gate_in_the_last():
    stages = stages_of("phased-rollout")
    assert [(s.name, s.min_weeks, s.max_weeks) for s in stages] == [
        ("Production-minded PoC", 3, 4),
        ("MVP build", 6, 8),
        ("Pilot", 6, 8),
        ("Hardening", 6, 8),
        ("Full rollout", 6, 8),
    ]
    assert [s.has_exit_gate for s in stages] == [True, True, True, True, False]
    assert all(s.checklist_templates.exists() for s in stages[:-1])
    assert not stages[-1].checklist_templates.exists()
    assert not Framework.objects.get(slug="phased-rollout").is_default
    for stage in stages:
        stage.clean()


def test_loading_the_frameworks_again_changes_nothing():
    before = (
        Framework.objects.count(),
        Stage.objects.count(),
        ChecklistItemTemplate.objects.count(),
    )
    builtin_frameworks.load(apps, None)
    after = (
        Framework.objects.count(),
        Stage.objects.count(),
        ChecklistItemTemplate.objects.count(),
    )
    assert after == before == (2, 9, 21 + 18)


def test_the_six_portfolio_role_groups_exist():
    names = set(Group.objects.values_list("name", flat=True))
    assert set(PortfolioRole.values) <= names
    assert set(PortfolioRole.values) == {
        "portfolio_admin",
        "executive",
        "product_manager",
        "contributor",
        "viewer",
        "compliance",
    }
