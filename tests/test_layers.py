"""Models, services, selectors and policies depend one way: on their own app and the apps below.

Pages, the API, the admin, tasks and commands may compose any app; the rules they call may not
reach up. The order is one list: a new app is one line in LAYERS.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

# Lowest first. Apps on one line do not import each other.
LAYERS = [
    ["core"],  # what every app shares: the event registry, web, HTMX and query helpers
    ["apiauth"],  # infrastructure: API tokens, idempotency, webhooks; knows no domain rule
    ["teams"],
    ["initiatives"],
    ["gates"],
    # comments, mentions, evidence files and watching; EU AI Act classification and the
    # obligations it puts on gates (through the seams gates offers: openings, guards)
    ["collaboration", "compliance"],
    ["notifications", "reports", "portfolio_import", "departures"],
    ["demo"],  # the demo and benchmark data, loaded through portfolio_import
]
# The modules that compose apps and so may import any of them: pages, forms, the API and its
# plumbing (error shape, pagination, routing), the admin, middleware, tasks and commands. Every
# other module (models, services, selectors, policies, webhooks, the activity log, ...) is a
# rule and is checked, so a new module is checked unless it says it composes.
COMPOSING = {
    "admin",
    "api",
    "api_urls",
    "apps",
    "errors",
    "filters",
    "forms",
    "management",
    "middleware",
    "migrations",
    "pages",
    "pagination",
    "serializers",
    "tasks",
    "templatetags",
    "urls",
    "views",
}
# Apps every one of whose modules is checked: the bottom of the house imports nothing above.
EVERY_MODULE = {"core"}

BASE_DIR = Path(settings.BASE_DIR)
LAYER_OF = {app: index for index, layer in enumerate(LAYERS) for app in layer}


def local_apps() -> list[str]:
    """Tollgate's own apps: the top-level packages of this repository."""
    return sorted(
        config.name
        for config in apps.get_app_configs()
        if Path(config.path).resolve().parent == BASE_DIR.resolve()
    )


def checked_modules(app: str) -> list[Path]:
    root = BASE_DIR / app
    modules = sorted(path for path in root.rglob("*.py") if "migrations" not in path.parts)
    if app in EVERY_MODULE:
        return modules
    return [
        path
        for path in modules
        if not COMPOSING & set(path.relative_to(root).with_suffix("").parts)
    ]


def imported_apps(source: str) -> list[tuple[int, str]]:
    """(line, app) for every absolute import of a module, wherever it stands in the file,
    and for every `apps.get_model("app", ...)`, which is an import by another name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get_model"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value.split(".")[0]))
    return found


def reach_ups(app: str, source: str) -> list[str]:
    """What in `source`, a module of `app`, imports an app at or above the app's own layer."""
    own = LAYER_OF[app]
    return [
        f"line {line}: imports {other}"
        for line, other in imported_apps(source)
        if other != app and other in LAYER_OF and LAYER_OF[other] >= own
    ]


def test_every_app_has_a_layer():
    assert [app for app in local_apps() if app not in LAYER_OF] == []


@pytest.mark.parametrize("app", [app for layer in LAYERS for app in layer])
def test_rules_import_only_from_the_apps_below(app):
    problems = {
        str(path.relative_to(BASE_DIR)): reach_ups(app, path.read_text())
        for path in checked_modules(app)
    }
    assert {path: found for path, found in problems.items() if found} == {}


@pytest.mark.parametrize(
    ("app", "source", "expected"),
    [
        ("initiatives", "from gates.models import Gate", ["line 1: imports gates"]),
        ("initiatives", "def f():\n    import reports.selectors", ["line 2: imports reports"]),
        (
            "gates",
            'apps.get_model("notifications", "Notification")',
            ["line 1: imports notifications"],
        ),
        ("notifications", "from reports import selectors", ["line 1: imports reports"]),
        ("gates", "from initiatives.models import Initiative\nfrom teams import roles", []),
        ("gates", "from . import models\nfrom django.db import models", []),
    ],
)
def test_the_check_sees_a_reach_up_wherever_it_is_written(app, source, expected):
    assert reach_ups(app, source) == expected
