"""The classifier, driven by a table of answer sets against the catalogue the migration loads.

Each row: the answers that differ from "nothing applies, provider", and the tier, flags and
obligations expected. The obligations are the catalogue's codes, so a change to the data
that changes what an answer set owes shows up here.
"""

from __future__ import annotations

import pytest

from compliance.classifier import (
    ANNEX_III_AREAS,
    PROHIBITED_PRACTICES,
    AnswerError,
    ObligationSpec,
    answers_clean,
    classify,
)
from compliance.models import Obligation

pytestmark = pytest.mark.django_db

LITERACY = {"art4-ai-literacy"}
PROHIBITED = LITERACY | {"art5-prohibited-practice"}
PROVIDER_ANNEX_III = {
    "art9-risk-management",
    "art10-data-governance",
    "art11-technical-documentation",
    "art12-record-keeping",
    "art13-instructions-for-use",
    "art14-human-oversight",
    "art15-accuracy-robustness-security",
    "art17-quality-management",
    "art43-conformity-assessment",
    "art49-registration",
    "art72-post-market-monitoring",
    "art73-serious-incidents",
}
# Annex I products are not registered in the EU database (Art. 49 covers Annex III).
PROVIDER_ANNEX_I = {f"{code}-annex-i" for code in PROVIDER_ANNEX_III - {"art49-registration"}}
GPAI = {
    "art53-model-documentation",
    "art53-downstream-information",
    "art53-copyright-policy",
    "art53-training-summary",
}


def answers(**given) -> dict:
    return answers_clean({"role": "provider", **given})


CASES = [
    # Each prohibited practice: prohibited, whatever else is true.
    *[
        (f"prohibited {practice}", {"prohibited_practice": practice}, "prohibited", [], PROHIBITED)
        for practice in PROHIBITED_PRACTICES
    ],
    (
        "prohibited even in an Annex III area with a GPAI model",
        {"prohibited_practice": "social_scoring", "annex_iii_area": "employment"},
        "prohibited",
        [],
        PROHIBITED,
    ),
    # Each Annex III area, provider: high-risk with every provider duty.
    *[
        (
            f"annex III {area}, provider",
            {"annex_iii_area": area},
            "high_risk",
            ["annex_iii"],
            LITERACY | PROVIDER_ANNEX_III,
        )
        for area in ANNEX_III_AREAS
    ],
    (
        "6(3) exception without profiling: not high-risk",
        {"annex_iii_area": "employment", "exception": "narrow_procedural"},
        "minimal",
        [],
        LITERACY,
    ),
    (
        "6(3) exception without profiling, chatbot: limited",
        {
            "annex_iii_area": "education",
            "exception": "preparatory",
            "transparency": ["interacts_with_people"],
        },
        "limited",
        ["art50_interaction"],
        LITERACY | {"art50-1-ai-interaction"},
    ),
    (
        "6(3) exception claimed, but it profiles people: high-risk",
        {"annex_iii_area": "employment", "exception": "detects_patterns", "profiles_people": True},
        "high_risk",
        ["annex_iii"],
        LITERACY | PROVIDER_ANNEX_III,
    ),
    (
        "annex I product",
        {"annex_i_product": True},
        "high_risk",
        ["annex_i"],
        LITERACY | PROVIDER_ANNEX_I,
    ),
    (
        "annex I product, deployer",
        {"annex_i_product": True, "role": "deployer"},
        "high_risk",
        ["annex_i"],
        LITERACY | {"art26-deployer-duties-annex-i"},
    ),
    # Article 50, each case, with the role it binds.
    (
        "art 50(1) chatbot provider",
        {"transparency": ["interacts_with_people"]},
        "limited",
        ["art50_interaction"],
        LITERACY | {"art50-1-ai-interaction"},
    ),
    (
        "art 50(1) chatbot deployer owes the provider's duty nothing",
        {"transparency": ["interacts_with_people"], "role": "deployer"},
        "limited",
        ["art50_interaction"],
        LITERACY,
    ),
    (
        "art 50(2) generated content",
        {"transparency": ["generates_content"]},
        "limited",
        ["art50_synthetic_content"],
        LITERACY | {"art50-2-marked-output"},
    ),
    (
        "art 50(3) emotion recognition, deployer",
        {"transparency": ["emotion_or_biometric"], "role": "deployer"},
        "limited",
        ["art50_emotion_biometric"],
        LITERACY | {"art50-3-emotion-biometric-notice"},
    ),
    (
        "art 50(4) deep fakes, deployer",
        {"transparency": ["deep_fake"], "role": "deployer"},
        "limited",
        ["art50_deep_fake"],
        LITERACY | {"art50-4-deep-fake-disclosure"},
    ),
    (
        "art 50 all cases, provider and deployer",
        {
            "transparency": [
                "interacts_with_people",
                "generates_content",
                "emotion_or_biometric",
                "deep_fake",
            ],
            "role": "both",
        },
        "limited",
        [
            "art50_interaction",
            "art50_synthetic_content",
            "art50_emotion_biometric",
            "art50_deep_fake",
        ],
        LITERACY
        | {
            "art50-1-ai-interaction",
            "art50-2-marked-output",
            "art50-3-emotion-biometric-notice",
            "art50-4-deep-fake-disclosure",
        },
    ),
    (
        "high-risk and a chatbot: both sets",
        {"annex_iii_area": "employment", "transparency": ["interacts_with_people"]},
        "high_risk",
        ["annex_iii", "art50_interaction"],
        LITERACY | PROVIDER_ANNEX_III | {"art50-1-ai-interaction"},
    ),
    # GPAI models: Chapter V duties of their provider, whatever the tier.
    ("GPAI model provider", {"gpai_model": True}, "minimal", ["gpai"], LITERACY | GPAI),
    (
        "GPAI model with systemic risk",
        {"gpai_model": True, "gpai_systemic_risk": True},
        "minimal",
        ["gpai", "gpai_systemic_risk"],
        LITERACY | GPAI | {"art55-systemic-risk"},
    ),
    (
        "GPAI model used by a deployer: no provider duties",
        {"gpai_model": True, "role": "deployer"},
        "minimal",
        ["gpai"],
        LITERACY,
    ),
    (
        "systemic risk without a GPAI model means nothing",
        {"gpai_systemic_risk": True},
        "minimal",
        [],
        LITERACY,
    ),
    # Deployer versus provider.
    (
        "employment, deployer",
        {"annex_iii_area": "employment", "role": "deployer"},
        "high_risk",
        ["annex_iii"],
        LITERACY | {"art26-deployer-duties"},
    ),
    (
        "employment, provider and deployer",
        {"annex_iii_area": "employment", "role": "both"},
        "high_risk",
        ["annex_iii"],
        LITERACY | PROVIDER_ANNEX_III | {"art26-deployer-duties"},
    ),
    # The fundamental rights impact assessment (Art. 27).
    (
        "credit scoring deployer (a private bank): FRIA",
        {
            "annex_iii_area": "essential_services",
            "essential_service_use": "credit_scoring",
            "role": "deployer",
        },
        "high_risk",
        ["annex_iii", "fria_required"],
        LITERACY | {"art26-deployer-duties", "art27-fria"},
    ),
    (
        "life insurance pricing deployer: FRIA",
        {
            "annex_iii_area": "essential_services",
            "essential_service_use": "insurance_pricing",
            "role": "deployer",
        },
        "high_risk",
        ["annex_iii", "fria_required"],
        LITERACY | {"art26-deployer-duties", "art27-fria"},
    ),
    (
        "credit scoring provider only: no FRIA",
        {"annex_iii_area": "essential_services", "essential_service_use": "credit_scoring"},
        "high_risk",
        ["annex_iii"],
        LITERACY | PROVIDER_ANNEX_III,
    ),
    (
        "public body deploying in education: FRIA",
        {"annex_iii_area": "education", "role": "deployer", "public_body": True},
        "high_risk",
        ["annex_iii", "fria_required"],
        LITERACY | {"art26-deployer-duties", "art27-fria"},
    ),
    (
        "public body deploying in critical infrastructure: no FRIA",
        {"annex_iii_area": "critical_infrastructure", "role": "deployer", "public_body": True},
        "high_risk",
        ["annex_iii"],
        LITERACY | {"art26-deployer-duties"},
    ),
    (
        "private employer deploying hiring software: no FRIA",
        {"annex_iii_area": "employment", "role": "deployer", "public_body": False},
        "high_risk",
        ["annex_iii"],
        LITERACY | {"art26-deployer-duties"},
    ),
    ("nothing applies", {}, "minimal", [], LITERACY),
]


@pytest.fixture
def catalogue():
    return [ObligationSpec.of(obligation) for obligation in Obligation.objects.all()]


def test_the_table_covers_at_least_twenty_answer_sets():
    assert len(CASES) >= 20


@pytest.mark.parametrize(
    ("given", "tier", "flags", "obligations"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_answers_give_tier_flags_and_obligations(catalogue, given, tier, flags, obligations):
    result = classify(answers(**given), catalogue)
    assert (result.tier, sorted(result.flags), set(result.obligations)) == (
        tier,
        sorted(flags),
        obligations,
    )


def test_reasons_name_the_answers_that_decided(catalogue):
    result = classify(
        answers(annex_iii_area="employment", exception="narrow_procedural", profiles_people=True),
        catalogue,
    )
    decided_by = [reason["question"] for reason in result.reasons]
    assert decided_by[:2] == ["annex_iii_area", "profiles_people"]
    assert "cannot apply" in result.reasons[1]["reason"]


def test_an_inactive_obligation_is_not_passed_as_applying(catalogue):
    # The caller passes active rows only; the function itself applies what it is given.
    without = [spec for spec in catalogue if spec.code != "art4-ai-literacy"]
    assert "art4-ai-literacy" not in classify(answers(), without).obligations


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"role": "provider", "annex_iii_area": "astrology"}, "annex_iii_area"),
        ({"role": "provider", "profiles_people": "yes"}, "profiles_people"),
        ({"role": "provider", "transparency": "deep_fake"}, "transparency"),
        ({"role": "provider", "transparency": ["telepathy"]}, "transparency"),
        ({"role": "provider", "colour": "blue"}, "colour"),
        ({}, "role"),
    ],
)
def test_answers_that_do_not_fit_are_named(given, field):
    with pytest.raises(AnswerError) as error:
        answers_clean(given)
    assert field in error.value.errors


def test_another_questionnaire_version_is_refused():
    with pytest.raises(AnswerError) as error:
        answers_clean({"role": "provider"}, version=2)
    assert "questionnaire_version" in error.value.errors
