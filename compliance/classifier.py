"""The questionnaire and the one function that turns its answers into a classification.

`classify(answers, catalogue)` is pure: no database, no clock. The questionnaire is
versioned; answers are stored with the version they answer, so a later version never
re-reads old answers with new meanings. A working aid, not legal advice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from compliance.models import OBLIGATION_ROLES, Flag, Role, Tier

QUESTIONNAIRE_VERSION = 1

# Article 5(1), points (a) to (h).
PROHIBITED_PRACTICES = {
    "subliminal_manipulation": "Subliminal, manipulative or deceptive techniques that distort "
    "behaviour and cause significant harm (Art. 5(1)(a))",
    "exploiting_vulnerabilities": "Exploiting vulnerabilities of age, disability or social or "
    "economic situation (Art. 5(1)(b))",
    "social_scoring": "Social scoring that leads to unjustified or unrelated detrimental "
    "treatment (Art. 5(1)(c))",
    "crime_prediction_profiling": "Predicting a person's risk of committing a crime from "
    "profiling or personality traits alone (Art. 5(1)(d))",
    "facial_scraping": "Building facial recognition databases by untargeted scraping of "
    "images (Art. 5(1)(e))",
    "emotion_recognition_work_school": "Inferring emotions at the workplace or in education, "
    "outside medical or safety reasons (Art. 5(1)(f))",
    "biometric_categorisation_sensitive": "Biometric categorisation to infer race, political "
    "opinions, union membership, beliefs, sex life or orientation (Art. 5(1)(g))",
    "realtime_remote_biometric_id": "Real-time remote biometric identification in public "
    "spaces for law enforcement, outside the narrow exceptions (Art. 5(1)(h))",
}

# Annex III, points 1 to 8.
ANNEX_III_AREAS = {
    "biometrics": "Biometrics (Annex III, point 1)",
    "critical_infrastructure": "Critical infrastructure (Annex III, point 2)",
    "education": "Education and vocational training (Annex III, point 3)",
    "employment": "Employment, workers' management and access to self-employment "
    "(Annex III, point 4)",
    "essential_services": "Essential private and public services and benefits, including "
    "credit scoring and life or health insurance pricing (Annex III, point 5)",
    "law_enforcement": "Law enforcement (Annex III, point 6)",
    "migration": "Migration, asylum and border control (Annex III, point 7)",
    "justice_democracy": "Administration of justice and democratic processes (Annex III, point 8)",
}

# Article 6(3), points (a) to (d): an Annex III system that does none of the harm it lists.
EXCEPTIONS = {
    "narrow_procedural": "Performs a narrow procedural task (Art. 6(3)(a))",
    "improves_human_work": "Improves the result of an activity a person completed before "
    "(Art. 6(3)(b))",
    "detects_patterns": "Detects decision-making patterns without replacing or influencing "
    "human assessment (Art. 6(3)(c))",
    "preparatory": "Performs a preparatory task to an assessment (Art. 6(3)(d))",
}

# Article 50(1) to (4), each with the flag it raises.
TRANSPARENCY_CASES = {
    "interacts_with_people": ("Interacts directly with people", Flag.INTERACTS),
    "generates_content": ("Generates or manipulates text, audio, image or video", Flag.SYNTHETIC),
    "emotion_or_biometric": (
        "Recognises emotions or categorises people biometrically",
        Flag.EMOTION,
    ),
    "deep_fake": ("Produces or manipulates deep fakes", Flag.DEEP_FAKE),
}

# Annex III point 5(b) and (c): a deployer of these owes a FRIA whoever it is (Art. 27(1)).
ESSENTIAL_SERVICE_USES = {
    "credit_scoring": "Creditworthiness or credit scoring of natural persons (point 5(b))",
    "insurance_pricing": "Risk assessment and pricing in life or health insurance (point 5(c))",
    "public_benefits": "Eligibility for public assistance benefits and services (point 5(a))",
    "emergency_triage": "Dispatch or triage of emergency calls (point 5(d))",
}
FRIA_ANY_DEPLOYER_USES = {"credit_scoring", "insurance_pricing"}

# Every question: its key, its words, and what an answer may be.
QUESTIONS: list[dict] = [
    {
        "key": "prohibited_practice",
        "label": "Does it use a practice that Article 5 prohibits? Which one?",
        "kind": "choice",
        "choices": PROHIBITED_PRACTICES,
    },
    {
        "key": "annex_i_product",
        "label": "Is it a product, or the safety component of a product, covered by the "
        "EU harmonisation laws of Annex I that needs a third-party conformity assessment?",
        "kind": "bool",
    },
    {
        "key": "annex_iii_area",
        "label": "Is it used in one of the areas of Annex III? Which one?",
        "kind": "choice",
        "choices": ANNEX_III_AREAS,
    },
    {
        "key": "essential_service_use",
        "label": "For essential services: what does it decide or assess?",
        "kind": "choice",
        "choices": ESSENTIAL_SERVICE_USES,
    },
    {
        "key": "exception",
        "label": "Does one of the Article 6(3) exceptions apply? Which one?",
        "kind": "choice",
        "choices": EXCEPTIONS,
    },
    {
        "key": "profiles_people",
        "label": "Does it profile natural persons?",
        "kind": "bool",
    },
    {
        "key": "transparency",
        "label": "Which Article 50 cases does it meet?",
        "kind": "multi",
        "choices": {key: label for key, (label, _) in TRANSPARENCY_CASES.items()},
    },
    {
        "key": "gpai_model",
        "label": "Is it, or does the organisation place on the market, a general-purpose "
        "AI model (Chapter V)?",
        "kind": "bool",
    },
    {
        "key": "gpai_systemic_risk",
        "label": "Does that model have systemic risk (Art. 51)?",
        "kind": "bool",
    },
    {
        "key": "role",
        "label": "What is the organisation for this system?",
        "kind": "choice",
        "choices": dict(Role.choices),
        "required": True,
    },
    {
        "key": "public_body",
        "label": "Is the deployer a body governed by public law, or a private entity "
        "providing public services?",
        "kind": "bool",
    },
]
QUESTION_KEYS = [question["key"] for question in QUESTIONS]


class AnswerError(ValueError):
    """Answers that do not fit the questionnaire: {question key: message}."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def answers_clean(answers: object, version: int = QUESTIONNAIRE_VERSION) -> dict:
    """The answers in their stored shape (every key present), or AnswerError naming each
    wrong one. Unknown keys are refused, so a typo never passes as "no"."""
    if version != QUESTIONNAIRE_VERSION:
        raise AnswerError({"questionnaire_version": f"Only version {QUESTIONNAIRE_VERSION}."})
    if not isinstance(answers, dict):
        raise AnswerError({"answers": "An object of answers."})
    errors: dict[str, str] = {}
    unknown = sorted(set(answers) - set(QUESTION_KEYS))
    for key in unknown:
        errors[str(key)[:60]] = "Not a question of this questionnaire."
    clean: dict = {}
    for question in QUESTIONS:
        key, kind = question["key"], question["kind"]
        value = answers.get(key)
        if kind == "bool":
            if value is None:
                value = False
            if not isinstance(value, bool):
                errors[key] = "true or false."
        elif kind == "choice":
            if value is None:
                value = ""
            if value == "" and question.get("required"):
                errors[key] = "This question needs an answer."
            elif value != "" and value not in question["choices"]:
                errors[key] = f"One of: {', '.join(question['choices'])}."
        else:
            if value is None:
                value = []
            if not isinstance(value, list) or any(
                not isinstance(case, str) or case not in question["choices"] for case in value
            ):
                errors[key] = f"A list of: {', '.join(question['choices'])}."
            else:
                value = sorted(set(value))
        clean[key] = value
    if errors:
        raise AnswerError(errors)
    return clean


@dataclass(frozen=True)
class ObligationSpec:
    """What the classifier needs of a catalogue row."""

    code: str
    roles: tuple[str, ...]
    tiers: tuple[str, ...]
    requires_flag: str = ""

    @classmethod
    def of(cls, obligation) -> ObligationSpec:
        return cls(
            code=obligation.code,
            roles=tuple(obligation.roles),
            tiers=tuple(obligation.tiers),
            requires_flag=obligation.requires_flag,
        )


@dataclass
class Result:
    tier: str
    role: str
    flags: list[str] = field(default_factory=list)
    # (question key, what it led to), in the order they decided.
    reasons: list[dict] = field(default_factory=list)
    obligations: list[str] = field(default_factory=list)


def roles_held(role: str) -> set[str]:
    """The obligation roles a classification's role holds ("both" holds each)."""
    return set(OBLIGATION_ROLES) if role == Role.BOTH else {role}


def classify(answers: dict, catalogue: Iterable[ObligationSpec]) -> Result:
    """Answers (as `answers_clean` returns them) → tier, flags, reasons and obligations."""
    reasons: list[dict] = []
    flags: list[str] = []

    def because(key: str, text: str) -> None:
        reasons.append({"question": key, "reason": text})

    role = answers["role"]
    area = answers["annex_iii_area"]
    practice = answers["prohibited_practice"]
    if practice:
        tier = Tier.PROHIBITED
        because("prohibited_practice", f"Prohibited practice: {PROHIBITED_PRACTICES[practice]}.")
    elif answers["annex_i_product"]:
        tier = Tier.HIGH_RISK
        flags.append(Flag.ANNEX_I)
        because(
            "annex_i_product",
            "A product or safety component under Annex I: high-risk by Art. 6(1).",
        )
    elif area and answers["exception"] and not answers["profiles_people"]:
        tier = None
        because(
            "exception",
            f"Used in {ANNEX_III_AREAS[area]}, but {EXCEPTIONS[answers['exception']].lower()}"
            " and it profiles nobody: not high-risk by Art. 6(3) (document the assessment).",
        )
    elif area:
        tier = Tier.HIGH_RISK
        flags.append(Flag.ANNEX_III)
        because("annex_iii_area", f"Used in {ANNEX_III_AREAS[area]}: high-risk by Art. 6(2).")
        if answers["exception"]:
            because(
                "profiles_people",
                "It profiles natural persons, so the Art. 6(3) exception cannot apply.",
            )
    else:
        tier = None

    cases = answers["transparency"]
    for case in cases:
        label, flag = TRANSPARENCY_CASES[case]
        flags.append(flag)
        because("transparency", f"{label}: transparency duties of Art. 50.")
    if tier is None:
        if cases:
            tier = Tier.LIMITED
        else:
            tier = Tier.MINIMAL
            because(
                "annex_iii_area",
                "No prohibited practice, no high-risk use and no Article 50 case: minimal risk.",
            )

    if answers["gpai_model"]:
        flags.append(Flag.GPAI)
        because("gpai_model", "A general-purpose AI model: Chapter V duties for its provider.")
        if answers["gpai_systemic_risk"]:
            flags.append(Flag.GPAI_SYSTEMIC)
            because("gpai_systemic_risk", "With systemic risk: the further duties of Art. 55.")

    held = roles_held(role)
    if tier == Tier.HIGH_RISK and Flag.ANNEX_III in flags and Role.DEPLOYER in held:
        use = answers["essential_service_use"]
        # Art. 27(1): public bodies and public-service providers, except for critical
        # infrastructure; and any deployer of credit scoring or life/health insurance pricing.
        if use in FRIA_ANY_DEPLOYER_USES and area == "essential_services":
            flags.append(Flag.FRIA)
            because(
                "essential_service_use",
                f"A deployer of {ESSENTIAL_SERVICE_USES[use]}: "
                "fundamental rights impact assessment (Art. 27).",
            )
        elif answers["public_body"] and area != "critical_infrastructure":
            flags.append(Flag.FRIA)
            because(
                "public_body",
                "A public body or provider of public services deploying "
                "it: fundamental rights impact assessment (Art. 27).",
            )

    because("role", f"The organisation is {Role(role).label.lower()} of the system.")
    obligations = [
        spec.code
        for spec in catalogue
        if tier in spec.tiers
        and held & set(spec.roles)
        and (not spec.requires_flag or spec.requires_flag in flags)
    ]
    return Result(
        tier=str(tier),
        role=role,
        flags=[str(flag) for flag in flags],
        reasons=reasons,
        obligations=sorted(obligations),
    )
