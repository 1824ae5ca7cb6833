"""The import format: its tables (sheets or CSV files) and their columns.

One definition serves the reader, the validator, the template workbook, the
export that writes the same format back out, and the guide on the import page.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    help: str
    example: str = ""
    required: bool = False
    # A date, or a date and time: the demo moves these to be relative to today.
    is_time: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    help: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def required(self) -> list[str]:
        return [column.name for column in self.columns if column.required]

    @property
    def title(self) -> str:
        return self.name.capitalize()


INITIATIVE_REF = Column(
    "initiative",
    "The key, external id or name of an initiative in the initiatives table or in Tollgate.",
    # The example rows of every table are about the initiatives table's example.
    "UC-17",
    required=True,
)

INITIATIVES = Table(
    "initiatives",
    "One row per initiative. A row with a key or external id already in Tollgate updates "
    "that initiative; otherwise a row whose name matches exactly one initiative updates it; "
    "any other row creates one.",
    (
        Column(
            "key",
            "Tollgate key such as AI-001. Kept when given (never reused for another "
            "initiative); left empty, the next free key is given.",
            "",
        ),
        Column(
            "external_id",
            "Your own identifier (a row id from your tracker). Matched on re-import.",
            "UC-17",
        ),
        Column("name", "Up to 200 characters.", "Support ticket triage", required=True),
        Column("summary", "What it does.", "Routes incoming tickets to the right queue."),
        Column("problem", "The business problem it solves.", "A third of tickets are misrouted."),
        Column("team", "Team slug or name.", "customer-operations", required=True),
        Column(
            "owner",
            "Username or email of a product manager or portfolio admin.",
            "pm",
            required=True,
        ),
        Column(
            "sponsor",
            "Username or email of an executive other than the owner.",
            "exec",
            required=True,
        ),
        Column("framework", "Framework slug or name; empty: the default.", "ai-maturity"),
        Column(
            "stage",
            "Current stage (key or name). With history rows it must be where they lead; "
            "empty: the first stage, or where the history leads.",
            "mvp",
        ),
        Column(
            "stage_entered_on",
            "Date the current stage was entered (YYYY-MM-DD). Without history rows the "
            "initiative enters Tollgate in its stage on this date; empty: today.",
            "2025-03-03",
            is_time=True,
        ),
        Column(
            "status",
            "active, on_hold, stopped or completed. On hold and stopped need the hold or "
            "stop decision in the history table; empty: what the history leads to.",
            "active",
        ),
        Column("maturity", "MLOps maturity: 0, 1 or 2.", "1"),
        Column("tags", "Comma-separated.", "nlp, classification"),
        Column("outcome", "Business case: the outcome statement.", ""),
        Column("metric_name", "Business case: the business metric.", "First-time-right routing"),
        Column("metric_baseline", "Business case: the metric today.", "66"),
        Column("metric_target", "Business case: the metric aimed for.", "90"),
        Column("expected_annual_value", "Business case: value per year.", "420000"),
        Column("investment_to_date", "Business case: spent so far.", "95000"),
        Column("planned_team_cost", "Business case: planned team cost.", "180000"),
        Column("planned_infra_cost", "Business case: planned infrastructure cost.", "24000"),
        Column("cost_per_task_budget", "Business case: budget per task.", "0.004"),
        Column("monthly_volume", "Business case: projected tasks per month.", "60000"),
        Column(
            "targets",
            "Production bar, separated by semicolons: metric, optional comparator (>= or <=) "
            "and threshold. Standard metrics know their comparator and unit.",
            "accuracy >= 92; latency_p95_ms <= 400",
        ),
    ),
)

HISTORY = Table(
    "history",
    "Stage history, in order per initiative: the stays in each stage and the gate "
    "decisions that ended them. The first row of an initiative is the stage it started in.",
    (
        INITIATIVE_REF,
        Column("stage", "Key or name of the stage.", "poc", required=True),
        Column(
            "entered_on",
            "When the initiative entered the stage (date, or date and time). Needed on the "
            "first row; on later rows it must be the day of the go that led there.",
            "2025-01-06",
            is_time=True,
        ),
        Column(
            "decision",
            "The decision on the stage's exit gate: go, conditional_go, hold, recycle, stop; "
            "or resume (taken off hold), or review (a review asked for and not yet decided). "
            "Empty on the row of a stay still under way.",
            "go",
        ),
        Column(
            "decided_on",
            "When it was decided (date, or date and time).",
            # The day the example initiative entered its current stage (stage_entered_on).
            "2025-03-03",
            is_time=True,
        ),
        Column(
            "decided_by",
            "Username or email of the gatekeeper; empty: the sponsor. A resume is the owner's.",
            "exec",
        ),
        Column("rationale", "Why; empty: noted as recorded before Tollgate.", ""),
        Column(
            "override_justification",
            "For a go with required items open; empty: noted as decided outside Tollgate.",
            "",
        ),
    ),
)

CHECKLIST = Table(
    "checklist",
    "Checklist items that are done or do not apply, per initiative and stage gate.",
    (
        INITIATIVE_REF,
        Column("stage", "Key or name of the stage whose exit gate holds the item.", "poc", True),
        Column(
            "item",
            "The item's text as the gate shows it.",
            "Data availability and quality confirmed for production",
            required=True,
        ),
        Column("state", "done, not_applicable or open.", "done", required=True),
        Column("na_reason", "Why it does not apply (needed for not_applicable).", ""),
        Column("evidence_url", "An http or https link.", "https://wiki.example.com/ai-001/data"),
        Column("note", "", "Data owner signed off the feed."),
        Column("updated_by", "Username or email; empty: the owner.", "contrib"),
        Column(
            "updated_at",
            "When (date, or date and time); empty: just before the gate's decision, or now "
            "for the gate still open.",
            "2025-02-10",
            is_time=True,
        ),
    ),
)

MEASUREMENTS = Table(
    "measurements",
    "Readings of production-bar targets. A reading already recorded is skipped.",
    (
        INITIATIVE_REF,
        Column("metric", "The target's metric, e.g. accuracy.", "accuracy", required=True),
        Column("value", "A number.", "93.5", required=True),
        Column(
            "measured_at",
            "When (date, or date and time).",
            "2025-02-03",
            required=True,
            is_time=True,
        ),
        Column("source", "manual or integration; empty: integration.", "integration"),
    ),
)

MEMBERS = Table(
    "members",
    "People on each initiative's team, in a stage role.",
    (
        INITIATIVE_REF,
        Column("person", "Username or email.", "contrib", required=True),
        Column("stage_role", "e.g. ml_engineer, data_scientist, ux_designer.", "ml_engineer", True),
        Column("allocation_percent", "1 to 100; empty: 100.", "30"),
    ),
)

CLASSIFICATIONS = Table(
    "classifications",
    "The confirmed EU AI Act classification of each initiative: the questionnaire's answers, "
    "replayed through the same proposal and confirmation as in Tollgate, at the time it was "
    "confirmed, so its obligations land on the gates in play then. An initiative already "
    "confirmed with the same answers is left as it is.",
    (
        INITIATIVE_REF,
        Column(
            "answers",
            "The questionnaire's answers as a JSON object; a question left out answers no or none.",
            '{"role": "deployer", "annex_iii_area": "employment"}',
            required=True,
        ),
        Column("questionnaire_version", "Empty: the current questionnaire.", "1"),
        Column(
            "tier",
            "prohibited, high_risk, limited or minimal: what the answers lead to, checked; "
            "empty: not checked.",
            "high_risk",
        ),
        Column("classified_by", "Username or email of who answered; empty: the owner.", "pm"),
        Column(
            "confirmed_by",
            "Username or email of a portfolio admin or compliance officer; empty: you.",
            "admin",
        ),
        Column(
            "confirmed_at",
            "When it was confirmed (date, or date and time); empty: now.",
            "2025-03-10",
            is_time=True,
        ),
    ),
)

TABLES: tuple[Table, ...] = (
    INITIATIVES,
    HISTORY,
    CHECKLIST,
    MEASUREMENTS,
    MEMBERS,
    CLASSIFICATIONS,
)
TABLES_BY_NAME = {table.name: table for table in TABLES}
