"""Validating every row and planning what the import would do, before anything is written.

`plan_import(sheets)` checks each cell (types, bounds, choices), resolves the
names it refers to (people, teams, frameworks, stages, initiatives in the file
or in Tollgate) with one query per kind, checks each initiative's history in
order, and returns a Plan: one InitiativePlan per initiative the file touches,
and one RowOutcome per row with its problems named by row and column.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from compliance.classifier import QUESTIONNAIRE_VERSION, AnswerError, answers_clean, classify
from compliance.models import Classification, Tier
from compliance.policy import may_confirm
from compliance.services import obligation_catalogue
from gates.models import Decision
from initiatives.models import (
    BusinessCase,
    Framework,
    Initiative,
    KeyCounter,
    Measurement,
    Stage,
    Target,
)
from initiatives.services import initiative_people_validate
from portfolio_import import values
from portfolio_import.columns import (
    CHECKLIST,
    CLASSIFICATIONS,
    HISTORY,
    INITIATIVES,
    MEASUREMENTS,
    MEMBERS,
)
from portfolio_import.reading import Sheet
from portfolio_import.report import Action, RowOutcome
from portfolio_import.values import CellError
from teams.models import Team
from teams.roles import StageRole

KEY_PATTERN = re.compile(r"^([A-Z]{1,8})-(\d{3,})$")
TAG_PATTERN = re.compile(r"^[a-z0-9_-]{1,40}$")
TARGET_PATTERN = re.compile(
    r"^(?P<metric>[A-Za-z0-9_-]{1,60})\s*(?P<comparator>>=|<=|≥|≤)?\s*"
    r"(?P<threshold>-?\d+(?:[.,]\d+)?(?:e[+-]?\d+)?)\s*(?P<unit>[^;]{0,20})$"
)
# Bounds of a threshold or a measured value: far beyond any metric, well inside a float.
VALUE_LIMIT = 1e15
RESUME = "resume"
# Not a decision: the owner asked the gatekeepers to decide the gate (still pending).
REVIEW = "review"
ADVANCING = (Decision.GO, Decision.CONDITIONAL_GO)
DEFAULT_RATIONALE = "Recorded before Tollgate; brought in by the portfolio import."
DEFAULT_OVERRIDE = "Decided before Tollgate, where the checklist was kept elsewhere."
STATUS_CHOICES = {
    **{value: value for value in Initiative.Status.values},
    **{label.lower().replace(" ", "_"): value for value, label in Initiative.Status.choices},
}
DECISION_CHOICES = {
    **{value: value for value in Decision.values},
    "conditional": Decision.CONDITIONAL_GO,
    RESUME: RESUME,
    REVIEW: REVIEW,
}
ITEM_STATES = {
    "done": "done",
    "not_applicable": "not_applicable",
    "n_a": "not_applicable",
    "na": "not_applicable",
    "open": "open",
}
SOURCES = {value: value for value in Measurement.Source.values}
ROLE_CHOICES = {
    **{value: value for value in StageRole.values},
    **{label.lower().replace(" ", "_"): value for value, label in StageRole.choices},
}
BUSINESS_CASE_DECIMALS = {
    "metric_baseline": (16, 4, None),
    "metric_target": (16, 4, None),
    "expected_annual_value": (14, 2, 0),
    "investment_to_date": (14, 2, 0),
    "planned_team_cost": (14, 2, 0),
    "planned_infra_cost": (14, 2, 0),
    "cost_per_task_budget": (12, 4, 0),
}
DESCRIPTIVE_FIELDS = Initiative.EDITABLE_FIELDS
validate_url = URLValidator(schemes=["http", "https"])


# --- The plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetSpec:
    metric_key: str
    threshold: float
    comparator: str | None = None
    unit: str | None = None


@dataclass
class HistoryStep:
    outcome: RowOutcome
    stage: Stage
    decision: str | None
    at: datetime.datetime | None
    decided_by: object | None
    rationale: str
    override: str
    entered_at: datetime.datetime | None = None


@dataclass
class ChecklistChange:
    outcome: RowOutcome
    stage: Stage
    text: str
    state: str
    na_reason: str
    evidence_url: str
    note: str
    updated_by: object | None
    at: datetime.datetime | None


@dataclass
class MeasurementRow:
    outcome: RowOutcome
    metric_key: str
    value: float
    at: datetime.datetime
    source: str


@dataclass
class MemberRow:
    outcome: RowOutcome
    person: object
    stage_role: str
    allocation: int


@dataclass
class ClassificationRow:
    outcome: RowOutcome
    answers: dict
    questionnaire_version: int
    classified_by: object | None
    confirmed_by: object | None
    at: datetime.datetime


@dataclass
class InitiativePlan:
    """Everything the file says about one initiative, new or already in Tollgate."""

    outcome: RowOutcome | None  # None: only named by the other tables
    existing: Initiative | None = None
    key: str = ""
    external_id: str = ""
    name: str = ""
    fields: dict = field(default_factory=dict)  # descriptive fields given in the row
    framework: Framework | None = None
    stage: Stage | None = None
    stage_entered_at: datetime.datetime | None = None
    status: str | None = None
    tags: list[str] | None = None
    business_case: dict = field(default_factory=dict)
    targets: list[TargetSpec] = field(default_factory=list)
    history: list[HistoryStep] = field(default_factory=list)
    checklist: list[ChecklistChange] = field(default_factory=list)
    measurements: list[MeasurementRow] = field(default_factory=list)
    members: list[MemberRow] = field(default_factory=list)
    classification: ClassificationRow | None = None
    # Worked out from the history: where the initiative starts and how far it is replayed.
    start_stage: Stage | None = None
    start_at: datetime.datetime | None = None
    new_steps: list[HistoryStep] = field(default_factory=list)
    final_stage: Stage | None = None
    final_status: str | None = None
    completed: bool = False

    @property
    def label(self) -> str:
        return self.key or self.external_id or self.name

    @property
    def is_new(self) -> bool:
        return self.existing is None


@dataclass
class Plan:
    initiatives: list[InitiativePlan] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)
    now: datetime.datetime = field(default_factory=timezone.now)
    # {prefix: highest number given in the file}, so the key counter moves past them.
    key_numbers: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(outcome.ok for outcome in self.outcomes)


# --- Lookups: one query per kind ----------------------------------------------------------------


class Lookups:
    def __init__(self, sheets: dict[str, Sheet]):
        people, teams, refs = set(), set(), set()
        person_columns = {
            INITIATIVES.name: ["owner", "sponsor"],
            HISTORY.name: ["decided_by"],
            CHECKLIST.name: ["updated_by"],
            MEMBERS.name: ["person"],
            CLASSIFICATIONS.name: ["classified_by", "confirmed_by"],
        }
        for table, columns in person_columns.items():
            for _, row in sheets[table].rows if table in sheets else []:
                people.update(
                    str(row[column]).strip().lower()
                    for column in columns
                    if not values.is_blank(row.get(column))
                )
        if INITIATIVES.name in sheets:
            for _, row in sheets[INITIATIVES.name].rows:
                if not values.is_blank(row.get("team")):
                    teams.add(str(row["team"]).strip().lower())
                for column in ("key", "external_id", "name"):
                    if values.is_blank(row.get(column)):
                        continue
                    if column == "key":
                        refs.add(str(row[column]).strip().upper())
                        continue
                    try:
                        refs.add(values.text(row[column], max_length=200))
                    except values.CellError:
                        # Refers to nothing; the row's own checks name the problem.
                        continue
        for table in (
            HISTORY.name,
            CHECKLIST.name,
            MEASUREMENTS.name,
            MEMBERS.name,
            CLASSIFICATIONS.name,
        ):
            for _, row in sheets[table].rows if table in sheets else []:
                if not values.is_blank(row.get("initiative")):
                    refs.add(str(row["initiative"]).strip())
        User = get_user_model()
        self.people: dict[str, object] = {}
        if people:
            # Each person's roles are read once, when first asked, and kept on the user
            # object: one query per person named, however many rows name them.
            found = User.objects.annotate(
                email_lower=Lower("email"), username_lower=Lower("username")
            ).filter(Q(username_lower__in=people) | Q(email_lower__in=people))
            for user in found:
                self.people[user.username.lower()] = user
                if user.email:
                    self.people.setdefault(user.email.lower(), user)
        self.teams: dict[str, Team] = {}
        if teams:
            for team in Team.objects.annotate(
                name_lower=Lower("name"), slug_lower=Lower("slug")
            ).filter(Q(slug_lower__in=teams) | Q(name_lower__in=teams)):
                self.teams[team.slug.lower()] = team
                self.teams[team.name.lower()] = team
        self.frameworks: dict[str, Framework] = {}
        self.default_framework: Framework | None = None
        for framework in Framework.objects.prefetch_related("stages__checklist_templates"):
            self.frameworks[framework.slug.lower()] = framework
            self.frameworks[framework.name.lower()] = framework
            framework.ordered_stages = sorted(framework.stages.all(), key=lambda s: s.order)
            if framework.is_default or self.default_framework is None:
                self.default_framework = framework
        # Initiatives the file may name: by key, external id or exact name.
        upper = {ref.upper() for ref in refs}
        existing = (
            Initiative.objects.filter(
                Q(key__in=upper) | Q(name__in=refs) | Q(external_reference__external_id__in=refs)
            )
            .select_related("framework", "stage", "team", "owner", "sponsor", "business_case")
            .select_related("external_reference")
            .prefetch_related("tags", "targets", "memberships")
            if refs
            else Initiative.objects.none()
        )
        self.by_key: dict[str, Initiative] = {}
        self.by_external_id: dict[str, Initiative] = {}
        self.by_name: dict[str, list[Initiative]] = defaultdict(list)
        for initiative in existing:
            self.by_key[initiative.key] = initiative
            reference = getattr(initiative, "external_reference", None)
            if reference is not None:
                self.by_external_id[reference.external_id] = initiative
            self.by_name[initiative.name].append(initiative)
        self.key_counters = dict(KeyCounter.objects.values_list("prefix", "last_value"))

    def person(self, value) -> object | None:
        return self.people.get(str(value).strip().lower())

    def team(self, value) -> Team | None:
        return self.teams.get(str(value).strip().lower())

    def framework(self, value) -> Framework | None:
        return self.frameworks.get(str(value).strip().lower())


def stage_in(framework: Framework, value) -> Stage | None:
    wanted = str(value).strip().lower()
    for stage in framework.ordered_stages:
        if wanted in (stage.key.lower(), stage.name.lower()):
            return stage
    return None


def _next_stage(stage: Stage) -> Stage | None:
    stages = stage.framework.ordered_stages
    index = [s.pk for s in stages].index(stage.pk)
    return stages[index + 1] if index + 1 < len(stages) else None


# --- Planning ---------------------------------------------------------------------------------


class Planner:
    def __init__(self, sheets: dict[str, Sheet], *, now: datetime.datetime | None = None):
        self.sheets = sheets
        self.plan = Plan(now=now or timezone.now())
        self.lookups = Lookups(sheets)
        self.refs: dict[str, InitiativePlan] = {}
        self.ambiguous: set[str] = set()

    def run(self) -> Plan:
        self._initiatives()
        self._attach(HISTORY.name, self._history_row)
        self._attach(CHECKLIST.name, self._checklist_row)
        self._attach(MEASUREMENTS.name, self._measurement_row)
        self._attach(MEMBERS.name, self._member_row)
        self.catalogue = obligation_catalogue()
        self._attach(CLASSIFICATIONS.name, self._classification_row)
        existing_ids = [plan.existing.pk for plan in self.plan.initiatives if plan.existing]
        self.recorded = _recorded_histories(existing_ids)
        self.visited, self.starts = _visited_stages(existing_ids)
        self.classified = {
            classification.initiative_id: classification
            for classification in Classification.objects.filter(
                initiative_id__in=[
                    plan.existing.pk
                    for plan in self.plan.initiatives
                    if plan.existing and plan.classification
                ]
            ).select_related("revision")
        }
        for initiative in self.plan.initiatives:
            self._check_history(initiative)
            self._check_checklist(initiative)
            self._check_measurements(initiative)
            self._check_members(initiative)
            self._check_classification(initiative)
            self._settle_action(initiative)
        return self.plan

    # -- cells --------------------------------------------------------------------------------

    def _cell(self, outcome: RowOutcome, row: dict, column: str, convert, *args, **kwargs):
        """The converted value of a cell, or None when blank or wrong (the problem is noted)."""
        raw = row.get(column)
        if values.is_blank(raw):
            return None
        try:
            return convert(raw, *args, **kwargs)
        except CellError as error:
            outcome.problem(column, str(error))
            return None

    def _moment(self, outcome, row, column, sheet: Sheet):
        value = self._cell(
            outcome, row, column, values.moment, epoch=sheet.epoch, now=self.plan.now
        )
        return value[0] if value else None

    def _person(self, outcome, row, column):
        raw = row.get(column)
        if values.is_blank(raw):
            return None
        person = self.lookups.person(raw)
        if person is None:
            outcome.problem(column, f"No one in Tollgate has the username or email {raw!s:.80}.")
        elif not person.is_active:
            outcome.problem(column, f"{person.get_full_name() or person.username} is deactivated.")
            return None
        return person

    def _required(self, outcome, row, column) -> bool:
        if values.is_blank(row.get(column)):
            outcome.problem(column, "Required.")
            return False
        return True

    # -- initiatives --------------------------------------------------------------------------

    def _initiatives(self) -> None:
        sheet = self.sheets.get(INITIATIVES.name)
        if sheet is None:
            return
        for number, row in sheet.rows:
            outcome = RowOutcome(INITIATIVES.name, number)
            self.plan.outcomes.append(outcome)
            plan = self._initiative_row(outcome, row, sheet)
            plan.outcome = outcome
            outcome.label = plan.label
            self.plan.initiatives.append(plan)

    def _initiative_row(self, outcome: RowOutcome, row: dict, sheet: Sheet) -> InitiativePlan:
        lookups = self.lookups
        plan = InitiativePlan(outcome=outcome)
        key = self._cell(outcome, row, "key", values.text, max_length=20)
        if key:
            key = key.upper()
            match = KEY_PATTERN.match(key)
            if not match:
                outcome.problem(
                    "key",
                    "Keys look like AI-001: capital letters, a hyphen, at least three digits.",
                )
                key = ""
        plan.key = key or ""
        plan.external_id = (
            self._cell(outcome, row, "external_id", values.text, max_length=100) or ""
        )
        plan.name = self._cell(outcome, row, "name", values.text, max_length=200) or ""
        self._required(outcome, row, "name")

        # Which initiative in Tollgate is this row? Key, then external id, then name.
        if plan.key:
            plan.existing = lookups.by_key.get(plan.key)
            if plan.existing is None:
                prefix, digits = KEY_PATTERN.match(plan.key).groups()
                if int(digits) <= lookups.key_counters.get(prefix, 0):
                    outcome.problem(
                        "key",
                        f"{plan.key} was handed out before and keys are never reused; "
                        "leave the key empty to get a new one.",
                    )
                self.plan.key_numbers[prefix] = max(
                    self.plan.key_numbers.get(prefix, 0), int(digits)
                )
        if plan.existing is None and plan.external_id:
            plan.existing = lookups.by_external_id.get(plan.external_id)
            if plan.existing is not None and plan.key and plan.existing.key != plan.key:
                outcome.problem(
                    "external_id",
                    f"{plan.external_id} belongs to {plan.existing.key}, not {plan.key}.",
                )
        if plan.existing is None and not plan.key and not plan.external_id and plan.name:
            same_name = lookups.by_name.get(plan.name, [])
            if len(same_name) > 1:
                outcome.problem(
                    "name",
                    f"{len(same_name)} initiatives are named {plan.name!r}; "
                    "add a key or external_id column to say which.",
                )
            elif same_name:
                plan.existing = same_name[0]
        existing = plan.existing
        if existing is not None:
            reference = getattr(existing, "external_reference", None)
            if plan.external_id and reference and reference.external_id != plan.external_id:
                outcome.problem(
                    "external_id",
                    f"{existing.key} already has the external id {reference.external_id}.",
                )
            plan.key = existing.key

        for ref in filter(None, [plan.key, plan.external_id, plan.name]):
            if ref in self.refs and self.refs[ref] is not plan:
                if ref in (plan.key, plan.external_id):
                    column = "key" if ref == plan.key else "external_id"
                    outcome.problem(column, f"{ref} appears on another row of this file too.")
                else:
                    self.ambiguous.add(ref)
            else:
                self.refs[ref] = plan
        if existing is not None and plan.name:
            self.refs.setdefault(existing.name, plan)

        # Descriptive fields: given cells only; blank cells leave an existing value alone.
        for column in ("summary", "problem"):
            value = self._cell(outcome, row, column, values.text, max_length=10_000)
            if value is not None:
                plan.fields[column] = value
        if plan.name:
            plan.fields["name"] = plan.name
        for column in ("team", "owner", "sponsor"):
            if existing is None:
                self._required(outcome, row, column)
        team_raw = row.get("team")
        if not values.is_blank(team_raw):
            team = lookups.team(team_raw)
            if team is None:
                outcome.problem("team", f"No team is called {team_raw!s:.80} (slug or name).")
            else:
                plan.fields["team"] = team
        for column in ("owner", "sponsor"):
            person = self._person(outcome, row, column)
            if person is not None:
                plan.fields[column] = person
        owner = plan.fields.get("owner", existing.owner if existing else None)
        sponsor = plan.fields.get("sponsor", existing.sponsor if existing else None)
        if owner is not None and sponsor is not None:
            try:
                initiative_people_validate(owner=owner, sponsor=sponsor)
            except ValidationError as error:
                for column, messages in error.message_dict.items():
                    outcome.problem(column, " ".join(messages))
        maturity = self._cell(outcome, row, "maturity", values.integer, minimum=0, maximum=2)
        if maturity is not None:
            plan.fields["maturity_level"] = maturity

        framework_raw = row.get("framework")
        if values.is_blank(framework_raw):
            plan.framework = existing.framework if existing else lookups.default_framework
        else:
            plan.framework = lookups.framework(framework_raw)
            if plan.framework is None:
                outcome.problem("framework", f"No framework is called {framework_raw!s:.80}.")
            elif existing is not None and existing.framework_id != plan.framework.pk:
                outcome.problem(
                    "framework",
                    f"{existing.key} follows {existing.framework.name}; "
                    "an import does not move it to another framework.",
                )
        if existing is not None and plan.framework is not None:
            plan.framework = lookups.frameworks[existing.framework.slug.lower()]
        stage_raw = row.get("stage")
        if not values.is_blank(stage_raw) and plan.framework is not None:
            plan.stage = stage_in(plan.framework, stage_raw)
            if plan.stage is None:
                names = ", ".join(s.key for s in plan.framework.ordered_stages)
                outcome.problem(
                    "stage",
                    f"{plan.framework.name} has no stage {stage_raw!s:.80} (its stages: {names}).",
                )
        plan.stage_entered_at = self._moment(outcome, row, "stage_entered_on", sheet)
        status = self._cell(outcome, row, "status", values.choice, STATUS_CHOICES)
        plan.status = status

        tags = self._cell(outcome, row, "tags", values.split_list)
        if tags is not None:
            cleaned = []
            for tag in tags:
                tag = tag.lower().replace(" ", "-")
                if not TAG_PATTERN.match(tag):
                    outcome.problem(
                        "tags",
                        f"{tag[:50]!r}: tags are up to 40 letters, digits, hyphens or underscores.",
                    )
                elif tag not in cleaned:
                    cleaned.append(tag)
            plan.tags = sorted(cleaned)

        for column, (digits, places, minimum) in BUSINESS_CASE_DECIMALS.items():
            amount = self._cell(
                outcome,
                row,
                column,
                values.decimal,
                max_digits=digits,
                places=places,
                minimum=minimum,
            )
            if amount is not None:
                plan.business_case[column] = amount
        volume = self._cell(
            outcome, row, "monthly_volume", values.integer, minimum=0, maximum=2_147_483_647
        )
        if volume is not None:
            plan.business_case["monthly_volume"] = volume
        for column, limit in (("outcome", 10_000), ("metric_name", 120)):
            value = self._cell(outcome, row, column, values.text, max_length=limit)
            if value is not None:
                plan.business_case[column] = value

        plan.targets = self._targets(outcome, row.get("targets"))
        if existing is not None:
            self._compare_existing(plan)
        return plan

    def _targets(self, outcome: RowOutcome, raw) -> list[TargetSpec]:
        specs: list[TargetSpec] = []
        if values.is_blank(raw):
            return specs
        for part in str(raw).split(";"):
            part = part.strip()
            if not part:
                continue
            match = TARGET_PATTERN.match(part)
            if not match:
                outcome.problem(
                    "targets",
                    f"{part[:60]!r}: write a metric, >= or <=, and a "
                    "threshold, e.g. accuracy >= 92.",
                )
                continue
            metric = match["metric"].lower()
            threshold = float(match["threshold"].replace(",", "."))
            if abs(threshold) > VALUE_LIMIT:
                outcome.problem("targets", f"{metric}: the threshold is out of range.")
                continue
            comparator = {"≥": ">=", "≤": "<="}.get(match["comparator"], match["comparator"])
            if comparator is None and metric not in Target.STANDARD_METRICS:
                outcome.problem("targets", f"{metric} is not a standard metric: say >= or <=.")
                continue
            if any(spec.metric_key == metric for spec in specs):
                outcome.problem("targets", f"{metric} is listed twice.")
                continue
            specs.append(TargetSpec(metric, threshold, comparator, match["unit"].strip() or None))
        return specs

    def _compare_existing(self, plan: InitiativePlan) -> None:
        """What the row would change on the initiative already in Tollgate."""
        existing, outcome = plan.existing, plan.outcome
        for name in DESCRIPTIVE_FIELDS:
            if name in plan.fields and plan.fields[name] != getattr(existing, name):
                outcome.changes.append(name)
        if plan.tags is not None and plan.tags != sorted(t.name for t in existing.tags.all()):
            outcome.changes.append("tags")
        case = getattr(existing, "business_case", None) or BusinessCase()
        for name, value in plan.business_case.items():
            before = getattr(case, name)
            if isinstance(before, Decimal) and value is not None:
                value = Decimal(value)
            if before != value:
                outcome.changes.append(name)
        current = {target.metric_key: target for target in existing.targets.all()}
        for spec in plan.targets:
            target = current.get(spec.metric_key)
            if target is None:
                outcome.changes.append(f"target {spec.metric_key}")
            elif target.threshold != spec.threshold or (
                spec.comparator and spec.comparator != target.comparator
            ):
                outcome.problem(
                    "targets",
                    f"{existing.key} already has {target}; an import adds targets but does not "
                    "change them.",
                )

    # -- the other tables ---------------------------------------------------------------------

    def _attach(self, table: str, handler) -> None:
        sheet = self.sheets.get(table)
        if sheet is None:
            return
        for number, row in sheet.rows:
            outcome = RowOutcome(table, number)
            self.plan.outcomes.append(outcome)
            initiative = self._initiative_for(outcome, row)
            if initiative is not None:
                outcome.label = initiative.label
                handler(outcome, row, sheet, initiative)

    def _initiative_for(self, outcome: RowOutcome, row: dict) -> InitiativePlan | None:
        if not self._required(outcome, row, "initiative"):
            return None
        ref = str(row["initiative"]).strip()
        if ref in self.ambiguous:
            outcome.problem(
                "initiative",
                f"Several rows of the initiatives table are named "
                f"{ref!r}; refer to a key or external id.",
            )
            return None
        plan = self.refs.get(ref) or self.refs.get(ref.upper())
        if plan is not None:
            return plan
        lookups = self.lookups
        existing = lookups.by_key.get(ref.upper()) or lookups.by_external_id.get(ref)
        if existing is None:
            same_name = lookups.by_name.get(ref, [])
            if len(same_name) > 1:
                outcome.problem(
                    "initiative", f"{len(same_name)} initiatives are named {ref!r}; refer to a key."
                )
                return None
            existing = same_name[0] if same_name else None
        if existing is None:
            outcome.problem(
                "initiative",
                f"No initiative {ref[:80]!r} in this file or in "
                "Tollgate (use its key, external id or name).",
            )
            return None
        plan = InitiativePlan(outcome=None, existing=existing, key=existing.key, name=existing.name)
        plan.framework = lookups.frameworks[existing.framework.slug.lower()]
        for alias in (existing.key, existing.name, ref):
            self.refs.setdefault(alias, plan)
        self.plan.initiatives.append(plan)
        return plan

    def _stage(self, outcome, row, initiative: InitiativePlan) -> Stage | None:
        if not self._required(outcome, row, "stage") or initiative.framework is None:
            return None
        stage = stage_in(initiative.framework, row["stage"])
        if stage is None:
            names = ", ".join(s.key for s in initiative.framework.ordered_stages)
            outcome.problem(
                "stage",
                f"{initiative.framework.name} has no stage "
                f"{row['stage']!s:.80} (its stages: {names}).",
            )
        return stage

    def _history_row(self, outcome, row, sheet, initiative: InitiativePlan) -> None:
        stage = self._stage(outcome, row, initiative)
        entered_at = self._moment(outcome, row, "entered_on", sheet)
        decision = self._cell(outcome, row, "decision", values.choice, DECISION_CHOICES)
        decided_at = self._moment(outcome, row, "decided_on", sheet)
        if decision and decided_at is None and values.is_blank(row.get("decided_on")):
            outcome.problem("decided_on", "Say when the decision was taken.")
        if not decision and not values.is_blank(row.get("decided_on")):
            outcome.problem("decision", "A decided_on date needs a decision.")
        decided_by = self._person(outcome, row, "decided_by")
        rationale = self._cell(outcome, row, "rationale", values.text, max_length=10_000)
        override = self._cell(
            outcome, row, "override_justification", values.text, max_length=10_000
        )
        if stage is None or not outcome.ok:
            initiative.history.append(None)  # keeps the order; the plan is not applied
            return
        if entered_at is not None:
            outcome.changes.append(f"entered {timezone.localtime(entered_at):%Y-%m-%d}")
        initiative.history.append(
            HistoryStep(
                outcome,
                stage,
                decision,
                decided_at,
                decided_by,
                rationale or "",
                override or "",
                entered_at,
            )
        )

    def _checklist_row(self, outcome, row, sheet, initiative: InitiativePlan) -> None:
        stage = self._stage(outcome, row, initiative)
        self._required(outcome, row, "item")
        text = self._cell(outcome, row, "item", values.text, max_length=300) or ""
        self._required(outcome, row, "state")
        state = self._cell(outcome, row, "state", values.choice, ITEM_STATES)
        na_reason = self._cell(outcome, row, "na_reason", values.text, max_length=10_000) or ""
        if state == "not_applicable" and not na_reason:
            outcome.problem("na_reason", "Say why the item does not apply.")
        evidence_url = self._cell(outcome, row, "evidence_url", values.text, max_length=500) or ""
        if evidence_url:
            try:
                validate_url(evidence_url)
            except ValidationError:
                outcome.problem("evidence_url", "Enter a full http:// or https:// address.")
        note = self._cell(outcome, row, "note", values.text, max_length=10_000) or ""
        updated_by = self._person(outcome, row, "updated_by")
        at = self._moment(outcome, row, "updated_at", sheet)
        if stage is not None and state and outcome.ok:
            initiative.checklist.append(
                ChecklistChange(
                    outcome, stage, text, state, na_reason, evidence_url, note, updated_by, at
                )
            )

    def _measurement_row(self, outcome, row, sheet, initiative: InitiativePlan) -> None:
        self._required(outcome, row, "metric")
        metric = (self._cell(outcome, row, "metric", values.text, max_length=60) or "").lower()
        self._required(outcome, row, "value")
        value = self._cell(
            outcome, row, "value", values.number, minimum=-VALUE_LIMIT, maximum=VALUE_LIMIT
        )
        self._required(outcome, row, "measured_at")
        at = self._moment(outcome, row, "measured_at", sheet)
        source = self._cell(outcome, row, "source", values.choice, SOURCES) or (
            Measurement.Source.INTEGRATION
        )
        if outcome.ok and metric:
            initiative.measurements.append(MeasurementRow(outcome, metric, value, at, source))

    def _member_row(self, outcome, row, sheet, initiative: InitiativePlan) -> None:
        self._required(outcome, row, "person")
        person = self._person(outcome, row, "person")
        self._required(outcome, row, "stage_role")
        role = self._cell(outcome, row, "stage_role", values.choice, ROLE_CHOICES)
        allocation = self._cell(
            outcome, row, "allocation_percent", values.integer, minimum=1, maximum=100
        )
        if outcome.ok and person is not None and role:
            initiative.members.append(MemberRow(outcome, person, role, allocation or 100))

    def _classification_row(self, outcome, row, sheet, initiative: InitiativePlan) -> None:
        if initiative.classification is not None:
            outcome.problem("initiative", "Another row classifies this initiative too.")
            return
        version = (
            self._cell(outcome, row, "questionnaire_version", values.integer, minimum=1, maximum=99)
            or QUESTIONNAIRE_VERSION
        )
        answers = None
        if self._required(outcome, row, "answers"):
            answers = self._cell(outcome, row, "answers", values.json_object, max_length=5000)
        if answers is not None:
            try:
                answers = answers_clean(answers, version)
            except AnswerError as error:
                for key, message in error.errors.items():
                    column = (
                        "questionnaire_version" if key == "questionnaire_version" else "answers"
                    )
                    outcome.problem(column, f"{key}: {message}")
                answers = None
        tier = self._cell(outcome, row, "tier", values.choice, {t: t for t in Tier.values})
        if answers is not None and tier and classify(answers, self.catalogue).tier != tier:
            found = classify(answers, self.catalogue).tier
            outcome.problem("tier", f"The answers lead to {found}, not {tier}.")
        classified_by = self._person(outcome, row, "classified_by")
        confirmed_by = self._person(outcome, row, "confirmed_by")
        if confirmed_by is not None and not may_confirm(confirmed_by):
            outcome.problem(
                "confirmed_by",
                f"{confirmed_by.username} is neither a portfolio admin nor a compliance officer.",
            )
        at = self._moment(outcome, row, "confirmed_at", sheet) or self.plan.now
        if outcome.ok and answers is not None:
            initiative.classification = ClassificationRow(
                outcome, answers, version, classified_by, confirmed_by, at
            )

    # -- checks across rows -------------------------------------------------------------------

    def _check_history(self, plan: InitiativePlan) -> None:
        """Walk the history in order: each row where the initiative is at that point."""
        steps = plan.history
        existing = plan.existing
        framework = plan.framework
        if (
            any(step is None for step in steps)
            or framework is None
            or (plan.outcome is not None and not plan.outcome.ok)
        ):
            return
        if not steps:
            self._check_without_history(plan)
            return
        recorded = self.recorded.get(existing.pk, []) if existing is not None else []
        first = steps[0]
        stage = first.stage
        start_at = first.entered_at
        if existing is None and start_at is None:
            if (
                plan.stage_entered_at is not None
                and len(steps) == 1
                and (plan.stage in (None, stage))
            ):
                start_at = plan.stage_entered_at
            else:
                first.outcome.problem(
                    "entered_on", "The first history row of an initiative says when it started."
                )
                return
        if existing is None:
            plan.start_stage, plan.start_at = stage, start_at
        else:
            start_at = start_at or self.starts.get(existing.pk) or self.plan.now
        status = Initiative.Status.ACTIVE
        entered_at = start_at
        last_at = start_at
        previous_advance = None
        for index, step in enumerate(steps):
            outcome = step.outcome
            if step.stage.pk != stage.pk:
                outcome.problem(
                    "stage",
                    f"At this point {plan.label} is in {stage.name}; a "
                    f"row for {step.stage.name} needs a go on {stage.name} first.",
                )
                return
            if (
                index > 0
                and step.entered_at is not None
                and (existing is None or previous_advance is not None)
                and timezone.localtime(step.entered_at).date()
                != (timezone.localtime(entered_at).date())
            ):
                outcome.problem(
                    "entered_on",
                    f"{plan.label} entered {stage.name} on "
                    f"{timezone.localtime(entered_at):%Y-%m-%d}, when the go before "
                    "it was decided.",
                )
                return
            if step.decision is None:
                if index != len(steps) - 1:
                    outcome.problem(
                        "decision",
                        "Only the last row of an initiative may leave "
                        "the decision empty (a stay still under way).",
                    )
                    return
                continue
            if step.at < last_at:
                outcome.problem(
                    "decided_on",
                    f"This comes before the previous event of "
                    f"{plan.label} ({timezone.localtime(last_at):%Y-%m-%d %H:%M}).",
                )
                return
            if status == Initiative.Status.STOPPED:
                outcome.problem("decision", f"{plan.label} was stopped; nothing follows a stop.")
                return
            if step.decision == REVIEW:
                if status != Initiative.Status.ACTIVE or not stage.has_exit_gate:
                    outcome.problem(
                        "decision",
                        "Only an active initiative with a gate to decide can ask for a review.",
                    )
                    return
                step.decided_by = (
                    step.decided_by
                    or plan.fields.get("owner")
                    or (existing.owner if existing else None)
                )
            elif step.decision == RESUME:
                if status != Initiative.Status.ON_HOLD:
                    outcome.problem("decision", "Only an initiative on hold can be resumed.")
                    return
                status = Initiative.Status.ACTIVE
                step.decided_by = (
                    step.decided_by
                    or plan.fields.get("owner")
                    or (existing.owner if existing else None)
                )
            else:
                if status == Initiative.Status.ON_HOLD:
                    outcome.problem("decision", f"{plan.label} is on hold here; resume it first.")
                    return
                if not stage.has_exit_gate:
                    outcome.problem("decision", f"{stage.name} has no exit gate to decide.")
                    return
                sponsor = plan.fields.get("sponsor") or (existing.sponsor if existing else None)
                step.decided_by = step.decided_by or sponsor
                if step.decision in ADVANCING:
                    following = _next_stage(stage)
                    if following is None:
                        outcome.problem(
                            "decision",
                            f"{stage.name} is the last stage; there is nothing to advance to.",
                        )
                        return
                    stage, entered_at, previous_advance = following, step.at, step
                elif step.decision == Decision.HOLD:
                    status = Initiative.Status.ON_HOLD
                elif step.decision == Decision.STOP:
                    status = Initiative.Status.STOPPED
            last_at = step.at
        plan.final_stage, plan.final_status = stage, status
        if plan.outcome is None:
            self._new_steps(plan, recorded)
            return
        if plan.stage is not None and plan.stage.pk != stage.pk:
            plan.outcome.problem(
                "stage", f"The history leaves {plan.label} in {stage.name}, not {plan.stage.name}."
            )
        if plan.stage_entered_at is not None and (
            timezone.localtime(plan.stage_entered_at).date()
            != timezone.localtime(entered_at).date()
        ):
            plan.outcome.problem(
                "stage_entered_on",
                f"The history has {plan.label} enter "
                f"{stage.name} on {timezone.localtime(entered_at):%Y-%m-%d}.",
            )
        wanted = plan.status
        if wanted == Initiative.Status.COMPLETED:
            if status != Initiative.Status.ACTIVE:
                plan.outcome.problem(
                    "status",
                    f"The history leaves {plan.label} {status}, so it cannot be completed.",
                )
            elif existing is None or existing.status != Initiative.Status.COMPLETED:
                plan.completed = True
        elif wanted is not None and wanted != status:
            need = {"on_hold": "a hold", "stopped": "a stop"}.get(wanted)
            plan.outcome.problem(
                "status",
                f"The history leaves {plan.label} {status.replace('_', ' ')}"
                + (f"; add {need} decision to the history table." if need else "."),
            )
        self._new_steps(plan, recorded)

    def _check_without_history(self, plan: InitiativePlan) -> None:
        """No history rows: a new initiative enters Tollgate in its stage on its date."""
        existing, outcome = plan.existing, plan.outcome
        if existing is None:
            stage = plan.stage or plan.framework.ordered_stages[0]
            plan.start_stage = plan.final_stage = stage
            plan.start_at = plan.stage_entered_at or self.plan.now
            plan.final_status = Initiative.Status.ACTIVE
            if plan.status in (Initiative.Status.ON_HOLD, Initiative.Status.STOPPED):
                need = "a hold" if plan.status == Initiative.Status.ON_HOLD else "a stop"
                outcome.problem(
                    "status", f"Say when: add {need} decision on {stage.name} to the history table."
                )
            plan.completed = plan.status == Initiative.Status.COMPLETED
            return
        if outcome is None:
            return
        if plan.stage is not None and plan.stage.pk != existing.stage_id:
            outcome.problem(
                "stage",
                f"{existing.key} is in {existing.stage.name} in Tollgate; "
                "stages change through gate decisions (add them to the history).",
            )
        if plan.stage_entered_at is not None and (
            timezone.localtime(plan.stage_entered_at).date() != existing.stage_entered_on
        ):
            outcome.problem(
                "stage_entered_on",
                f"{existing.key} entered {existing.stage.name} on "
                f"{existing.stage_entered_on:%Y-%m-%d} in Tollgate.",
            )
        if plan.status is not None and plan.status != existing.status:
            if plan.status == Initiative.Status.COMPLETED and (
                existing.status == Initiative.Status.ACTIVE
            ):
                plan.completed = True
                outcome.changes.append("status")
            else:
                outcome.problem(
                    "status",
                    f"{existing.key} is {existing.get_status_display()} "
                    "in Tollgate; status changes through gate decisions.",
                )

    def _new_steps(self, plan: InitiativePlan, recorded: list[tuple]) -> None:
        """For an initiative already in Tollgate: the rows after what it has recorded."""
        decided = [step for step in plan.history if step.decision]
        if plan.existing is None:
            plan.new_steps = decided
            for step in decided:
                step.outcome.action = Action.CREATE
            return
        if plan.existing.status == Initiative.Status.COMPLETED and decided[len(recorded) :]:
            decided[len(recorded)].outcome.problem("decision", f"{plan.label} is completed.")
            return
        for index, step in enumerate(decided):
            if index < len(recorded):
                stage_id, decision, day = recorded[index]
                same = (
                    stage_id in (None, step.stage.pk)
                    and decision == step.decision
                    and day == timezone.localtime(step.at).date()
                )
                if not same:
                    step.outcome.problem(
                        "decision",
                        f"Tollgate recorded a different history "
                        f"for {plan.label} here; an import only adds to it.",
                    )
                    return
                step.outcome.action = Action.UNCHANGED
            else:
                step.outcome.action = Action.CREATE
        for step in plan.history:
            if not step.decision:
                step.outcome.action = Action.UNCHANGED
        plan.new_steps = decided[len(recorded) :]
        if plan.new_steps and plan.existing.stage_id != (plan.new_steps[0].stage.pk):
            plan.new_steps[0].outcome.problem(
                "stage", f"{plan.label} is in {plan.existing.stage.name} in Tollgate."
            )

    def _check_checklist(self, plan: InitiativePlan) -> None:
        visited = {step.stage.pk for step in plan.history if step}
        if plan.start_stage:
            visited.add(plan.start_stage.pk)
        final = getattr(plan, "final_stage", None)
        if final is not None:
            visited.add(final.pk)
        if plan.existing is not None:
            visited.update(self.visited.get(plan.existing.pk, ()))
        seen = set()
        for change in plan.checklist:
            if change.stage.pk not in visited:
                change.outcome.problem("stage", f"{plan.label} never reaches {change.stage.name}.")
            identity = (change.stage.pk, change.text)
            if identity in seen:
                change.outcome.problem("item", "This item appears on another row too.")
            seen.add(identity)
            if change.updated_by is None:
                change.updated_by = plan.fields.get("owner") or (
                    plan.existing.owner if plan.existing else None
                )

    def _check_measurements(self, plan: InitiativePlan) -> None:
        metrics = {spec.metric_key for spec in plan.targets}
        if plan.existing is not None:
            metrics.update(target.metric_key for target in plan.existing.targets.all())
        start = plan.start_at if plan.existing is None else None
        for row in plan.measurements:
            if row.metric_key not in metrics:
                row.outcome.problem(
                    "metric",
                    f"{plan.label} has no {row.metric_key} target; add it to the targets column.",
                )
            elif start is not None and row.at < start:
                row.outcome.problem(
                    "measured_at",
                    f"Before {plan.label} started ({timezone.localtime(start):%Y-%m-%d}).",
                )

    def _check_members(self, plan: InitiativePlan) -> None:
        seen = set()
        held = set()
        if plan.existing is not None:
            held = {(m.user_id, m.stage_role) for m in plan.existing.memberships.all()}
        for row in plan.members:
            identity = (row.person.pk, row.stage_role)
            if identity in seen:
                row.outcome.problem("person", "This person has this role on another row too.")
            seen.add(identity)
            row.outcome.action = Action.UNCHANGED if identity in held else Action.CREATE

    def _check_classification(self, plan: InitiativePlan) -> None:
        row = plan.classification
        if row is None:
            return
        if plan.existing is None and plan.start_at is not None and row.at < plan.start_at:
            row.outcome.problem(
                "confirmed_at",
                f"Before {plan.label} started ({timezone.localtime(plan.start_at):%Y-%m-%d}).",
            )
        if row.classified_by is None:
            row.classified_by = plan.fields.get("owner") or (
                plan.existing.owner if plan.existing else None
            )
        current = self.classified.get(plan.existing.pk) if plan.existing else None
        same = current is not None and (
            current.revision.answers == row.answers
            and current.revision.questionnaire_version == row.questionnaire_version
        )
        if same:
            row.outcome.action = Action.UNCHANGED
            plan.classification = None
        else:
            row.outcome.action = Action.CREATE if current is None else Action.UPDATE

    def _settle_action(self, plan: InitiativePlan) -> None:
        outcome = plan.outcome
        if outcome is None or not outcome.ok:
            return
        if plan.existing is None:
            outcome.action = Action.CREATE
            stage = getattr(plan, "final_stage", None) or plan.start_stage
            outcome.changes = [f"new in {stage.name}"] if stage else []
        else:
            outcome.action = Action.UPDATE if outcome.changes else Action.UNCHANGED


def _recorded_histories(initiative_ids: list[int]) -> dict[int, list[tuple]]:
    """{initiative id: [(stage id, decision, local date)]} of the decisions and resumes
    Tollgate holds, in order: two queries for any number of initiatives."""
    from gates.models import GateDecision
    from initiatives.models import Activity

    events: dict[int, list] = defaultdict(list)
    if not initiative_ids:
        return events
    for initiative_id, stage_id, decision, decided_at in GateDecision.objects.filter(
        gate__initiative_id__in=initiative_ids
    ).values_list("gate__initiative_id", "gate__stage_id", "decision", "decided_at"):
        events[initiative_id].append((decided_at, stage_id, decision))
    resumes = Activity.objects.filter(
        initiative_id__in=initiative_ids,
        verb="initiative.changed",
        field="status",
        before="on_hold",
        after="active",
    ).values_list("initiative_id", "created_at")
    # A resume names no stage: it continues the gate the hold paused.
    for initiative_id, created_at in resumes:
        events[initiative_id].append((created_at, None, RESUME))
    from gates.models import Gate

    for initiative_id, stage_id, requested_at in Gate.objects.filter(
        initiative_id__in=initiative_ids, state=Gate.State.IN_REVIEW
    ).values_list("initiative_id", "stage_id", "review_requested_at"):
        events[initiative_id].append((requested_at, stage_id, REVIEW))
    return {
        initiative_id: [
            (stage_id, decision, timezone.localtime(at).date())
            for at, stage_id, decision in sorted(rows, key=lambda event: event[0])
        ]
        for initiative_id, rows in events.items()
    }


def _visited_stages(initiative_ids: list[int]) -> tuple[dict, dict]:
    """({initiative id: ids of the stages it entered}, {initiative id: when it started})."""
    from gates.models import StageTransition

    visited: dict[int, set[int]] = defaultdict(set)
    starts: dict[int, datetime.datetime] = {}
    for initiative_id, stage_id, from_stage, at in StageTransition.objects.filter(
        initiative_id__in=initiative_ids
    ).values_list("initiative_id", "to_stage_id", "from_stage_id", "transitioned_at"):
        visited[initiative_id].add(stage_id)
        if from_stage is None:
            starts[initiative_id] = at
    return visited, starts


def plan_import(sheets: dict[str, Sheet], *, now: datetime.datetime | None = None) -> Plan:
    return Planner(sheets, now=now).run()
