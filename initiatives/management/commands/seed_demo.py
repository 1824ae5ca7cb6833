"""Load a realistic demo portfolio: people, teams and ~30 initiatives with 18 months of history.

The history is made by the real services (start, tick, ask for review, vote),
so every row is one the app could have written. The services stamp decisions
with today's date; after each decision this command moves the rows it wrote
(transitions, gates, decisions, votes, stage dates) back to the day the
decision is meant to have happened. The activity log is append-only, so its
entries keep the time the command ran.

Idempotent: people and teams are get-or-created, passwords are set on every
run, and an initiative whose name already exists is left alone.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from gates.models import ChecklistItem, Decision, Gate, GateDecision, StageTransition, Vote
from gates.services import (
    MeasurementInput,
    checklist_item_update,
    gate_request_review,
    gate_rule_set,
    gate_vote,
    gatekeeper_add,
    initiative_resume,
    initiative_start,
    initiative_update,
    measurements_record,
    target_create,
)
from initiatives.activity import activity_log
from initiatives.models import (
    BusinessCaseRevision,
    Framework,
    Initiative,
    Measurement,
    Membership,
    Target,
    stalls_on_for,
)
from initiatives.services import business_case_update, membership_add
from teams.models import Team, TeamMembership
from teams.roles import PortfolioRole, StageRole

DEMO_PASSWORD = "tollgate-demo"
EMAIL_DOMAIN = "tollgate.example"

# --- People and teams ------------------------------------------------------------------

# username, first name, last name, portfolio role (group), job title
PEOPLE = [
    ("admin", "Alex", "Morgan", PortfolioRole.ADMIN, "AI portfolio office"),
    ("exec", "Evelyn", "Park", PortfolioRole.EXECUTIVE, "Chief Operating Officer"),
    ("exec2", "Daniel", "Reyes", PortfolioRole.EXECUTIVE, "Chief Financial Officer"),
    ("pm", "Priya", "Nair", PortfolioRole.PRODUCT_MANAGER, "Product manager, AI"),
    ("pm2", "Jonas", "Weber", PortfolioRole.PRODUCT_MANAGER, "Product manager, AI"),
    ("contrib", "Carlos", "Mendes", PortfolioRole.CONTRIBUTOR, "ML engineer"),
    ("viewer", "Vera", "Lindqvist", PortfolioRole.VIEWER, "Internal audit"),
    ("amara", "Amara", "Osei", PortfolioRole.CONTRIBUTOR, "ML engineer"),
    ("ravi", "Ravi", "Kumar", PortfolioRole.CONTRIBUTOR, "ML engineer"),
    ("lucas", "Lucas", "Moreau", PortfolioRole.CONTRIBUTOR, "Software engineer"),
    ("noor", "Noor", "Rahman", PortfolioRole.CONTRIBUTOR, "UX designer"),
    ("mila", "Mila", "Novak", PortfolioRole.CONTRIBUTOR, "MLOps engineer"),
    ("wei", "Wei", "Chen", PortfolioRole.CONTRIBUTOR, "Data scientist"),
    ("ben", "Ben", "Hartley", PortfolioRole.CONTRIBUTOR, "Software engineer"),
    ("farah", "Farah", "Haddad", PortfolioRole.CONTRIBUTOR, "UX designer"),
    ("dana", "Dana", "Kowalski", PortfolioRole.CONTRIBUTOR, "Data engineer"),
    ("emil", "Emil", "Larsen", PortfolioRole.CONTRIBUTOR, "MLOps engineer"),
    ("gus", "Gustavo", "Silva", PortfolioRole.CONTRIBUTOR, "Platform engineer"),
    ("hana", "Hana", "Sato", PortfolioRole.CONTRIBUTOR, "Domain expert, operations"),
]
DEMO_LOGINS = ["admin", "exec", "pm", "pm2", "contrib", "viewer"]

# slug, name, description, leads, members
TEAMS = [
    (
        "customer-operations",
        "Customer Operations",
        "Contact centre, self-service and customer insight.",
        ["pm"],
        ["contrib", "wei", "ben", "farah"],
    ),
    (
        "finance",
        "Finance",
        "Accounts payable and receivable, treasury and the monthly close.",
        ["pm2"],
        ["amara", "wei", "dana", "lucas", "noor", "mila"],
    ),
    (
        "risk-compliance",
        "Risk & Compliance",
        "Fraud, financial crime, legal and regulatory change.",
        ["pm"],
        ["amara", "ben", "emil", "hana"],
    ),
    (
        "supply-chain",
        "Supply Chain",
        "Planning, procurement, warehousing and transport.",
        ["pm2"],
        ["contrib", "ravi", "lucas", "noor", "dana", "mila", "gus"],
    ),
]

# Who fills a stage role on an initiative, by team. Each person's allocation is spread
# over their initiatives, except `contrib`, who is booked at 30% on every one of theirs
# and so ends up well over 100%: the over-allocation the dashboard should show.
ROLE_PEOPLE = {
    StageRole.ML_ENGINEER: {
        "customer-operations": "contrib",
        "finance": "amara",
        "risk-compliance": "amara",
        "supply-chain": "ravi",
    },
    StageRole.DATA_SCIENTIST: {"*": "wei"},
    StageRole.SOFTWARE_ENGINEER: {
        "customer-operations": "ben",
        "risk-compliance": "ben",
        "finance": "lucas",
        "supply-chain": "lucas",
    },
    StageRole.UX_DESIGNER: {"finance": "noor", "supply-chain": "noor", "*": "farah"},
    StageRole.DATA_ENGINEER: {"*": "dana"},
    StageRole.MLOPS_ENGINEER: {"finance": "mila", "supply-chain": "mila", "*": "emil"},
    StageRole.PLATFORM_ENGINEER: {"*": "gus"},
    StageRole.DOMAIN_EXPERT: {"*": "hana"},
}
OVERBOOKED = {"contrib": 30}

# --- The production bar -------------------------------------------------------------------

# How a metric's measurements move relative to its threshold: the value starts at
# threshold * start and approaches threshold * end. Plus how many decimals to keep.
PROFILES = {
    "accuracy": (0.86, 1.035, 1),
    "task_success_rate": (0.84, 1.045, 1),
    "latency_p95_ms": (1.9, 0.72, 0),
    "cost_per_task": (2.4, 0.7, 4),
    "uptime": (0.992, 1.003, 2),
    "drift_psi": (1.6, 0.55, 3),
    "safety_incident_rate": (3.0, 0.4, 2),
    "active_users": (0.1, 1.3, 0),
}
CEILINGS = {"accuracy": 99.9, "task_success_rate": 99.9, "uptime": 100.0}

# The stage from which a metric is measured: quality on the bench from the first
# stage, cost and task success once real users arrive, reliability in production.
MEASURED_FROM = {
    "ai-maturity": {
        "accuracy": "poc",
        "latency_p95_ms": "poc",
        "safety_incident_rate": "poc",
        "task_success_rate": "mvp",
        "cost_per_task": "mvp",
        "active_users": "mvp",
        "uptime": "production",
        "drift_psi": "production",
    },
    "phased-rollout": {
        "accuracy": "poc",
        "latency_p95_ms": "poc",
        "safety_incident_rate": "poc",
        "task_success_rate": "mvp-build",
        "cost_per_task": "mvp-build",
        "uptime": "pilot",
        "drift_psi": "pilot",
        "active_users": "pilot",
    },
}

# --- Checklist evidence ---------------------------------------------------------------------

NOTES = {
    "Minimum viable accuracy reached on representative data": (
        "Scored on a stratified sample of last quarter's production cases."
    ),
    "Approach shown viable at projected production scale": (
        "Load test at 3x projected volume; p95 latency and cost stayed inside the bar."
    ),
    "Data availability and quality confirmed for production": (
        "Data owner signed off the feed; null rate and freshness checks added."
    ),
    "Business case updated with measured PoC results": "Revision reviewed with finance.",
    "Production bar written: task success, latency, cost per task, safety": (
        "Targets agreed with the sponsor and entered in the production bar."
    ),
    "MVP scope, timeline and staffing agreed": "Scope memo approved at the steering meeting.",
    "Evaluation set of 50+ representative tasks scored automatically": (
        "Nightly evaluation job posts its score to the production bar."
    ),
    "User feedback confirms value against metrics set before launch": (
        "Survey of the pilot users plus two weeks of usage data."
    ),
    "Feedback loop feeds model improvement": (
        "User corrections land in the labelled set used by the weekly retrain."
    ),
    "Production architecture planned: infrastructure, monitoring, CI/CD": (
        "Architecture review passed; design record linked."
    ),
    "Unit economics modelled at 10x and 100x volume": (
        "Model in the business case; caching keeps 100x inside budget."
    ),
    "Rollback procedure written and rehearsed": "Rehearsed in staging; rollback took 6 minutes.",
    "Named production owner accepted": "Service owner named in the operating model.",
    "Service level met for 30+ consecutive days": "Uptime dashboard for the last 30 days.",
    "Automated retraining runs and is validated": (
        "Monthly retrain with champion/challenger check before promotion."
    ),
    "Drift detection and alerting live": "PSI alert routed to the on-call channel.",
    "Incident runbooks written and exercised": "Game day held with the support team.",
    "Cost per inference within budget at current volume": "Cost report from the FinOps export.",
    "Scaling plan with explicit triggers": "Triggers: volume, latency and queue depth.",
    "Production-like, messy data used": "Raw extracts, including duplicates and missing fields.",
    "Accuracy, latency and performance targets set": "Targets entered in the production bar.",
    "Edge cases and failure modes tested": "Failure catalogue with 40 edge cases and outcomes.",
    "Integration points mapped": "Context diagram agreed with the owning system teams.",
    "Model packaged with versioning and rollback": "Registry entry with the signed artefact.",
    "Automated data ingestion and validation": "Pipeline with schema and range checks.",
    "Stable API for integrations": "OpenAPI contract published; versioned endpoint.",
    "Monitoring of accuracy, errors and latency": "Dashboards and alerts in place.",
    "Pilot cohort chosen": "Two regions, 60 users, chosen with operations.",
    "Expansion criteria agreed": "Criteria signed by the sponsor before the pilot started.",
    "Structured feedback gathered": "Weekly feedback form plus three interviews per site.",
    "Security review complete": "Penetration test closed with no high findings.",
    "Graceful degradation in place": "Falls back to the manual queue when the model is down.",
    "User and admin documentation and runbooks written": "Published on the intranet.",
}
NA_REASONS = {
    "Evaluation set of 50+ representative tasks scored automatically": (
        "Structured-output task: the 2,000-case labelled hold-out set replaces a task suite."
    ),
    "Access control and compliance review complete": (
        "Runs inside the existing data platform, whose access model passed this year's audit."
    ),
    "Rollback procedure written and rehearsed": (
        "Advisory only: people act on the suggestions, nothing is applied automatically."
    ),
    "Basic UI for the primary use case": (
        "Results flow into the case-management system through the API; no separate UI."
    ),
    "Training material ready": "Users keep their current screens; a one-page note suffices.",
}


# --- The portfolio ----------------------------------------------------------------------------


@dataclass
class Step:
    """A decision on the current gate (or a resume), `weeks` after the previous event."""

    decision: str
    weeks: float
    rationale: str = ""
    override: str = ""
    # Required items deliberately left open (otherwise chosen by the decision kind).
    leave_open: tuple[str, ...] = ()
    day: datetime.date | None = None


@dataclass
class Demo:
    name: str
    team: str
    owner: str
    sponsor: str
    summary: str
    problem: str
    outcome: str
    metric: str
    # metric baseline and target, expected annual value, investment to date, planned team
    # and infra cost, cost-per-task budget, projected monthly volume
    figures: tuple
    targets: dict[str, float]
    started: float  # weeks ago
    steps: list[Step] = field(default_factory=list)
    framework: str = "ai-maturity"
    # What the current gate is doing: "open", "review" (awaiting the sponsor) or
    # "review_all" (two gatekeepers, all must vote, the sponsor has voted).
    now: str = "open"
    progress: float = 0.5
    missed: tuple[str, ...] = ()  # never reach their threshold
    regressed: tuple[str, ...] = ()  # met, then the last readings miss
    tags: tuple[str, ...] = ()
    maturity: int = 0
    completed: bool = False
    gaps: tuple[str, ...] = ()  # recommended roles left unfilled


DEFAULT_RATIONALE = {
    Decision.GO: "Every required item is cleared and the production bar for this stage is met.",
    Decision.CONDITIONAL_GO: (
        "Advance now to keep the team together; the open items carry over as conditions."
    ),
    Decision.HOLD: "Pause until the dependency named in the gate notes is resolved.",
    Decision.RECYCLE: "Not ready yet; go round this stage again with the gaps noted.",
    Decision.STOP: "The evidence does not support further investment.",
}

PORTFOLIO = [
    # --- Customer Operations ---
    Demo(
        name="Support ticket triage",
        team="customer-operations",
        owner="pm",
        sponsor="exec",
        summary=(
            "Classifies incoming support tickets by product, intent and urgency and routes "
            "them to the right queue."
        ),
        problem=(
            "A third of tickets land in the wrong queue and wait five hours on average "
            "before somebody re-routes them."
        ),
        outcome="Route 90% of tickets to the right queue on first assignment.",
        metric="First-time-right routing (%)",
        figures=(66, 90, 420_000, 95_000, 180_000, 24_000, 0.004, 60_000),
        targets={
            "accuracy": 92,
            "task_success_rate": 88,
            "latency_p95_ms": 400,
            "cost_per_task": 0.004,
            "uptime": 99.5,
            "drift_psi": 0.2,
        },
        regressed=("uptime",),
        started=31,
        steps=[
            Step(
                "go", 7, "Routing accuracy 93% on 4,000 historical tickets; Zendesk feed confirmed."
            ),
            Step(
                "recycle",
                10,
                "Agents report the model ignores the customer tier, and their overrides are "
                "not yet fed back. Go round again with the override signal wired in.",
            ),
            Step("go", 7, "Override loop live; task success 90% over four weeks of real traffic."),
        ],
        progress=0.5,
        tags=("classification", "nlp"),
        maturity=1,
    ),
    Demo(
        name="Agent reply drafting",
        team="customer-operations",
        owner="pm",
        sponsor="exec",
        summary=(
            "Drafts a reply from the ticket, the customer's history and the knowledge base; "
            "the agent edits and sends it."
        ),
        problem=(
            "Agents spend 40% of handling time writing replies that mostly restate "
            "knowledge-base articles."
        ),
        outcome="Cut average handling time by 25% without lowering customer satisfaction.",
        metric="Average handling time (min)",
        figures=(12.4, 9.3, 1_150_000, 160_000, 420_000, 90_000, 0.03, 85_000),
        targets={
            "accuracy": 85,
            "task_success_rate": 80,
            "latency_p95_ms": 3500,
            "cost_per_task": 0.03,
            "safety_incident_rate": 0.5,
        },
        started=18,
        steps=[Step("go", 6, "Grader pass rate 88% on 300 real tickets; agents asked for it.")],
        now="review",
        progress=0.95,
        tags=("genai", "llm"),
        gaps=(StageRole.UX_DESIGNER,),
    ),
    Demo(
        name="Call summarisation for the contact centre",
        team="customer-operations",
        owner="pm",
        sponsor="exec",
        summary=(
            "Transcribes every call and writes the wrap-up note and disposition code into the CRM."
        ),
        problem=(
            "Agents spend 90 seconds after each call typing notes that are inconsistent "
            "and rarely read."
        ),
        outcome="Remove after-call work from 1.2 million calls a year.",
        metric="After-call work (s)",
        figures=(90, 15, 1_900_000, 640_000, 250_000, 110_000, 0.02, 100_000),
        targets={
            "accuracy": 90,
            "task_success_rate": 85,
            "latency_p95_ms": 8000,
            "cost_per_task": 0.02,
            "uptime": 99.5,
            "drift_psi": 0.2,
            "active_users": 400,
        },
        started=62,
        steps=[
            Step("go", 6),
            Step("go", 14, "Agents accept 87% of summaries unedited; handling time down 70 s."),
            Step("go", 8, "30 days at 99.8% availability; retraining and drift alerts live."),
        ],
        tags=("speech", "llm"),
        maturity=2,
    ),
    Demo(
        name="Churn risk early warning",
        team="customer-operations",
        owner="pm",
        sponsor="exec2",
        summary="Scores subscription customers weekly for the risk of cancelling next month.",
        problem=(
            "Retention calls go to customers who already cancelled; nobody sees churn "
            "coming early enough to act."
        ),
        outcome="Save 15% of at-risk subscription customers through early outreach.",
        metric="Monthly churn (%)",
        figures=(2.4, 2.0, 780_000, 70_000, 210_000, 20_000, 0.001, 250_000),
        targets={"accuracy": 80},
        missed=("accuracy",),
        started=30,
        steps=[
            Step(
                "stop",
                7,
                "AUC stuck at 0.61 after three rounds of features: the CRM lacks the usage "
                "signals a churn model needs. Stopping frees two engineers for reply drafting.",
            )
        ],
        tags=("classification",),
    ),
    Demo(
        name="Voice-of-customer theme mining",
        team="customer-operations",
        owner="pm",
        sponsor="exec",
        summary=(
            "Clusters free-text survey answers and reviews into themes, with example quotes "
            "and weekly trend lines."
        ),
        problem=(
            "Analysts read 300 of the 20,000 monthly comments; new complaints surface weeks late."
        ),
        outcome="Spot new complaint themes within a week instead of a quarter.",
        metric="Days to detect a new theme",
        figures=(75, 7, 300_000, 45_000, 120_000, 15_000, 0.002, 20_000),
        targets={"accuracy": 85},
        missed=("accuracy",),
        started=11,
        progress=0.4,
        tags=("nlp", "llm"),
        gaps=(StageRole.ML_ENGINEER,),
    ),
    Demo(
        name="Self-service answer bot",
        framework="phased-rollout",
        team="customer-operations",
        owner="pm",
        sponsor="exec",
        summary=(
            "Answers customers' routine questions on the help centre from the knowledge "
            "base, with a hand-off to an agent."
        ),
        problem=(
            "Half of all contacts ask questions the help centre already answers; customers "
            "cannot find the article."
        ),
        outcome="Resolve a quarter of routine questions without an agent.",
        metric="Self-service containment (%)",
        figures=(8, 25, 960_000, 150_000, 300_000, 70_000, 0.01, 120_000),
        targets={
            "accuracy": 88,
            "latency_p95_ms": 2500,
            "cost_per_task": 0.01,
            "task_success_rate": 70,
            "active_users": 1500,
            "safety_incident_rate": 0.2,
        },
        started=17,
        steps=[Step("go", 4), Step("go", 7, "API, monitoring and UI ready for the pilot.")],
        progress=0.5,
        tags=("genai", "rag"),
    ),
    Demo(
        name="Agent QA call scoring",
        team="customer-operations",
        owner="pm",
        sponsor="exec",
        summary="Scores every call against the quality form, not just the 2% sample.",
        problem=(
            "Team leads review 2% of calls, so coaching relies on luck and compliance misses "
            "go unseen."
        ),
        outcome="Quality-score every call and aim coaching at the weakest behaviours.",
        metric="Calls quality-reviewed (%)",
        figures=(2, 100, 350_000, 40_000, 150_000, 30_000, 0.015, 100_000),
        targets={"accuracy": 85},
        started=7,
        now="review",
        progress=1.0,
        tags=("speech", "classification"),
    ),
    # --- Finance ---
    Demo(
        name="Invoice matching",
        team="finance",
        owner="pm2",
        sponsor="exec2",
        summary=(
            "Matches supplier invoices to purchase orders and goods receipts, including "
            "partial deliveries and price variances."
        ),
        problem=(
            "Accounts payable clerks hand-match 38% of invoices; late matching loses "
            "early-payment discounts."
        ),
        outcome="Match 85% of invoices without a clerk and capture early-payment discounts.",
        metric="Touchless match rate (%)",
        figures=(62, 85, 1_400_000, 520_000, 200_000, 60_000, 0.01, 90_000),
        targets={
            "accuracy": 95,
            "task_success_rate": 92,
            "latency_p95_ms": 1500,
            "cost_per_task": 0.01,
            "uptime": 99.5,
            "drift_psi": 0.2,
        },
        started=74,
        steps=[
            Step("go", 6, "96% match accuracy on six months of invoices from the top 50 vendors."),
            Step(
                "conditional_go",
                12,
                "Clerks trust it and the economics hold at 100x. Rollback and the production "
                "owner are not settled; carry them as conditions.",
            ),
            Step("go", 9, "Conditions closed; 30 days at target uptime."),
        ],
        tags=("document-ai", "matching"),
        maturity=2,
    ),
    Demo(
        name="Expense receipt auditing",
        team="finance",
        owner="pm2",
        sponsor="exec2",
        summary=(
            "Reads receipts, checks claims against the expense policy and flags only those "
            "that need a person."
        ),
        problem="Auditors check a random 10% of claims; breaches in the rest go unnoticed.",
        outcome="Audit every expense claim before reimbursement.",
        metric="Claims audited (%)",
        figures=(10, 100, 650_000, 380_000, 60_000, 20_000, 0.005, 40_000),
        targets={
            "accuracy": 93,
            "task_success_rate": 90,
            "cost_per_task": 0.005,
            "uptime": 99.0,
            "drift_psi": 0.25,
        },
        started=78,
        steps=[Step("go", 5), Step("go", 11), Step("go", 7)],
        completed=True,
        tags=("document-ai", "ocr"),
        maturity=2,
    ),
    Demo(
        name="Cash-flow forecasting",
        team="finance",
        owner="pm2",
        sponsor="exec2",
        summary=(
            "Forecasts the daily cash position 13 weeks ahead from receivables, payables, "
            "payroll and treasury data."
        ),
        problem=(
            "Treasury builds the weekly forecast in spreadsheets; errors of ±18% force an "
            "expensive liquidity buffer."
        ),
        outcome="Forecast 13-week cash within ±5% and release part of the liquidity buffer.",
        metric="Forecast error (MAPE %)",
        figures=(18, 5, 900_000, 90_000, 260_000, 30_000, 0.8, 400),
        targets={"accuracy": 90, "task_success_rate": 95, "cost_per_task": 0.8},
        missed=("task_success_rate",),
        started=20,
        steps=[
            Step(
                "conditional_go",
                8,
                "Back-tested error 6.1% beats the spreadsheet by a wide margin. The production "
                "bar and MVP staffing are still drafts; carry them as conditions.",
            )
        ],
        progress=0.45,
        tags=("forecasting", "time-series"),
        gaps=(StageRole.UX_DESIGNER,),
    ),
    Demo(
        name="Month-end close variance commentary",
        team="finance",
        owner="pm2",
        sponsor="exec",
        summary=(
            "Drafts the variance commentary for the management pack from the ledger and last "
            "month's narrative."
        ),
        problem=(
            "Controllers spend three days of each close writing commentary that explains the "
            "same drivers in different words."
        ),
        outcome="Take two days out of the monthly close.",
        metric="Close duration (working days)",
        figures=(8, 6, 280_000, 30_000, 110_000, 10_000, 0.25, 1_200),
        targets={"accuracy": 85, "cost_per_task": 0.25, "safety_incident_rate": 1},
        started=6,
        now="review",
        progress=1.0,
        tags=("genai", "llm"),
    ),
    Demo(
        name="Duplicate payment detection",
        team="finance",
        owner="pm2",
        sponsor="exec2",
        summary=(
            "Checks each payment run for likely duplicates across vendors, currencies and "
            "invoice-number variants before release."
        ),
        problem="Duplicate payments of about 0.1% of spend are recovered months later, if ever.",
        outcome="Stop duplicate payments before release.",
        metric="Duplicates recovered after payment ($k/yr)",
        figures=(900, 100, 800_000, 210_000, 90_000, 15_000, 0.001, 150_000),
        targets={
            "accuracy": 97,
            "latency_p95_ms": 300,
            "cost_per_task": 0.001,
            "uptime": 99.9,
            "drift_psi": 0.2,
        },
        started=36,
        steps=[
            Step("go", 6),
            Step("go", 13),
            Step(
                "hold",
                3,
                "The ERP migration freezes the payment data feeds until the Q3 cut-over; "
                "resume when the new feed is live.",
            ),
        ],
        tags=("anomaly-detection",),
        maturity=1,
    ),
    Demo(
        name="Collections prioritisation",
        framework="phased-rollout",
        team="finance",
        owner="pm2",
        sponsor="exec2",
        summary=(
            "Ranks overdue accounts by likelihood to pay and suggests the next contact for "
            "each collector."
        ),
        problem=(
            "Collectors work accounts in ageing order, so large recoverable balances wait "
            "behind small hopeless ones."
        ),
        outcome="Reduce days sales outstanding by four days.",
        metric="Days sales outstanding",
        figures=(52, 48, 1_200_000, 180_000, 160_000, 25_000, 0.002, 30_000),
        targets={
            "accuracy": 80,
            "latency_p95_ms": 500,
            "cost_per_task": 0.002,
            "uptime": 99.5,
            "drift_psi": 0.2,
            "active_users": 45,
        },
        started=24,
        steps=[
            Step("go", 4),
            Step("go", 8),
            Step("go", 7, "Pilot collectors beat control by 3.1 days."),
        ],
        progress=0.6,
        tags=("classification", "ranking"),
        maturity=1,
    ),
    Demo(
        name="Vendor master deduplication",
        team="finance",
        owner="pm2",
        sponsor="exec2",
        summary="Finds duplicate supplier records in the vendor master before the ERP migration.",
        problem=(
            "4,200 duplicate vendor records split spend reporting and enable duplicate payments."
        ),
        outcome="Clean the vendor master before the ERP migration.",
        metric="Duplicate vendor records",
        figures=(4200, 200, 150_000, 60_000, 40_000, 5_000, 0.001, 50_000),
        targets={"accuracy": 95},
        missed=("accuracy",),
        started=26,
        steps=[
            Step(
                "recycle",
                8,
                "Precision 91% but recall on non-Latin vendor names is 60%; go round again "
                "with transliteration features.",
            ),
            Step(
                "stop",
                5,
                "The new ERP ships its own vendor deduplication; ours would duplicate it. "
                "Hand the labelled pairs to the ERP team.",
            ),
        ],
        tags=("matching", "data-quality"),
    ),
    # --- Risk & Compliance ---
    Demo(
        name="Contract clause extraction",
        team="risk-compliance",
        owner="pm",
        sponsor="exec",
        summary=(
            "Extracts liability, indemnity, termination and renewal clauses from supplier "
            "contracts into the contract register."
        ),
        problem=(
            "Legal reviews 3,000 legacy contracts by hand to find renewal dates and liability "
            "caps; the backlog is 14 months."
        ),
        outcome="Register the key clauses of every active contract within six months.",
        metric="Contracts with clauses registered (%)",
        figures=(22, 100, 600_000, 140_000, 230_000, 40_000, 0.15, 2_500),
        targets={
            "accuracy": 90,
            "task_success_rate": 85,
            "latency_p95_ms": 20000,
            "cost_per_task": 0.15,
        },
        missed=("task_success_rate",),
        started=34,
        steps=[
            Step("go", 7, "Clause-level F1 0.91 on 200 contracts annotated by the legal team."),
            Step(
                "recycle",
                16,
                "Lawyers still correct one indemnity clause in four; go round again with "
                "the annotated corrections before anything reaches the register.",
            ),
        ],
        progress=0.55,
        tags=("document-ai", "llm"),
    ),
    Demo(
        name="Card fraud scoring",
        team="risk-compliance",
        owner="pm",
        sponsor="exec2",
        summary=(
            "Scores card authorisations in real time and holds the riskiest for step-up "
            "verification."
        ),
        problem=(
            "The rules engine flags 3% of transactions, 97% of them wrongly, and still misses "
            "new fraud patterns."
        ),
        outcome="Cut fraud losses by 30% while halving false declines.",
        metric="Fraud losses (bps of volume)",
        figures=(7.5, 5.2, 4_200_000, 900_000, 600_000, 180_000, 0.0005, 9_000_000),
        targets={
            "accuracy": 99.5,
            "task_success_rate": 90,
            "latency_p95_ms": 120,
            "cost_per_task": 0.0005,
            "uptime": 99.95,
            "drift_psi": 0.1,
        },
        started=28,
        steps=[Step("go", 6), Step("go", 15, "Shadow mode beat the rules engine for 10 weeks.")],
        now="review_all",
        progress=1.0,
        tags=("anomaly-detection", "real-time"),
        maturity=2,
    ),
    Demo(
        name="AML alert triage",
        framework="phased-rollout",
        team="risk-compliance",
        owner="pm",
        sponsor="exec",
        summary=(
            "Ranks transaction-monitoring alerts by risk and pre-fills the investigator's "
            "case summary."
        ),
        problem=(
            "Investigators close 95% of alerts as false positives after 20 minutes of manual "
            "research each."
        ),
        outcome="Halve the time spent on false-positive AML alerts.",
        metric="Investigator minutes per alert",
        figures=(20, 10, 1_600_000, 70_000, 380_000, 50_000, 0.05, 15_000),
        targets={"accuracy": 90, "latency_p95_ms": 2000, "cost_per_task": 0.05},
        started=9,
        steps=[Step("go", 4, "Edge cases documented with the financial crime unit.")],
        progress=0.4,
        tags=("classification", "compliance"),
    ),
    Demo(
        name="KYC document verification",
        framework="phased-rollout",
        team="risk-compliance",
        owner="pm",
        sponsor="exec",
        summary=(
            "Checks identity documents and proof of address during onboarding and routes "
            "only doubtful cases to analysts."
        ),
        problem="Onboarding waits two days for manual checks; a fifth of applicants give up.",
        outcome="Verify 80% of new customers within five minutes.",
        metric="Median onboarding time (h)",
        figures=(48, 1, 2_100_000, 740_000, 120_000, 90_000, 0.03, 70_000),
        targets={
            "accuracy": 98,
            "latency_p95_ms": 3000,
            "cost_per_task": 0.03,
            "uptime": 99.9,
            "drift_psi": 0.2,
            "active_users": 3000,
        },
        started=70,
        steps=[Step("go", 4), Step("go", 8), Step("go", 8), Step("go", 7)],
        completed=True,
        tags=("document-ai", "computer-vision"),
        maturity=2,
    ),
    Demo(
        name="Regulatory change monitoring",
        team="risk-compliance",
        owner="pm",
        sponsor="exec",
        summary=(
            "Reads regulator publications daily and maps each change to the internal policies "
            "and owners it affects."
        ),
        problem=(
            "Compliance officers read 400 publications a month to find the dozen that matter; "
            "impact assessments start late."
        ),
        outcome="Assess every relevant regulatory change within ten working days.",
        metric="Days from publication to impact assessment",
        figures=(35, 10, 250_000, 5_000, 140_000, 12_000, 0.08, 400),
        targets={"accuracy": 85},
        started=2,
        progress=0.15,
        tags=("llm", "compliance"),
    ),
    Demo(
        name="Policy Q&A assistant for staff",
        team="risk-compliance",
        owner="pm",
        sponsor="exec",
        summary=(
            "Answers staff questions about HR, travel and security policies, citing the "
            "paragraph it relied on."
        ),
        problem=(
            "The policy inbox gets 3,000 questions a month; answers take two days and depend "
            "on who replies."
        ),
        outcome="Answer routine policy questions at once and consistently.",
        metric="Median answer time (h)",
        figures=(48, 0.1, 320_000, 85_000, 150_000, 30_000, 0.02, 3_000),
        targets={
            "accuracy": 90,
            "task_success_rate": 85,
            "latency_p95_ms": 4000,
            "cost_per_task": 0.02,
            "safety_incident_rate": 0.1,
        },
        missed=("task_success_rate", "safety_incident_rate"),
        started=24,
        steps=[
            Step("go", 5),
            Step(
                "hold",
                9,
                "Legal must approve the disclaimer and escalation path for generated answers; "
                "pause until that review closes.",
            ),
        ],
        tags=("genai", "rag"),
    ),
    Demo(
        name="Sanctions screening false-positive reduction",
        team="risk-compliance",
        owner="pm",
        sponsor="exec2",
        summary=(
            "Re-scores sanctions screening hits with name, date-of-birth and context features "
            "to clear obvious false positives."
        ),
        problem="Screening raises 1,500 hits a day; 99.8% are false and each needs an analyst.",
        outcome="Clear half of the obvious sanctions false positives automatically.",
        metric="Hits reviewed manually per day",
        figures=(1500, 750, 700_000, 260_000, 200_000, 60_000, 0.002, 1_000_000),
        targets={
            "accuracy": 95,
            "task_success_rate": 90,
            "cost_per_task": 0.002,
            "latency_p95_ms": 200,
        },
        missed=("cost_per_task",),
        started=40,
        steps=[
            Step("go", 8),
            Step(
                "stop",
                12,
                "Cost per screened payment is four times the budget at projected volume, and "
                "the regulator expects explainable matching. Fund the vendor upgrade instead.",
            ),
        ],
        tags=("matching", "compliance"),
    ),
    # --- Supply Chain ---
    Demo(
        name="Demand forecasting",
        team="supply-chain",
        owner="pm2",
        sponsor="exec",
        summary=(
            "Forecasts weekly demand per product and store 26 weeks ahead, with promotions, "
            "price and weather as drivers."
        ),
        problem=(
            "Planners forecast from last year's sales plus judgement; stock-outs and "
            "overstock both run above 8%."
        ),
        outcome="Cut forecast error by a third and reduce safety stock.",
        metric="Forecast error (WAPE %)",
        figures=(34, 22, 3_500_000, 1_100_000, 450_000, 160_000, 0.002, 2_000_000),
        targets={
            "accuracy": 85,
            "task_success_rate": 98,
            "cost_per_task": 0.002,
            "uptime": 99.5,
            "drift_psi": 0.2,
        },
        regressed=("drift_psi",),
        started=72,
        steps=[
            Step("go", 8, "WAPE 23% in back-test against planners' 34%."),
            Step("go", 16, "Planners in two regions accept 80% of forecasts unchanged."),
            Step("go", 8),
        ],
        tags=("forecasting", "time-series"),
        maturity=2,
    ),
    Demo(
        name="Inventory replenishment recommendations",
        team="supply-chain",
        owner="pm2",
        sponsor="exec",
        summary=(
            "Turns the demand forecast into daily order proposals per store and product, "
            "respecting pack sizes and delivery slots."
        ),
        problem=(
            "Store managers reorder by eye; 11% of orders change after submission and waste "
            "runs at 4%."
        ),
        outcome="Automate 70% of store orders and cut waste by a quarter.",
        metric="Orders accepted unchanged (%)",
        figures=(0, 70, 2_200_000, 610_000, 240_000, 70_000, 0.003, 900_000),
        targets={
            "accuracy": 85,
            "task_success_rate": 80,
            "uptime": 99.5,
            "drift_psi": 0.2,
            "cost_per_task": 0.003,
        },
        missed=("uptime",),
        started=40,
        steps=[Step("go", 7), Step("go", 14, "Stores in the pilot accept 74% of proposals.")],
        progress=0.55,
        tags=("optimisation",),
        maturity=1,
        gaps=(StageRole.MLOPS_ENGINEER,),
    ),
    Demo(
        name="Supplier risk scoring",
        team="supply-chain",
        owner="pm2",
        sponsor="exec",
        summary=(
            "Combines delivery history, financial filings and news to score each strategic "
            "supplier's disruption risk monthly."
        ),
        problem=(
            "Category managers learn of supplier distress from missed deliveries, too late to "
            "find a second source."
        ),
        outcome="Warn category managers three months before a supplier disruption.",
        metric="Disruptions with 90 days' warning (%)",
        figures=(10, 60, 1_300_000, 95_000, 180_000, 20_000, 0.05, 1_500),
        targets={"accuracy": 80, "task_success_rate": 75, "cost_per_task": 0.05},
        started=20,
        steps=[
            Step("go", 6),
            Step("hold", 4, "Budget freeze until the Q2 planning round."),
            Step("resume", 3),
        ],
        progress=0.35,
        tags=("classification", "risk"),
    ),
    Demo(
        name="Predictive maintenance for conveyor lines",
        framework="phased-rollout",
        team="supply-chain",
        owner="pm2",
        sponsor="exec",
        summary=(
            "Predicts conveyor motor and bearing failures 48 hours ahead from vibration and "
            "temperature sensors."
        ),
        problem="Unplanned conveyor stops cost the distribution centres 140 hours a year.",
        outcome="Halve unplanned conveyor downtime.",
        metric="Unplanned downtime (h/yr)",
        figures=(140, 70, 900_000, 210_000, 120_000, 80_000, 0.0002, 5_000_000),
        targets={"accuracy": 85, "latency_p95_ms": 1000, "uptime": 99.0, "drift_psi": 0.25},
        started=30,
        steps=[
            Step("go", 4),
            Step("go", 8),
            Step(
                "hold",
                7,
                "The pilot site's sensor retrofit slipped a quarter; without vibration data "
                "the pilot cannot measure anything.",
            ),
        ],
        tags=("iot", "anomaly-detection"),
    ),
    Demo(
        name="Last-mile route optimisation",
        framework="phased-rollout",
        team="supply-chain",
        owner="pm2",
        sponsor="exec",
        summary=(
            "Re-plans delivery routes every morning from orders, time windows, traffic "
            "forecasts and van capacity."
        ),
        problem=(
            "Dispatchers plan routes by hand for three hours each morning; vans drive 15% "
            "further than needed."
        ),
        outcome="Cut van mileage by 10% and keep on-time delivery above 95%.",
        metric="Km per delivered order",
        figures=(6.8, 6.1, 1_700_000, 30_000, 260_000, 40_000, 0.05, 30_000),
        targets={"latency_p95_ms": 30000, "accuracy": 95},
        started=6,
        progress=0.5,
        tags=("optimisation",),
        gaps=(StageRole.DOMAIN_EXPERT,),
    ),
    Demo(
        name="Damaged goods detection at inbound",
        team="supply-chain",
        owner="pm2",
        sponsor="exec2",
        summary="Spots damaged pallets and cartons in dock-door camera images as goods arrive.",
        problem=(
            "Damage found after put-away cannot be claimed from the carrier; write-offs reach "
            "$600k a year."
        ),
        outcome="Claim transit damage from carriers instead of writing it off.",
        metric="Damage write-offs ($k/yr)",
        figures=(600, 250, 350_000, 25_000, 140_000, 45_000, 0.001, 400_000),
        targets={"accuracy": 92, "latency_p95_ms": 250},
        started=5,
        progress=0.3,
        tags=("computer-vision",),
    ),
    Demo(
        name="Freight invoice audit",
        framework="phased-rollout",
        team="supply-chain",
        owner="pm2",
        sponsor="exec2",
        summary=(
            "Checks carrier invoices against contracted rates, surcharges and proof of "
            "delivery before payment."
        ),
        problem="Freight invoices overcharge by 2–4%; auditors check only the biggest carriers.",
        outcome="Recover freight overcharges from every carrier.",
        metric="Overcharges recovered ($k/yr)",
        figures=(150, 900, 900_000, 300_000, 80_000, 25_000, 0.02, 35_000),
        targets={
            "accuracy": 96,
            "latency_p95_ms": 2000,
            "cost_per_task": 0.02,
            "uptime": 99.5,
            "drift_psi": 0.2,
            "active_users": 25,
        },
        started=40,
        steps=[Step("go", 4), Step("go", 7), Step("go", 8), Step("go", 8)],
        tags=("document-ai", "matching"),
        maturity=1,
    ),
    Demo(
        name="Purchase-order email extraction",
        team="supply-chain",
        owner="pm2",
        sponsor="exec",
        summary=(
            "Reads purchase orders that customers email as PDF or free text and creates draft "
            "sales orders."
        ),
        problem=(
            "Order-entry clerks retype 1,800 emailed orders a week; typing errors make 3% of "
            "deliveries wrong."
        ),
        outcome="Create 80% of emailed orders without retyping.",
        metric="Orders entered without retyping (%)",
        figures=(0, 80, 520_000, 60_000, 190_000, 25_000, 0.01, 8_000),
        targets={
            "accuracy": 95,
            "task_success_rate": 90,
            "cost_per_task": 0.01,
            "latency_p95_ms": 10000,
        },
        started=15,
        steps=[
            Step(
                "go",
                6,
                "Field accuracy 96% on 500 real orders.",
                override=(
                    "Two of the three order mailboxes are confirmed; the third moves to the new "
                    "mail platform next month and does not change the MVP scope. Accepting the "
                    "risk to keep the customer pilot date."
                ),
                leave_open=("Data availability and quality confirmed for production",),
            )
        ],
        progress=0.3,
        tags=("document-ai", "llm"),
    ),
    Demo(
        name="Perishables waste prediction",
        framework="phased-rollout",
        team="supply-chain",
        owner="pm2",
        sponsor="exec",
        summary="Predicts end-of-day unsold fresh items per store so markdowns start earlier.",
        problem="Fresh food waste is 6% of sales; markdowns start at a fixed hour, stock or not.",
        outcome="Cut fresh-food waste by a fifth through earlier, targeted markdowns.",
        metric="Fresh waste (% of sales)",
        figures=(6, 4.8, 1_500_000, 120_000, 220_000, 30_000, 0.0005, 3_000_000),
        targets={"accuracy": 80, "latency_p95_ms": 1000},
        missed=("accuracy",),
        started=16,
        steps=[
            Step("go", 4),
            Step(
                "stop",
                6,
                "Store sell-through data is weekly and missing for 30% of stores; no model beats "
                "the planners' rules on it. Stopping now saves the rest of the build budget.",
            ),
        ],
        tags=("forecasting",),
    ),
]


ADVANCING = (Decision.GO, Decision.CONDITIONAL_GO)


def _at(day: datetime.date, hour: int = 15) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))


class Command(BaseCommand):
    help = "Load an idempotent demo portfolio with users, teams and 18 months of history."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=DEMO_PASSWORD,
            help=f"Password for every demo user (default: {DEMO_PASSWORD}).",
        )

    def handle(self, *args, password: str, **options):
        self.run_started = timezone.now()
        self.today = timezone.localdate()
        with transaction.atomic():
            self.users = self.ensure_people(password)
            self.teams = self.ensure_teams()
            self.frameworks = {
                framework.slug: framework
                for framework in Framework.objects.prefetch_related("stages")
            }
            self.plan_staffing()
            existing = set(
                Initiative.objects.filter(name__in=[demo.name for demo in PORTFOLIO]).values_list(
                    "name", flat=True
                )
            )
            created = 0
            for demo in PORTFOLIO:
                if demo.name in existing:
                    continue
                if demo.framework not in self.frameworks:
                    self.stderr.write(f"Skipping {demo.name}: no framework {demo.framework!r}.")
                    continue
                self.build(demo)
                created += 1
        self.report(created, len(existing), password)

    # --- People and teams ----------------------------------------------------------------

    def ensure_people(self, password: str) -> dict:
        User = get_user_model()
        groups = {role: Group.objects.get_or_create(name=role)[0] for role in PortfolioRole.values}
        # One hash for everyone: hashing is deliberately slow, and these are demo accounts.
        hashed = make_password(password)
        users = {}
        for username, first, last, role, _title in PEOPLE:
            user, _ = User.objects.get_or_create(username=username)
            user.first_name, user.last_name = first, last
            user.email = f"{username}@{EMAIL_DOMAIN}"
            user.is_active = True
            user.is_staff = user.is_superuser = role == PortfolioRole.ADMIN
            user.password = hashed
            user.save()
            user.groups.add(groups[role])
            users[username] = user
        return users

    def ensure_teams(self) -> dict:
        teams = {}
        for slug, name, description, leads, members in TEAMS:
            team, _ = Team.objects.get_or_create(
                slug=slug, defaults={"name": name, "description": description}
            )
            for username in leads:
                TeamMembership.objects.get_or_create(
                    team=team,
                    user=self.users[username],
                    defaults={"role": TeamMembership.Role.LEAD},
                )
            for username in members:
                TeamMembership.objects.get_or_create(team=team, user=self.users[username])
            teams[slug] = team
        return teams

    # --- One initiative ------------------------------------------------------------------

    def build(self, demo: Demo) -> None:
        rng = random.Random(demo.name)
        framework = self.frameworks[demo.framework]
        stages = sorted(framework.stages.all(), key=lambda stage: stage.order)
        owner, sponsor = self.users[demo.owner], self.users[demo.sponsor]
        start = self.today - datetime.timedelta(weeks=demo.started)

        # Lay out the calendar first: when each decision happens and each stage is entered.
        entered = {stages[0].key: start}
        cursor, index, series_end = start, 0, None
        for step in demo.steps:
            cursor = cursor + datetime.timedelta(weeks=step.weeks)
            if cursor >= self.today:
                raise ValueError(f"{demo.name}: a decision falls on or after today.")
            step.day = cursor
            if step.decision in ADVANCING:
                index += 1
                entered[stages[index].key] = cursor
            series_end = cursor if step.decision in (Decision.HOLD, Decision.STOP) else None

        baseline, target, value, invested, team_cost, infra_cost, budget, volume = (
            Decimal(str(figure)) for figure in demo.figures
        )
        initiative = initiative_start(
            actor=owner,
            name=demo.name,
            team=self.teams[demo.team],
            owner=owner,
            sponsor=sponsor,
            framework=framework,
            summary=demo.summary,
            problem=demo.problem,
            maturity_level=demo.maturity,
            entered_on=start,
            business_case={
                "outcome": demo.outcome,
                "metric_name": demo.metric,
                "metric_baseline": baseline,
                "metric_target": target,
                "expected_annual_value": value,
                "investment_to_date": invested,
                "planned_team_cost": team_cost,
                "planned_infra_cost": infra_cost,
                "cost_per_task_budget": budget,
                "monthly_volume": int(volume),
            },
        )
        if demo.tags:
            initiative_update(initiative=initiative, actor=owner, tags=list(demo.tags))
        self.add_team(initiative, demo)
        Membership.objects.filter(initiative=initiative).update(created_at=_at(start, 10))

        targets = [
            target_create(initiative=initiative, actor=owner, metric_key=key, threshold=threshold)
            for key, threshold in demo.targets.items()
        ]
        Target.objects.filter(initiative=initiative).update(created_at=_at(start, 11))
        self.settle(initiative, _at(start, 9))
        pending = self.measurement_series(demo, targets, entered, series_end, rng)

        revised = False
        for step in demo.steps:
            at = _at(step.day)
            pending = self.record_until(pending, at - datetime.timedelta(days=3))
            if step.decision == "resume":
                self.resume(initiative, owner, step.day)
                continue
            gate = Gate.objects.pending().get(initiative=initiative)
            self.prepare_for(gate, demo, step, initiative, rng)
            self.settle(initiative, at - datetime.timedelta(days=2))
            gate_request_review(gate=gate, actor=owner)
            gate_vote(
                gate=gate,
                actor=sponsor,
                decision=step.decision,
                rationale=step.rationale or DEFAULT_RATIONALE[step.decision],
                override_justification=step.override,
            )
            self.backdate_decision(gate, step.decision, at)
            self.settle(initiative, at)
            if step.decision in ADVANCING and not revised:
                # "Business case updated with measured PoC results", literally.
                business_case_update(
                    initiative=initiative,
                    actor=owner,
                    investment_to_date=invested + team_cost // 4,
                    expected_annual_value=round(
                        value * Decimal(rng.choice(["0.85", "0.9", "1.1", "1.2"]))
                    ),
                )
                BusinessCaseRevision.objects.filter(
                    business_case__initiative=initiative, created_at__gte=self.run_started
                ).update(created_at=at - datetime.timedelta(days=4))
                revised = True

        self.record_until(pending, timezone.now())
        initiative.refresh_from_db()
        if initiative.status == Initiative.Status.ACTIVE:
            self.current_state(initiative, demo, owner, sponsor, rng)
        if demo.completed:
            Initiative.objects.filter(pk=initiative.pk).update(
                status=Initiative.Status.COMPLETED, gate_due_on=None
            )
            activity_log(
                actor=owner,
                initiative=initiative,
                verb="initiative.changed",
                field="status",
                before=Initiative.Status.ACTIVE,
                after=Initiative.Status.COMPLETED,
                message="Handed over to the service team that runs it day to day.",
            )

    def plan_staffing(self) -> None:
        """Who is on which initiative in which role, and at what allocation."""
        self.staffing = {}
        for demo in PORTFOLIO:
            framework = self.frameworks.get(demo.framework)
            if framework is None:
                continue
            stages = sorted(framework.stages.all(), key=lambda stage: stage.order)
            advances = sum(step.decision in ADVANCING for step in demo.steps)
            wanted = []
            for stage in stages[advances : advances + 2]:  # the current and the next stage
                wanted += [role for role in stage.recommended_roles if role not in wanted]
            rows = []
            for role in wanted:
                if role in demo.gaps:
                    continue
                if role == StageRole.PRODUCT_MANAGER:
                    rows.append((demo.owner, role))
                elif role in ROLE_PEOPLE:
                    people = ROLE_PEOPLE[role]
                    rows.append((people.get(demo.team) or people["*"], role))
            self.staffing[demo.name] = rows
        load = Counter(person for rows in self.staffing.values() for person, _ in rows)
        self.allocations = {
            person: OVERBOOKED.get(person, max(5, min(50, 5 * (90 // count // 5))))
            for person, count in load.items()
        }

    def add_team(self, initiative: Initiative, demo: Demo) -> None:
        owner = self.users[demo.owner]
        for person, role in self.staffing[demo.name]:
            membership_add(
                initiative=initiative,
                actor=owner,
                user=self.users[person],
                stage_role=role,
                allocation_percent=self.allocations[person],
            )

    # --- Measurements ----------------------------------------------------------------------

    def measurement_series(self, demo, targets, entered, series_end, rng) -> list[MeasurementInput]:
        """Weekly readings per target, from the stage where the metric starts to matter."""
        end = _at(series_end, 6) if series_end else timezone.now() - datetime.timedelta(hours=2)
        rows = []
        for target in targets:
            from_stage = MEASURED_FROM[demo.framework].get(target.metric_key)
            if from_stage not in entered:
                continue  # not measured yet: the target shows "no data"
            start_factor, end_factor, digits = PROFILES[target.metric_key]
            if target.metric_key in demo.missed:
                end_factor = (start_factor + 1) / 2  # levels off on the wrong side
            missed_factor = (start_factor + 1) / 2
            moments = []
            day = entered[from_stage] + datetime.timedelta(days=3)
            while _at(day, 6) <= end:
                moments.append(_at(day, 6))
                day += datetime.timedelta(weeks=1)
            for number, measured_at in enumerate(moments):
                weeks_in = number + 0.5
                factor = end_factor + (start_factor - end_factor) * 0.5 ** (weeks_in / 1.5)
                is_last = number == len(moments) - 1
                if target.metric_key in demo.regressed and number >= len(moments) - 2:
                    factor = missed_factor
                elif not is_last:
                    factor += rng.uniform(-0.3, 0.3) * abs(end_factor - 1)
                value = round(target.threshold * factor, digits)
                value = min(value, CEILINGS.get(target.metric_key, value))
                rows.append(MeasurementInput(target=target, value=value, measured_at=measured_at))
        rows.sort(key=lambda row: row.measured_at)
        return rows

    def record_until(self, rows: list[MeasurementInput], moment) -> list[MeasurementInput]:
        """Record the readings taken up to `moment`; return the ones still to come."""
        due = [row for row in rows if row.measured_at <= moment]
        if due:
            measurements_record(rows=due, actor=None, source=Measurement.Source.INTEGRATION)
        return rows[len(due) :]

    # --- Checklists and decisions ------------------------------------------------------------

    def prepare_for(self, gate: Gate, demo: Demo, step: Step, initiative, rng) -> None:
        """Tick the checklist the way a team would before asking for this decision."""
        items = list(gate.items.order_by("order"))
        if step.decision in ADVANCING:
            leave_open = set(step.leave_open)
            if not leave_open:
                plain = [item.text for item in items if item.required and not item.metric_key]
                if step.decision == Decision.CONDITIONAL_GO:
                    leave_open = set(plain[-2:])
                elif step.override:
                    leave_open = set(plain[-1:])
            chosen = [
                item
                for item in items
                if item.text not in leave_open and (item.required or rng.random() < 0.6)
            ]
        else:
            chosen = items[: round(len(items) * rng.uniform(0.35, 0.65))]
        self.tick(chosen, initiative, demo, rng)

    def tick(self, items, initiative, demo: Demo, rng) -> None:
        people = [self.users[demo.owner], *self.members(initiative)]
        for item in items:
            item.refresh_from_db(fields=["state", "version"])
            if item.state != ChecklistItem.State.OPEN:
                continue
            actor = rng.choice(people)
            if item.text in NA_REASONS and rng.random() < 0.5:
                checklist_item_update(
                    item=item, actor=actor, state="not_applicable", na_reason=NA_REASONS[item.text]
                )
                continue
            with_evidence = rng.random() < 0.65
            checklist_item_update(
                item=item,
                actor=actor,
                state=ChecklistItem.State.DONE,
                evidence_url=(
                    f"https://wiki.{EMAIL_DOMAIN}/ai/{initiative.key.lower()}/"
                    f"{slugify(item.text)[:60]}"
                    if with_evidence
                    else None
                ),
                note=NOTES.get(item.text) if with_evidence else None,
            )

    def members(self, initiative: Initiative) -> list:
        return [membership.user for membership in initiative.memberships.select_related("user")]

    def backdate_decision(self, gate: Gate, decision: str, at: datetime.datetime) -> None:
        """Move what the decision wrote to the day it is meant to have happened."""
        gate.refresh_from_db()
        round_ = gate.review_round
        Vote.objects.filter(gate=gate, round=round_).update(created_at=at)
        record = GateDecision.objects.get(gate=gate, round=round_)
        record.decided_at = at
        record.snapshot["taken_at"] = at.isoformat()
        record.save(update_fields=["decided_at", "snapshot"])
        gate_changes = {
            "decided_at": at,
            "review_requested_at": at - datetime.timedelta(days=2),
            "snapshot": record.snapshot,
        }
        initiative_changes = {}
        if decision == Decision.RECYCLE:
            due = gate.stage.gate_due_on(at.date())
            gate_changes["due_on"] = initiative_changes["gate_due_on"] = due
        Gate.objects.filter(pk=gate.pk).update(**gate_changes)

        if decision in ADVANCING:
            StageTransition.objects.filter(gate=gate).update(transitioned_at=at)
            initiative = Initiative.objects.select_related("stage").get(pk=gate.initiative_id)
            stage = initiative.stage
            initiative_changes.update(
                stage_entered_on=at.date(), stalls_on=stalls_on_for(stage, at.date())
            )
            opened = Gate.objects.pending().filter(initiative=initiative).first()
            if opened is not None:
                due = stage.gate_due_on(at.date())
                Gate.objects.filter(pk=opened.pk).update(opened_at=at, due_on=due)
                ChecklistItem.objects.filter(gate=opened, is_condition=True).update(
                    condition_due_on=due
                )
                initiative_changes["gate_due_on"] = due
        if initiative_changes:
            Initiative.objects.filter(pk=gate.initiative_id).update(**initiative_changes)

    def resume(self, initiative: Initiative, actor, day: datetime.date) -> None:
        initiative_resume(initiative=initiative, actor=actor)
        gate = Gate.objects.select_related("stage").pending().get(initiative=initiative)
        due = gate.stage.gate_due_on(day)
        Gate.objects.filter(pk=gate.pk).update(due_on=due)
        Initiative.objects.filter(pk=initiative.pk).update(gate_due_on=due)

    def settle(self, initiative: Initiative, at: datetime.datetime) -> None:
        """Date the checklist edits made since the last settle to `at`."""
        ChecklistItem.objects.filter(
            gate__initiative=initiative, updated_at__gte=self.run_started
        ).update(updated_at=at)

    def current_state(self, initiative: Initiative, demo: Demo, owner, sponsor, rng) -> None:
        """Where the open gate stands today: partly ticked, or waiting for a vote."""
        gate = Gate.objects.pending().filter(initiative=initiative).first()
        if gate is None:
            return
        items = list(gate.items.order_by("order"))
        if demo.progress >= 1:
            chosen = [item for item in items if item.required or rng.random() < 0.5]
        else:
            chosen = items[: round(len(items) * demo.progress)]
        self.tick(chosen, initiative, demo, rng)
        days_in = (self.today - initiative.stage_entered_on).days
        self.settle(initiative, _at(self.today - datetime.timedelta(days=min(3, days_in)), 11))
        if demo.now == "open":
            return
        now = timezone.now()
        if demo.now == "review_all":
            # A second executive must agree: the sponsor has voted, exec has not yet.
            gatekeeper_add(gate=gate, user=self.users["exec"], actor=self.users["admin"])
            gate_rule_set(gate=gate, rule=Gate.Rule.ALL, actor=self.users["admin"])
        gate_request_review(gate=gate, actor=owner)
        Gate.objects.filter(pk=gate.pk).update(review_requested_at=now - datetime.timedelta(days=2))
        if demo.now == "review_all":
            gate_vote(
                gate=gate,
                actor=sponsor,
                decision=Decision.GO,
                rationale="Losses in shadow mode down 34% with fewer false declines; go.",
            )
            Vote.objects.filter(gate=gate, voter=sponsor).update(
                created_at=now - datetime.timedelta(days=1)
            )

    # --- Summary ------------------------------------------------------------------------------

    def report(self, created: int, present: int, password: str) -> None:
        demo_names = [demo.name for demo in PORTFOLIO]
        initiatives = Initiative.objects.filter(name__in=demo_names)
        statuses = Counter(initiatives.values_list("status", flat=True))
        frameworks = Counter(initiatives.values_list("framework__slug", flat=True))
        today = self.today
        write = self.stdout.write
        write(
            self.style.SUCCESS(
                f"Demo portfolio: {created} initiative(s) created, {present} already present."
            )
        )
        write(
            f"  {initiatives.count()} initiatives: "
            + ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
        )
        write("  frameworks: " + ", ".join(f"{n} {slug}" for slug, n in sorted(frameworks.items())))
        in_review = Gate.objects.filter(initiative__in=initiatives, state=Gate.State.IN_REVIEW)
        measurements = Measurement.objects.filter(target__initiative__in=initiatives)
        write(
            f"  overdue: {initiatives.overdue(today).count()}, "
            f"stalled: {initiatives.stalled(today).count()}, "
            f"gates in review: {in_review.count()}, measurements: {measurements.count()}"
        )
        shown = password if password == DEMO_PASSWORD else "the one given with --password"
        write(f"Demo logins (password: {shown}):")
        for username, first, last, role, title in PEOPLE:
            if username in DEMO_LOGINS:
                write(f"  {username:<8} {first} {last}, {title} ({role.label})")
