"""One describer: the initiative page, the API's `message` and the weekly digest say every kind
of log entry in the same words, and in words (no stored names)."""

from __future__ import annotations

import ast
import datetime
import html
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from gates.describing import describe
from initiatives.activity import activity_log
from initiatives.models import Activity, Target
from notifications.services import _render_digest

pytestmark = pytest.mark.django_db

APPS = ["core", "teams", "initiatives", "gates", "collaboration", "compliance", "notifications"]
APPS += ["reports", "portfolio_import", "departures", "apiauth"]


def logged_verbs() -> set[str]:
    """Every kind of entry the code writes: each `verb="..."` in the apps' source, and the
    target statuses written as `verb=f"target.{status}"`."""
    verbs = set()
    for app in APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.keyword)
                    and node.arg == "verb"
                    and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)
                ):
                    verbs.add(node.value.value)
    verbs |= {f"target.{status}" for status in Target.Status.values}
    return verbs


# Each kind with the field, values and message its services write, where the line uses them.
SAMPLES = {
    "item.changed": {"field": "state", "before": "open", "after": "not_applicable"},
    "gate.decided": {"after": "stop", "message": "No budget this year."},
    "gate.voted": {"after": "go", "message": "Ready."},
    "initiative.changed": {"field": "status", "before": "on_hold", "after": "active"},
    "business_case.revised": {"after": ["investment_to_date", "expected_annual_value"]},
    "target.missed": {"field": "status", "after": "missed", "message": "latency_p95_ms = 876ms"},
    "target.met": {"field": "status", "after": "met", "message": "latency_p95_ms = 120ms"},
}


def test_the_code_writes_the_kinds_this_test_knows_about():
    verbs = logged_verbs()
    assert len(verbs) >= 20
    assert set(SAMPLES) <= verbs


def test_page_api_and_digest_say_every_kind_of_entry_in_the_same_words(
    client, admin_user, initiative, gate
):
    client.force_login(admin_user)
    for verb in sorted(logged_verbs()):
        entry = activity_log(
            actor=admin_user, initiative=initiative, verb=verb, obj=gate, **SAMPLES.get(verb, {})
        )
        words = describe(entry)
        assert "_" not in words and verb not in words, (verb, words)

        page = client.get(f"/initiatives/{initiative.key}/").content.decode()
        assert words in html.unescape(page), (verb, words)

        api = client.get("/api/v1/activity/", {"initiative": initiative.key}).json()
        assert api["results"][0]["message"] == words, verb

    # The digest lists the targets missed in the week, in the same words.
    _, text, body = _render_digest(now=timezone.now() + datetime.timedelta(minutes=1))
    missed = Activity.objects.filter(verb="target.missed").first()
    assert describe(missed) in text
    assert html.escape(describe(missed), quote=False) in body
