"""No view reads a POST field by hand: writes go through a form of `core.forms`.

A field read with `request.POST.get(...)` is neither bounded nor validated: the token
page cut a 101-character name to 100 without a word, an unknown email preference was
skipped under "Saved.", and a confirmation without its revision confirmed whatever
waited. The views are found by walking every local app, so a new one is covered.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

# The one field read by hand on purpose: where to go back to, checked by
# url_has_allowed_host_and_scheme before use.
ALLOWED_FIELDS = {"next"}


def _view_modules():
    base = Path(settings.BASE_DIR).resolve()
    for config in apps.get_app_configs():
        root = Path(config.path).resolve()
        # Tollgate's own apps: under the project, not in a virtualenv kept inside it.
        if base not in root.parents or "site-packages" in root.parts:
            continue
        yield from sorted(root.rglob("views*.py"))
        yield from sorted(root.glob("*/views*.py"))


def _hand_reads(tree: ast.AST):
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.Subscript):
            target, key = node.value, node.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"get", "getlist", "__getitem__"}
        ):
            target, key = node.func.value, (node.args[0] if node.args else None)
        if (
            isinstance(target, ast.Attribute)
            and target.attr == "POST"
            and not (isinstance(key, ast.Constant) and key.value in ALLOWED_FIELDS)
        ):
            yield node.lineno


def test_views_are_found():
    assert len(set(_view_modules())) >= 8


def test_no_view_reads_a_post_field_by_hand():
    found = []
    for path in set(_view_modules()):
        for line in _hand_reads(ast.parse(path.read_text(), str(path))):
            found.append(f"{path.relative_to(settings.BASE_DIR)}:{line}")
    assert not found, "read these through a form (core.forms.BoundedForm): " + ", ".join(
        sorted(found)
    )
