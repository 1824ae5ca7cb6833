"""The obligations catalogue, the review intervals and the compliance group.

Titles are our own summaries, a working aid and not legal advice. Dates are data, each
with its source: the Act's timeline was amended in 2026 (the Digital Omnibus on AI moved
the high-risk dates), and may move again; admins edit the rows in the admin.
"""

import datetime

from django.db import migrations

ACT = "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32024R1689"
PROHIBITIONS = (datetime.date(2025, 2, 2), "Regulation (EU) 2024/1689, Art. 113(a)")
GPAI = (datetime.date(2025, 8, 2), "Regulation (EU) 2024/1689, Art. 113(b)")
TRANSPARENCY = (
    datetime.date(2026, 8, 2),
    "Regulation (EU) 2024/1689, Art. 113 (general date of application)",
)
ANNEX_III = (
    datetime.date(2027, 12, 2),
    "Regulation (EU) 2024/1689, Art. 113, as amended by the Digital Omnibus on AI (2026): "
    "Annex III high-risk systems",
)
ANNEX_I = (
    datetime.date(2028, 8, 2),
    "Regulation (EU) 2024/1689, Art. 113, as amended by the Digital Omnibus on AI (2026): "
    "Annex I products (Art. 6(1))",
)
ALL_TIERS = ["prohibited", "high_risk", "limited", "minimal"]
HIGH = ["high_risk"]
BOTH = ["provider", "deployer"]
PROVIDER = ["provider"]
DEPLOYER = ["deployer"]

# The stage whose exit gate evidences an obligation, per built-in framework, by when it
# is due: before building on the data, before release, or once it runs in production.
DESIGN = {"ai-maturity": "poc", "phased-rollout": "poc"}
RELEASE = {"ai-maturity": "mvp", "phased-rollout": "mvp-build"}
IN_USE = {"ai-maturity": "production", "phased-rollout": "pilot"}

# (code, article, anchor, title, roles, tiers, flag, (date, source), stages)
ROWS = [
    ("art4-ai-literacy", "Art. 4", "art_4",
     "People who build, run or use the system have the AI literacy their part needs",
     BOTH, ALL_TIERS, "", PROHIBITIONS, DESIGN),
    ("art5-prohibited-practice", "Art. 5", "art_5",
     "Stop the prohibited practice: it may be neither offered nor used",
     BOTH, ["prohibited"], "", PROHIBITIONS, DESIGN),
]
HIGH_RISK_PROVIDER = [
    ("art9-risk-management", "Art. 9", "art_9",
     "A risk management system runs for the whole life of the system", DESIGN),
    ("art10-data-governance", "Art. 10", "art_10",
     "Training, validation and test data are governed: relevant, representative, checked "
     "for bias", DESIGN),
    ("art11-technical-documentation", "Art. 11", "art_11",
     "Technical documentation is written before release and kept current", RELEASE),
    ("art12-record-keeping", "Art. 12", "art_12",
     "The system logs events automatically, so what it did can be traced", RELEASE),
    ("art13-instructions-for-use", "Art. 13", "art_13",
     "Deployers get instructions for use: purpose, accuracy, limits, oversight", RELEASE),
    ("art14-human-oversight", "Art. 14", "art_14",
     "People can oversee it, understand its output, override it and stop it", RELEASE),
    ("art15-accuracy-robustness-security", "Art. 15", "art_15",
     "Accuracy, robustness and cybersecurity are declared and met", RELEASE),
    ("art17-quality-management", "Art. 17", "art_17",
     "A quality management system covers design, testing, data and changes", RELEASE),
    ("art43-conformity-assessment", "Art. 43", "art_43",
     "Conformity assessment passed before release, with CE marking and EU declaration",
     RELEASE),
    ("art49-registration", "Art. 49", "art_49",
     "Registered in the EU database before it is placed on the market or put into service",
     RELEASE),
    ("art72-post-market-monitoring", "Art. 72", "art_72",
     "A post-market monitoring plan gathers and reviews how it performs in use", IN_USE),
    ("art73-serious-incidents", "Art. 73", "art_73",
     "Serious incidents are reported to the market surveillance authority in time", IN_USE),
]
for code, article, anchor, title, stages in HIGH_RISK_PROVIDER:
    ROWS.append((code, article, anchor, title, PROVIDER, HIGH, "annex_iii", ANNEX_III, stages))
    # Registration in the EU database is for Annex III systems only (Art. 49(1)).
    if code != "art49-registration":
        ROWS.append(
            (f"{code}-annex-i", article, anchor, title, PROVIDER, HIGH, "annex_i", ANNEX_I, stages)
        )
DEPLOYER_DUTIES = (
    "Used as instructed, with competent human oversight, monitored, its logs kept and the "
    "people it affects informed"
)
ROWS += [
    ("art26-deployer-duties", "Art. 26", "art_26", DEPLOYER_DUTIES,
     DEPLOYER, HIGH, "annex_iii", ANNEX_III, RELEASE),
    ("art26-deployer-duties-annex-i", "Art. 26", "art_26", DEPLOYER_DUTIES,
     DEPLOYER, HIGH, "annex_i", ANNEX_I, RELEASE),
    ("art27-fria", "Art. 27", "art_27",
     "A fundamental rights impact assessment is done before first use and notified",
     DEPLOYER, HIGH, "fria_required", ANNEX_III, RELEASE),
    ("art50-1-ai-interaction", "Art. 50(1)", "art_50",
     "People are told they are dealing with an AI system",
     PROVIDER, ["high_risk", "limited"], "art50_interaction", TRANSPARENCY, RELEASE),
    ("art50-2-marked-output", "Art. 50(2)", "art_50",
     "Generated or manipulated output is marked, machine-readably, as artificial",
     PROVIDER, ["high_risk", "limited"], "art50_synthetic_content", TRANSPARENCY, RELEASE),
    ("art50-3-emotion-biometric-notice", "Art. 50(3)", "art_50",
     "People exposed to emotion recognition or biometric categorisation are told so",
     DEPLOYER, ["high_risk", "limited"], "art50_emotion_biometric", TRANSPARENCY, RELEASE),
    ("art50-4-deep-fake-disclosure", "Art. 50(4)", "art_50",
     "Deep fakes, and generated text published on matters of public interest, are disclosed",
     DEPLOYER, ["high_risk", "limited"], "art50_deep_fake", TRANSPARENCY, RELEASE),
    ("art53-model-documentation", "Art. 53(1)(a)", "art_53",
     "Technical documentation of the model is kept for the AI Office and authorities",
     PROVIDER, ALL_TIERS, "gpai", GPAI, RELEASE),
    ("art53-downstream-information", "Art. 53(1)(b)", "art_53",
     "Providers who build on the model get the information they need",
     PROVIDER, ALL_TIERS, "gpai", GPAI, RELEASE),
    ("art53-copyright-policy", "Art. 53(1)(c)", "art_53",
     "A policy respects EU copyright law, including text and data mining opt-outs",
     PROVIDER, ALL_TIERS, "gpai", GPAI, RELEASE),
    ("art53-training-summary", "Art. 53(1)(d)", "art_53",
     "A public summary of the content used for training is published",
     PROVIDER, ALL_TIERS, "gpai", GPAI, RELEASE),
    ("art55-systemic-risk", "Art. 55", "art_55",
     "Systemic risks are evaluated and mitigated, serious incidents reported, the model "
     "secured", PROVIDER, ALL_TIERS, "gpai_systemic_risk", GPAI, RELEASE),
]

REVIEW_MONTHS = {"prohibited": 3, "high_risk": 12, "limited": 12, "minimal": 24}


def load(apps, schema_editor):
    Obligation = apps.get_model("compliance", "Obligation")
    ObligationStage = apps.get_model("compliance", "ObligationStage")
    ReviewInterval = apps.get_model("compliance", "ReviewInterval")
    Stage = apps.get_model("initiatives", "Stage")
    Group = apps.get_model("auth", "Group")
    stages = {
        (stage.framework.slug, stage.key): stage
        for stage in Stage.objects.select_related("framework")
    }
    for code, article, anchor, title, roles, tiers, flag, (date, source), at in ROWS:
        obligation, _ = Obligation.objects.update_or_create(
            code=code,
            defaults={
                "title": title,
                "article": article,
                "article_url": f"{ACT}#{anchor}",
                "roles": roles,
                "tiers": tiers,
                "requires_flag": flag,
                "applies_from": date,
                "applies_from_source": source,
            },
        )
        for framework, key in at.items():
            stage = stages.get((framework, key))
            if stage is not None:
                ObligationStage.objects.get_or_create(
                    obligation=obligation,
                    framework_id=stage.framework_id,
                    defaults={"stage": stage},
                )
    for tier, months in REVIEW_MONTHS.items():
        ReviewInterval.objects.get_or_create(tier=tier, defaults={"months": months})
    Group.objects.get_or_create(name="compliance")


def unload(apps, schema_editor):
    apps.get_model("compliance", "Obligation").objects.filter(
        code__in=[row[0] for row in ROWS]
    ).delete()
    apps.get_model("compliance", "ReviewInterval").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0001_initial"),
        ("initiatives", "0002_builtin_frameworks"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(load, unload)]
