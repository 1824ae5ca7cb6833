"""Read paths of the portfolio dashboard, the CSV exports and the initiative brief.

Every figure is aggregated by the database (conditional counts, sums, a LEAD
window over the stage history) and the dashboard costs the same number of
queries whatever the size of the portfolio. Nothing here writes.

Scope: every read starts from `Initiative.objects.visible_to(user)`, narrowed
by the dashboard filters (framework, team and the period in which the
initiative started), so each figure counts only what the reader may see.
"""

from __future__ import annotations

import datetime
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Lead, TruncMonth
from django.utils import timezone

from compliance import selectors as compliance_selectors
from core.versions import portfolio_cached
from gates.models import ChecklistItem, Gate, StageTransition
from gates.selectors import with_current_gate
from initiatives.models import Framework, Initiative, Stage, Target, roles_wanted
from teams.models import Team
from teams.policy import reads_everything
from teams.roles import StageRole

PERIODS = {
    "all": ("All time", None),
    "12m": ("Started in the last 12 months", 365),
    "90d": ("Started in the last 90 days", 90),
}
DEFAULT_PERIOD = "all"
# The first two stages of a framework (PoC and MVP) are where pilots get stuck.
PILOT_STAGE_COUNT = 2
# IDC and Lenovo: for every 33 proofs of concept, 4 reach deployment.
INDUSTRY_POC_STARTED = 33
INDUSTRY_POC_DEPLOYED = 4
PURGATORY_LIMIT = 20
OVERDUE_OWNERS_LIMIT = 20
TIMELINE_PAGE_SIZE = 50
MONTHS_SHOWN = 12
EXPORT_CHUNK_SIZE = 2000

ACTIVE = Q(status=Initiative.Status.ACTIVE)
LIVE_STATUSES = [Initiative.Status.ACTIVE, Initiative.Status.COMPLETED]


# --- Filters and scope ----------------------------------------------------------------


@dataclass(frozen=True)
class DashboardFilters:
    framework: Framework
    team: Team | None = None
    period: str = DEFAULT_PERIOD
    today: datetime.date = field(default_factory=timezone.localdate)

    @property
    def since(self) -> datetime.date | None:
        days = PERIODS.get(self.period, PERIODS[DEFAULT_PERIOD])[1]
        return None if days is None else self.today - datetime.timedelta(days=days)

    @property
    def since_moment(self) -> datetime.datetime | None:
        since = self.since
        if since is None:
            return None
        return timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))

    @property
    def period_label(self) -> str:
        return PERIODS.get(self.period, PERIODS[DEFAULT_PERIOD])[0]

    def as_query(self) -> dict[str, str]:
        query = {"framework": self.framework.slug, "period": self.period}
        if self.team is not None:
            query["team"] = self.team.slug
        return query

    def initiatives(self, user) -> QuerySet[Initiative]:
        """The initiatives every figure counts: visible, in the framework, team and period."""
        queryset = Initiative.objects.visible_to(user).filter(framework=self.framework)
        if self.team is not None:
            queryset = queryset.filter(team=self.team)
        since = self.since_moment
        if since is not None:
            started = StageTransition.objects.filter(
                initiative=OuterRef("pk"), from_stage__isnull=True, transitioned_at__gte=since
            )
            queryset = queryset.filter(Exists(started))
        return queryset


def filter_choices(user) -> tuple[list[Framework], list[Team]]:
    """Frameworks (all of them, there are few) and the teams with initiatives the user sees."""
    frameworks = list(Framework.objects.order_by("-is_default", "name"))
    visible = Initiative.objects.visible_to(user).filter(team=OuterRef("pk"))
    teams = list(Team.objects.filter(Exists(visible)).order_by("name"))
    return frameworks, teams


# --- The dashboard ----------------------------------------------------------------------


@dataclass
class StageFigures:
    stage: Stage
    position: int
    total: int = 0
    active: int = 0
    on_hold: int = 0
    stopped: int = 0
    completed: int = 0
    stalled: int = 0
    overdue: int = 0
    expected_value: Decimal = Decimal(0)
    investment: Decimal = Decimal(0)
    # Funnel: initiatives that reached this stage (they never move back).
    reached: int = 0
    # Stage history: entries into this stage, how many left it for the next,
    # and the median days of the completed stays.
    entered: int = 0
    exited: int = 0
    median_days: float | None = None

    @property
    def conversion(self) -> float | None:
        return self.exited / self.entered if self.entered else None

    @property
    def min_days(self) -> int:
        return self.stage.min_weeks * 7

    @property
    def max_days(self) -> int | None:
        return None if self.stage.max_weeks is None else self.stage.max_weeks * 7

    @property
    def median_verdict(self) -> str:
        """'within', 'faster' or 'slower' than the expected range; '' without data."""
        if self.median_days is None:
            return ""
        if self.median_days < self.min_days:
            return "faster"
        if self.max_days is not None and self.median_days > self.max_days:
            return "slower"
        return "within"


@dataclass
class Headline:
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    live: int = 0
    overdue: int = 0
    stalled: int = 0
    purgatory: int = 0
    targets_total: int = 0
    targets_met: int = 0
    targets_missed: int = 0
    targets_no_data: int = 0
    expected_value: Decimal = Decimal(0)
    investment: Decimal = Decimal(0)

    @property
    def targets_met_share(self) -> float | None:
        return self.targets_met / self.targets_total if self.targets_total else None


@dataclass
class PocToProduction:
    """Initiatives that got past the first two stages, beside the industry's 4 in 33."""

    started: int
    reached: int
    industry_started: int = INDUSTRY_POC_STARTED
    industry_reached: int = INDUSTRY_POC_DEPLOYED

    @property
    def rate(self) -> float | None:
        return self.reached / self.started if self.started else None

    @property
    def industry_rate(self) -> float:
        return self.industry_reached / self.industry_started


@dataclass
class Dashboard:
    filters: DashboardFilters
    stages: list[StageFigures]
    headline: Headline
    poc_to_production: PocToProduction
    months: list[dict]
    purgatory: list[Initiative]
    overdue_owners: list[dict]
    team_gaps: list[dict]
    timeline: Timeline
    # The EU AI Act section (compliance.selectors.PortfolioFigures).
    ai_act: object = None
    # When the figures were computed: a cached copy shows it as "as of".
    computed_at: datetime.datetime | None = None


def _stage_figures(scope: QuerySet[Initiative], stages: list[Stage], today) -> list[StageFigures]:
    """Counts, flags and business-case sums per current stage: one grouped query."""
    not_stopped = ~Q(status=Initiative.Status.STOPPED)
    rows = (
        scope.order_by()
        .values("stage_id")
        .annotate(
            total=Count("pk"),
            active=Count("pk", filter=ACTIVE),
            on_hold=Count("pk", filter=Q(status=Initiative.Status.ON_HOLD)),
            stopped=Count("pk", filter=Q(status=Initiative.Status.STOPPED)),
            completed=Count("pk", filter=Q(status=Initiative.Status.COMPLETED)),
            stalled=Count("pk", filter=Initiative.stalled_q(today)),
            overdue=Count("pk", filter=Initiative.overdue_q(today)),
            expected_value=Sum("business_case__expected_annual_value", filter=not_stopped),
            investment=Sum(
                F("business_case__investment_to_date")
                + F("business_case__planned_team_cost")
                + F("business_case__planned_infra_cost"),
                filter=not_stopped,
            ),
        )
    )
    by_stage = {row["stage_id"]: row for row in rows}
    figures = []
    for position, stage in enumerate(stages):
        row = by_stage.get(stage.pk, {})
        figures.append(
            StageFigures(
                stage=stage,
                position=position,
                total=row.get("total", 0),
                active=row.get("active", 0),
                on_hold=row.get("on_hold", 0),
                stopped=row.get("stopped", 0),
                completed=row.get("completed", 0),
                stalled=row.get("stalled", 0),
                overdue=row.get("overdue", 0),
                expected_value=Decimal(row.get("expected_value") or 0),
                investment=Decimal(row.get("investment") or 0),
            )
        )
    reached = 0
    for figure in reversed(figures):
        reached += figure.total
        figure.reached = reached
    return figures


def _history_sql(scope: QuerySet[Initiative]) -> tuple[str, tuple]:
    """Each stage entry with the moment of the initiative's next entry (LEAD), as SQL."""
    history = (
        StageTransition.objects.filter(initiative__in=scope.order_by().values("pk"))
        .order_by()
        .annotate(
            stage_ref=F("to_stage_id"),
            entered_at=F("transitioned_at"),
            left_at=Window(
                Lead("transitioned_at"),
                partition_by=[F("initiative_id")],
                order_by=[F("transitioned_at").asc(), F("pk").asc()],
            ),
        )
        .values("stage_ref", "entered_at", "left_at")
    )
    return history.query.sql_with_params()


def _stage_history(scope: QuerySet[Initiative]) -> dict[int, tuple[int, int, float | None]]:
    """{stage id: (entries, exits, median days of completed stays)}: one query.

    PostgreSQL takes the median with PERCENTILE_CONT; elsewhere (SQLite) the
    durations of completed stays come back in one query and Python takes it.
    """
    sql, params = _history_sql(scope)
    if connection.vendor == "postgresql":
        query = (
            "SELECT stage_ref, COUNT(*), COUNT(left_at), "
            "PERCENTILE_CONT(0.5) WITHIN GROUP "
            "(ORDER BY EXTRACT(EPOCH FROM (left_at - entered_at)) / 86400.0) "
            f"FROM ({sql}) AS history GROUP BY stage_ref"
        )
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return {
                stage: (entries, exits, None if median is None else float(median))
                for stage, entries, exits, median in cursor.fetchall()
            }
    query = (
        "SELECT stage_ref, julianday(left_at) - julianday(entered_at) "
        f"FROM ({sql}) AS history ORDER BY stage_ref"
    )
    stays: dict[int, list] = {}
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        for stage, days in cursor.fetchall():
            stays.setdefault(stage, []).append(days)
    result = {}
    for stage, durations in stays.items():
        completed = [days for days in durations if days is not None]
        median = statistics.median(completed) if completed else None
        result[stage] = (len(durations), len(completed), median)
    return result


def _headline(scope, figures: list[StageFigures], today) -> Headline:
    headline = Headline()
    headline.total = sum(figure.total for figure in figures)
    headline.by_status = {
        status: sum(getattr(figure, status) for figure in figures)
        for status in Initiative.Status.values
    }
    headline.overdue = sum(figure.overdue for figure in figures)
    headline.stalled = sum(figure.stalled for figure in figures)
    headline.purgatory = sum(figure.stalled for figure in figures[:PILOT_STAGE_COUNT])
    headline.live = sum(figure.active + figure.completed for figure in figures[PILOT_STAGE_COUNT:])
    headline.expected_value = sum((figure.expected_value for figure in figures), Decimal(0))
    headline.investment = sum((figure.investment for figure in figures), Decimal(0))
    targets = Target.objects.filter(initiative__in=scope.filter(ACTIVE).values("pk")).aggregate(
        total=Count("pk"),
        met=Count("pk", filter=Q(status=Target.Status.MET)),
        missed=Count("pk", filter=Q(status=Target.Status.MISSED)),
        no_data=Count("pk", filter=Q(status=Target.Status.NO_DATA)),
    )
    headline.targets_total = targets["total"]
    headline.targets_met = targets["met"]
    headline.targets_missed = targets["missed"]
    headline.targets_no_data = targets["no_data"]
    return headline


def _months(scope, today: datetime.date) -> list[dict]:
    """Initiatives started and stage advances per calendar month, the last 12 months."""
    first = today.replace(day=1)
    for _ in range(MONTHS_SHOWN - 1):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    since = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    rows = (
        StageTransition.objects.filter(
            initiative__in=scope.order_by().values("pk"), transitioned_at__gte=since
        )
        .order_by()
        .annotate(month=TruncMonth("transitioned_at"))
        .values("month")
        .annotate(
            started=Count("pk", filter=Q(from_stage__isnull=True)),
            advanced=Count("pk", filter=Q(from_stage__isnull=False)),
        )
    )
    counts = {}
    for row in rows:
        month = row["month"]
        if isinstance(month, datetime.datetime):
            month = timezone.localtime(month).date() if timezone.is_aware(month) else month.date()
        counts[month.replace(day=1)] = row
    months = []
    month = first
    for _ in range(MONTHS_SHOWN):
        row = counts.get(month, {})
        months.append(
            {"month": month, "started": row.get("started", 0), "advanced": row.get("advanced", 0)}
        )
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return months


def _purgatory(scope, stages: list[Stage], today) -> list[Initiative]:
    """Active initiatives past the max weeks of PoC or MVP, longest in stage first."""
    pilot_stage_ids = [stage.pk for stage in stages[:PILOT_STAGE_COUNT]]
    initiatives = list(
        scope.stalled(today)
        .filter(stage_id__in=pilot_stage_ids)
        .select_related("owner", "team")
        .order_by("stage_entered_on", "key")[:PURGATORY_LIMIT]
    )
    by_pk = {stage.pk: stage for stage in stages}
    for initiative in initiatives:
        initiative.stage = by_pk[initiative.stage_id]
        initiative.days_overrun = (today - initiative.stalls_on).days
    return initiatives


def _overdue_owners(scope, today) -> list[dict]:
    """Owners with overdue gates: how many, and the oldest due date."""
    return list(
        scope.overdue(today)
        .order_by()
        .values("owner_id", "owner__username", "owner__first_name", "owner__last_name")
        .annotate(overdue=Count("pk"), oldest_due=Min("gate_due_on"))
        .order_by("-overdue", "oldest_due", "owner__username")[:OVERDUE_OWNERS_LIMIT]
    )


def wanted_roles(stages: list[Stage]) -> dict[int, list[str]]:
    """Recommended roles of each stage and the next one, as `composition_gap` has them."""
    following = [*stages[1:], None]
    return {
        stage.pk: roles_wanted(stage, after) for stage, after in zip(stages, following, strict=True)
    }


def _team_gaps(scope, stages: list[Stage]) -> list[dict]:
    """Teams whose active initiatives miss recommended roles: one grouped query.

    The inner query (ORM) counts each active initiative's memberships per role;
    the outer one groups those rows by team. A NOT EXISTS per role and row was
    four times slower at 10,000 initiatives.
    """
    wanted = wanted_roles(stages)
    roles = [role for role in StageRole.values if any(role in w for w in wanted.values())]
    if not roles:
        return []
    held = {
        f"held_{index}": Count("memberships", filter=Q(memberships__stage_role=role))
        for index, role in enumerate(roles)
    }
    staffing = (
        scope.filter(ACTIVE)
        .order_by()
        .values("pk", "team_id", "stage_id")
        .annotate(**held)
        .values("team_id", "stage_id", *held)
    )
    sql, params = staffing.query.sql_with_params()
    # Stage ids are integers from the database, so they are written into the SQL.
    gap_cases = []
    for stage_id, stage_roles in wanted.items():
        if stage_roles:
            missing = " OR ".join(f"held_{roles.index(role)} = 0" for role in stage_roles)
            gap_cases.append(f"(stage_id = {int(stage_id)} AND ({missing}))")
    role_columns = []
    for index, role in enumerate(roles):
        stage_ids = ", ".join(str(int(s)) for s, w in wanted.items() if role in w)
        role_columns.append(
            f"SUM(CASE WHEN stage_id IN ({stage_ids}) AND held_{index} = 0 THEN 1 ELSE 0 END)"
        )
    team_table = connection.ops.quote_name(Team._meta.db_table)
    query = (
        f"SELECT team.id, team.name, team.slug, COUNT(*), "
        f"SUM(CASE WHEN {' OR '.join(gap_cases)} THEN 1 ELSE 0 END), "
        f"{', '.join(role_columns)} "
        f"FROM ({sql}) AS staffing JOIN {team_table} AS team ON team.id = staffing.team_id "
        "GROUP BY team.id, team.name, team.slug"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        fetched = cursor.fetchall()
    labels = dict(StageRole.choices)
    teams = []
    for team_id, name, slug, active, with_gap, *missing_counts in fetched:
        if not with_gap:
            continue
        teams.append(
            {
                "team_id": team_id,
                "team__name": name,
                "team__slug": slug,
                "active": active,
                "with_gap": with_gap,
                "missing": sorted(
                    (
                        (labels[role], count)
                        for role, count in zip(roles, missing_counts, strict=True)
                        if count
                    ),
                    key=lambda pair: (-pair[1], pair[0]),
                ),
            }
        )
    teams.sort(key=lambda row: (-row["with_gap"], row["team__name"]))
    return teams


# --- The timeline -----------------------------------------------------------------------


@dataclass
class Span:
    stage: Stage
    position: int
    start: datetime.date
    end: datetime.date
    ongoing: bool

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass
class TimelineRow:
    initiative: Initiative
    spans: list[Span]
    gate_ticks: list[tuple[datetime.date, bool]]  # (due date, still pending)


@dataclass
class Timeline:
    rows: list[TimelineRow]
    start: datetime.date
    end: datetime.date
    today: datetime.date
    page: int
    total: int
    page_size: int = TIMELINE_PAGE_SIZE

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def first_shown(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.rows else 0

    @property
    def last_shown(self) -> int:
        return (self.page - 1) * self.page_size + len(self.rows)


def timeline(
    scope: QuerySet[Initiative], stages: list[Stage], filters: DashboardFilters, *, page: int, total
) -> Timeline:
    """One page of initiatives, most valuable first, with their stage spans: three queries."""
    today = filters.today
    page = max(page, 1)
    start = (page - 1) * TIMELINE_PAGE_SIZE
    initiatives = list(
        scope.only("key", "name", "status", "stage_id")
        .annotate(value=Coalesce("business_case__expected_annual_value", Value(Decimal(0))))
        .order_by(F("value").desc(), "key")[start : start + TIMELINE_PAGE_SIZE]
    )
    by_pk = {stage.pk: (position, stage) for position, stage in enumerate(stages)}
    ids = [initiative.pk for initiative in initiatives]
    history: dict[int, list] = {}
    for initiative_id, stage_id, moment in (
        StageTransition.objects.filter(initiative_id__in=ids)
        .order_by("initiative_id", "transitioned_at", "pk")
        .values_list("initiative_id", "to_stage_id", "transitioned_at")
    ):
        history.setdefault(initiative_id, []).append((stage_id, timezone.localtime(moment).date()))
    ticks: dict[int, list] = {}
    ended: dict[int, datetime.date] = {}
    for initiative_id, due_on, state, decision, decided_at in (
        Gate.objects.filter(initiative_id__in=ids)
        .order_by()
        .values_list("initiative_id", "due_on", "state", "decision", "decided_at")
    ):
        if due_on is not None:
            pending = state in Gate.PENDING_STATES
            ticks.setdefault(initiative_id, []).append((due_on, pending))
        if decision == "stop" and decided_at is not None:
            ended[initiative_id] = timezone.localtime(decided_at).date()
    rows = []
    earliest = today
    for initiative in initiatives:
        initiative.stage = by_pk[initiative.stage_id][1]
        entries = history.get(initiative.pk, [])
        spans = []
        for index, (stage_id, entered) in enumerate(entries):
            position, stage = by_pk.get(stage_id, (0, initiative.stage))
            if index + 1 < len(entries):
                end, ongoing = entries[index + 1][1], False
            else:
                end = ended.get(initiative.pk, today)
                ongoing = initiative.status == Initiative.Status.ACTIVE
            spans.append(Span(stage, position, entered, max(end, entered), ongoing))
            earliest = min(earliest, entered)
        rows.append(TimelineRow(initiative, spans, sorted(ticks.get(initiative.pk, []))))
    axis_start = filters.since or earliest
    latest_due = max((due for row in rows for due, _ in row.gate_ticks), default=today)
    axis_end = max(
        today + datetime.timedelta(days=14), min(latest_due, today + datetime.timedelta(days=120))
    )
    return Timeline(rows=rows, start=axis_start, end=axis_end, today=today, page=page, total=total)


# A safety net only: every change to the portfolio invalidates the figures at once.
DASHBOARD_CACHE_SECONDS = 15 * 60


def dashboard_cached(user, filters: DashboardFilters, *, timeline_page: int = 1) -> Dashboard:
    """The dashboard, computed once per version of the portfolio for those who read it all.

    Its figures aggregate the whole portfolio (hundreds of thousands of rows at 50,000
    initiatives), so they grow with the portfolio however they are written. Readers of
    everything share one copy per filter, kept until the portfolio next changes
    (`core.versions`); `computed_at` tells the page when it was taken. Others see a part
    of the portfolio and get it live.
    """
    if not reads_everything(user):
        return dashboard(user, filters, timeline_page=timeline_page)
    scope = (
        "dashboard",
        filters.today,
        filters.framework.slug,
        filters.team.slug if filters.team is not None else "",
        filters.period,
        timeline_page,
    )
    return portfolio_cached(
        scope,
        lambda: dashboard(user, filters, timeline_page=timeline_page),
        DASHBOARD_CACHE_SECONDS,
    )


def dashboard(user, filters: DashboardFilters, *, timeline_page: int = 1) -> Dashboard:
    """Every figure of the dashboard for this reader and these filters, in constant queries."""
    today = filters.today
    stages = list(filters.framework.stages.order_by("order"))
    scope = filters.initiatives(user)
    figures = _stage_figures(scope, stages, today)
    history = _stage_history(scope)
    for figure in figures:
        figure.entered, figure.exited, figure.median_days = history.get(
            figure.stage.pk, (0, 0, None)
        )
    headline = _headline(scope, figures, today)
    reached_production = sum(figure.total for figure in figures[PILOT_STAGE_COUNT:])
    return Dashboard(
        filters=filters,
        stages=figures,
        headline=headline,
        poc_to_production=PocToProduction(started=headline.total, reached=reached_production),
        months=_months(scope, today),
        purgatory=_purgatory(scope, stages, today),
        overdue_owners=_overdue_owners(scope, today),
        team_gaps=_team_gaps(scope, stages),
        timeline=timeline(scope, stages, filters, page=timeline_page, total=headline.total),
        ai_act=compliance_selectors.portfolio_figures(scope, stages, today),
        computed_at=timezone.now(),
    )


def timeline_only(user, filters: DashboardFilters, *, page: int) -> Timeline:
    """The timeline alone (for its HTMX pager): the total and one page."""
    stages = list(filters.framework.stages.order_by("order"))
    scope = filters.initiatives(user)
    return timeline(scope, stages, filters, page=page, total=scope.count())


# --- Exports ----------------------------------------------------------------------------


PORTFOLIO_COLUMNS = [
    "key",
    "name",
    "team",
    "owner",
    "sponsor",
    "framework",
    "stage",
    "status",
    "days_in_stage",
    "stalled",
    "readiness",
    "gate_due_on",
    "overdue",
    "targets_met",
    "targets_missed",
    "expected_annual_value",
]


def _person(username: str, first_name: str, last_name: str) -> str:
    full = f"{first_name} {last_name}".strip()
    return full or username


def portfolio_rows(user, filters: DashboardFilters) -> Iterator[list]:
    """One row per initiative in the dashboard's scope, streamed from the database."""
    today = filters.today
    rows = (
        with_current_gate(filters.initiatives(user).with_target_counts().with_flags(today))
        .order_by("key")
        .values_list(
            "key",
            "name",
            "team__name",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
            "sponsor__username",
            "sponsor__first_name",
            "sponsor__last_name",
            "framework__name",
            "stage__name",
            "status",
            "stage_entered_on",
            "stalled_flag",
            "required_cleared",
            "required_total",
            "gate_due_on",
            "overdue_flag",
            "targets_met",
            "targets_missed",
            "business_case__expected_annual_value",
        )
    )
    for row in rows.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        (key, name, team, *people, framework, stage, status, entered_on, stalled) = row[:14]
        cleared, required_total, gate_due_on, overdue, met, missed, value = row[14:]
        yield [
            key,
            name,
            team,
            _person(*people[:3]),
            _person(*people[3:]),
            framework,
            stage,
            status,
            (today - entered_on).days,
            "yes" if stalled else "no",
            f"{cleared / required_total:.2f}" if required_total else "",
            gate_due_on.isoformat() if gate_due_on else "",
            "yes" if overdue else "no",
            met,
            missed,
            "" if value is None else f"{value:.2f}",
        ]


GATE_COLUMNS = [
    "initiative",
    "initiative_name",
    "stage",
    "gate_state",
    "gate_due_on",
    "decision",
    "decided_by",
    "decided_at",
    "item_order",
    "item",
    "required",
    "item_state",
    "not_applicable_reason",
    "evidence_url",
    "is_condition",
    "updated_by",
    "updated_at",
]


def gate_rows(user, filters: DashboardFilters) -> Iterator[list]:
    """One row per checklist item of every gate in the dashboard's scope, streamed."""
    items = (
        ChecklistItem.objects.filter(
            gate__initiative__in=filters.initiatives(user).order_by().values("pk")
        )
        .order_by("gate__initiative__key", "gate__stage__order", "order")
        .values_list(
            "gate__initiative__key",
            "gate__initiative__name",
            "gate__stage__name",
            "gate__state",
            "gate__due_on",
            "gate__decision",
            "gate__decided_by__username",
            "gate__decided_at",
            "order",
            "text",
            "required",
            "state",
            "na_reason",
            "evidence_url",
            "is_condition",
            "updated_by__username",
            "updated_at",
        )
    )
    for row in items.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        row = list(row)
        row[4] = row[4].isoformat() if row[4] else ""
        row[6] = row[6] or ""
        row[7] = timezone.localtime(row[7]).isoformat(timespec="minutes") if row[7] else ""
        row[10] = "yes" if row[10] else "no"
        row[14] = "yes" if row[14] else "no"
        row[15] = row[15] or ""
        row[16] = timezone.localtime(row[16]).isoformat(timespec="minutes") if row[16] else ""
        yield row


# --- The initiative brief ----------------------------------------------------------------


def initiative_brief(user, key: str) -> dict | None:
    """Everything the one-page brief shows, or None when the user may not see it."""
    initiative = (
        Initiative.objects.visible_to(user)
        .select_related("team", "owner", "sponsor", "framework", "stage", "business_case")
        .prefetch_related("memberships__user")
        .filter(key=key)
        .first()
    )
    if initiative is None:
        return None
    stages = list(initiative.framework.stages.order_by("order"))
    gate = (
        Gate.objects.filter(initiative=initiative, stage_id=initiative.stage_id)
        .with_readiness()
        .prefetch_related("items")
        .first()
    )
    history = list(
        StageTransition.objects.filter(initiative=initiative)
        .select_related("to_stage", "decided_by")
        .order_by("transitioned_at", "pk")
    )
    memberships = list(initiative.memberships.all())
    wanted = wanted_roles(stages).get(initiative.stage_id, [])
    held = {membership.stage_role for membership in memberships}
    labels = dict(StageRole.choices)
    return {
        "initiative": initiative,
        "business_case": getattr(initiative, "business_case", None),
        "stages": stages,
        "gate": gate,
        "targets": list(initiative.targets.order_by("category", "metric_key")),
        "history": history,
        "memberships": memberships,
        "gap": [labels.get(role, role) for role in wanted if role not in held],
    }
