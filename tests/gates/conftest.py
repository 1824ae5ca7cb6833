"""Fixtures the gate tests share, on top of the personas of tests/conftest.py."""

import pytest

from gates.services import gatekeeper_add
from tests.factories import TargetFactory


@pytest.fixture
def two_gatekeepers(gate, other_executive, admin_user):
    gatekeeper_add(gate=gate, user=other_executive, actor=admin_user)
    return gate


@pytest.fixture
def accuracy(initiative):
    """An accuracy >= 90% target; it links the PoC item 1 (metric accuracy)."""
    return TargetFactory(initiative=initiative, metric_key="accuracy", threshold=90)
