"""Fixtures the compliance tests share, on top of the personas of tests/conftest.py."""

import pytest

from compliance.models import COMPLIANCE_GROUP
from compliance.services import classification_confirm, classification_propose
from tests.factories import UserFactory

HIGH_RISK = {"role": "provider", "annex_iii_area": "employment"}
MINIMAL = {"role": "provider"}
PROHIBITED = {"role": "provider", "prohibited_practice": "social_scoring"}


@pytest.fixture
def compliance_officer(db):
    """Somebody with the compliance role alone: it reads the portfolio by itself."""
    return UserFactory(username="compliance", groups=[COMPLIANCE_GROUP])


@pytest.fixture
def classify(owner, compliance_officer):
    """Propose `answers` as the owner and confirm them as the compliance officer."""

    def run(initiative, answers):
        classification_propose(initiative=initiative, actor=owner, answers=answers)
        return classification_confirm(initiative=initiative, actor=compliance_officer)

    return run
