"""The portfolio's view of the AI Act: dashboard section, board filter and the AI register."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gates.models import Gate
from tests.compliance.conftest import HIGH_RISK, PROHIBITED
from tests.factories import InitiativeFactory
from tests.gates.helpers import go_with_override

pytestmark = pytest.mark.django_db

# Provider and deployer of a GPAI model with systemic risk in employment, with every
# Article 50 case: the most obligations an answer set can owe.
EVERYTHING = {
    "role": "both",
    "annex_iii_area": "employment",
    "transparency": ["interacts_with_people", "generates_content", "emotion_or_biometric"],
    "gpai_model": True,
    "gpai_systemic_risk": True,
    "public_body": True,
}


def text_of(response) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def portfolio(team, owner, executive, initiative):
    """`initiative` in PoC, a second one advanced to MVP (unclassified), a third prohibited."""
    in_mvp = InitiativeFactory(name="Claims triage", team=team, owner=owner, sponsor=executive)
    go_with_override(in_mvp)
    banned = InitiativeFactory(name="Citizen scoring", team=team, owner=owner, sponsor=executive)
    return {"in_mvp": in_mvp, "banned": banned}


def test_the_dashboard_shows_tiers_due_obligations_and_who_is_unclassified(
    client, admin_user, initiative, portfolio, classify
):
    classify(initiative, HIGH_RISK)
    classify(portfolio["banned"], PROHIBITED)
    client.force_login(admin_user)
    page = client.get(reverse("reports:dashboard")).content.decode()
    section = page[page.index('id="ai-act"') :]
    assert 'data-tier="high_risk"' in section and 'data-tier="unclassified"' in section
    # Prohibited initiatives are flagged.
    assert "cannot pass any gate" in section and portfolio["banned"].key in section
    # The high-risk one: its soonest open obligation (AI literacy, 2 Feb 2025) first.
    due = section[section.index('id="ai-act-due"') : section.index('id="ai-act-unclassified"')]
    assert initiative.key in due and "2 Feb 2025" in due
    # Past PoC and not classified: flagged; the PoC one is not listed there.
    unclassified = section[section.index('id="ai-act-unclassified"') :]
    assert portfolio["in_mvp"].key in unclassified
    assert "unclassified" in unclassified


def test_the_board_filters_by_tier_and_shows_it(
    client, admin_user, initiative, portfolio, classify
):
    classify(initiative, HIGH_RISK)
    classify(portfolio["banned"], PROHIBITED)
    client.force_login(admin_user)
    board = client.get(reverse("initiatives:list"), {"ai_tier": "prohibited"}).content.decode()
    assert portfolio["banned"].key in board and initiative.key not in board
    assert 'class="tier tier--prohibited"' in board
    board = client.get(reverse("initiatives:list"), {"ai_tier": "unclassified"}).content.decode()
    assert portfolio["in_mvp"].key in board and initiative.key not in board


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url_name", ["reports:dashboard", "initiatives:list"])
def test_board_and_dashboard_cost_the_same_whatever_the_number_of_obligations(
    client, admin_user, team, owner, executive, classify, url_name
):
    # Two portfolios of three high-risk initiatives: deployers owing two obligations each,
    # and providers and deployers owing every obligation an answer set can (some on
    # gates, some not yet).
    def measure(answers) -> int:
        initiatives = [
            InitiativeFactory(name=f"Case {index}", team=team, owner=owner, sponsor=executive)
            for index in range(3)
        ]
        for initiative in initiatives:
            classify(initiative, answers)
        client.force_login(admin_user)
        client.get(reverse(url_name))  # warm the session
        cache.clear()  # measure the computation, not the cached copy
        count = _queries(client, reverse(url_name))
        for initiative in initiatives:
            Gate.objects.filter(initiative=initiative).delete()
            initiative.delete()
        return count

    few = measure({"role": "deployer", "annex_iii_area": "employment"})
    many = measure(EVERYTHING)
    assert few == many


def test_the_ai_register_lists_every_initiative_with_its_classification(
    client, viewer, initiative, portfolio, classify
):
    classify(initiative, HIGH_RISK)
    client.force_login(viewer)
    response = client.get(reverse("reports:ai-register-csv"))
    assert response["Content-Disposition"].startswith('attachment; filename="tollgate-ai-register')
    rows = list(csv.DictReader(io.StringIO(text_of(response))))
    by_key = {row["key"]: row for row in rows}
    assert set(by_key) == {initiative.key, portfolio["in_mvp"].key, portfolio["banned"].key}
    row = by_key[initiative.key]
    assert (row["tier"], row["role"], row["flags"]) == ("high_risk", "provider", "annex_iii")
    assert (row["obligations_open"], row["obligations_done"]) == ("13", "0")
    assert row["owner"] and row["team"] == "Customer Support AI" and row["next_review_on"]
    assert by_key[portfolio["in_mvp"].key]["tier"] == "unclassified"

    document = json.loads(text_of(client.get(reverse("reports:ai-register-json"))))
    assert [entry["key"] for entry in document] == [row["key"] for row in rows]
    assert document[0].keys() == rows[0].keys()


def test_the_ai_register_shows_only_what_the_reader_may_see(
    client, other_pm, initiative, other_initiative
):
    client.force_login(other_pm)
    rows = list(
        csv.DictReader(io.StringIO(text_of(client.get(reverse("reports:ai-register-csv")))))
    )
    assert [row["key"] for row in rows] == [other_initiative.key]


def test_register_query_count_does_not_grow_with_initiatives_or_obligations(
    client, admin_user, team, owner, executive, initiative, classify
):
    client.force_login(admin_user)
    url = reverse("reports:ai-register-csv")
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            text_of(client.get(url))
        return len(queries)

    before = count()
    for index in range(3):
        other = InitiativeFactory(name=f"More {index}", team=team, owner=owner, sponsor=executive)
        classify(other, EVERYTHING)
    assert count() == before


def test_the_ai_register_json_gives_each_value_its_type(
    client, viewer, initiative, portfolio, classify
):
    """Counts are numbers, flags a list, dates ISO 8601, and what an unclassified initiative
    lacks is null: no value of any entry is a number, a boolean or a date written as text."""
    import datetime

    classify(initiative, HIGH_RISK)
    client.force_login(viewer)
    document = json.loads(text_of(client.get(reverse("reports:ai-register-json"))))
    by_key = {entry["key"]: entry for entry in document}
    entry = by_key[initiative.key]
    assert (entry["obligations_open"], entry["obligations_done"]) == (13, 0)
    assert entry["flags"] == ["annex_iii"]
    datetime.date.fromisoformat(entry["next_review_on"])
    datetime.datetime.fromisoformat(entry["last_classified_at"])
    unclassified = by_key[portfolio["in_mvp"].key]
    assert unclassified["obligations_open"] is None and unclassified["next_review_on"] is None
    assert unclassified["flags"] == [] and unclassified["role"] is None

    dated = {"last_classified_at", "next_review_on"}
    for each in document:
        for column, value in each.items():
            if not isinstance(value, str):
                continue
            assert value.strip(), (column, "empty text: null instead")
            assert value.lower() not in {"true", "false", "none", "null"}, (column, value)
            try:
                float(value)
            except ValueError:
                pass
            else:
                raise AssertionError(f"{column} is a number written as text: {value!r}")
            if column not in dated:
                with pytest.raises(ValueError):
                    datetime.date.fromisoformat(value[:10])


def test_the_ai_register_csv_writes_the_typed_values_as_before(
    client, viewer, initiative, portfolio, classify
):
    classify(initiative, HIGH_RISK)
    client.force_login(viewer)
    rows = list(
        csv.DictReader(io.StringIO(text_of(client.get(reverse("reports:ai-register-csv")))))
    )
    by_key = {row["key"]: row for row in rows}
    row = by_key[initiative.key]
    datetime_text = row["last_classified_at"]
    assert len(datetime_text) == len("2026-01-01T09:00+01:00") and "T" in datetime_text
    assert len(row["next_review_on"]) == 10
    unclassified = by_key[portfolio["in_mvp"].key]
    assert [unclassified[c] for c in ("role", "flags", "obligations_open", "next_review_on")] == [
        "",
        "",
        "",
        "",
    ]
