"""An initiative row that imports as it is, for tests to break one cell at a time."""

from __future__ import annotations

import pytest


@pytest.fixture
def valid_row(team, owner, executive) -> dict:
    return {
        "external_id": "UC-1",
        "name": "Contract clause extraction",
        "summary": "Pulls renewal and liability clauses out of supplier contracts.",
        "team": team.slug,
        "owner": owner.username,
        "sponsor": executive.email,
        "framework": "ai-maturity",
        "stage": "mvp",
        "stage_entered_on": "2026-09-01",
        "status": "active",
        "maturity": "1",
        "tags": "nlp, Legal",
        "expected_annual_value": "250,000",
        "investment_to_date": "40000",
        "monthly_volume": "1200",
        "targets": "accuracy >= 90; latency_p95_ms <= 800",
    }
