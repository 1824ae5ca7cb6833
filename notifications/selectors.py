"""Reads for the reminder scan and the digest. Each returns one queryset: one query per rule."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, TruncDate
from django.utils import timezone

from core.db import DaysBetween, WholeDaysSince
from gates.models import Gate, GateDecision, Gatekeeper, StageTransition, Vote
from initiatives.models import Activity, Initiative, Membership
from teams.models import TeamMembership
from teams.roles import PortfolioRole, users_with_roles

# --- Reminder candidates: set-based, only the rows not created yet ------------------------
#
# Each rule below is one query that computes, in SQL, the dedupe key a reminder would
# have and keeps only the rows whose key no notification has yet (NOT EXISTS on the
# unique key). A scan reads what it will create and nothing else: the second scan of a
# day reads no rows at all, however large the portfolio. The Python that used to plan
# every candidate (and then ask which keys existed) is what these keys must equal,
# character for character: `kind:gate:person:due_on:period` and the like.


@dataclass(frozen=True)
class Candidate:
    """A reminder to create: whom, about what, its key and the day count its text shows."""

    kind: str
    initiative_id: int
    gate_id: int | None
    recipient_id: int
    dedupe_key: str
    days: int


CANDIDATE_FIELDS = ("initiative_id", "gate_id", "person_id", "dedupe", "days")


def _per_framework(rulebook, name: str, framework: str):
    """The rule `name` of each row's framework: one CASE over the frameworks that override it."""
    default = rulebook.defaults[name]
    whens = [
        When(**{framework: framework_id}, then=Value(rules[name]))
        for framework_id, rules in rulebook.by_framework.items()
        if rules[name] != default
    ]
    if not whens:
        return Value(default, output_field=IntegerField())
    return Case(*whens, default=Value(default), output_field=IntegerField())


def _threshold(rulebook, framework: str):
    """The smallest due-soon threshold a row's `days` has reached, NULL when none."""

    def ladder(thresholds):
        return Case(
            *[When(days__lte=days, then=Value(days)) for days in sorted(thresholds)],
            default=None,
            output_field=IntegerField(),
        )

    default = rulebook.defaults["due_soon_days"]
    whens = [
        When(**{framework: framework_id}, then=ladder(rules["due_soon_days"]))
        for framework_id, rules in rulebook.by_framework.items()
        if sorted(rules["due_soon_days"]) != sorted(default)
    ]
    if not whens:
        return ladder(default)
    return Case(*whens, default=ladder(default), output_field=IntegerField())


def _key(*parts):
    """A dedupe key in SQL: the parts joined by ':' (strings are literal text)."""
    expressions = []
    for index, part in enumerate(parts):
        if index:
            expressions.append(Value(":"))
        expressions.append(Value(part) if isinstance(part, str) else part)
    return Concat(*expressions, output_field=CharField())


def _not_created(queryset: QuerySet) -> QuerySet:
    from notifications.models import Notification

    return queryset.filter(~Exists(Notification.objects.filter(dedupe_key=OuterRef("dedupe"))))


def _rows(kind: str, queryset: QuerySet) -> list[Candidate]:
    return [
        Candidate(kind, initiative_id, gate_id, person_id, key, days)
        for initiative_id, gate_id, person_id, key, days in _not_created(queryset)
        .values_list(*CANDIDATE_FIELDS)
        .distinct()
        .order_by("initiative_id", "person_id")
    ]


def _open_gate(initiative: str = "pk"):
    """The id of the initiative's gate in play (at most one: a unique constraint)."""
    # No ordering: the gate's default one (by stage order) joined stage and initiative
    # into a subquery that runs for every candidate row.
    gates = Gate.objects.pending().filter(initiative=OuterRef(initiative)).order_by()
    return Subquery(gates.values("pk")[:1])


def _team_candidates(kind: str, initiatives: QuerySet, *, days, step) -> list[Candidate]:
    """`kind` reminders to the owner and the active members of `initiatives`' open gates.

    `days(prefix)` is the row's day count and `step(queryset, prefix)` annotates `step`,
    the key's last part, or drops the rows the rule does not reach; `prefix` leads from
    the row to its initiative. The key: kind:gate:person:due_on:step.
    """
    owners = initiatives.filter(owner__is_active=True).annotate(
        initiative_id=F("pk"), person_id=F("owner_id")
    )
    members = (
        Membership.objects.filter(initiative__in=initiatives, user__is_active=True)
        .exclude(user_id=F("initiative__owner_id"))
        .annotate(person_id=F("user_id"))
    )
    candidates = []
    for queryset, prefix in ((owners, ""), (members, "initiative__")):
        queryset = queryset.annotate(gate_id=_open_gate(f"{prefix}pk"), days=days(prefix)).filter(
            gate_id__isnull=False
        )
        queryset = step(queryset, prefix).annotate(
            dedupe=_key(kind, F("gate_id"), F("person_id"), F(f"{prefix}gate_due_on"), F("step"))
        )
        candidates += _rows(kind, queryset)
    # A team's reminders side by side: they share one message, rendered and built once.
    return sorted(
        candidates, key=lambda candidate: (candidate.initiative_id, candidate.recipient_id)
    )


def reminder_candidates_due_soon(*, rulebook, today: datetime.date) -> list[Candidate]:
    """Owner and members of active initiatives whose open gate falls due within a threshold;
    the step is the smallest threshold reached."""
    horizon = today + datetime.timedelta(days=rulebook.largest("due_soon_days"))
    initiatives = Initiative.objects.filter(
        status=Initiative.Status.ACTIVE, gate_due_on__gte=today, gate_due_on__lte=horizon
    )
    return _team_candidates(
        "due_soon",
        initiatives,
        days=lambda prefix: DaysBetween(F(f"{prefix}gate_due_on"), Value(today)),
        step=lambda queryset, prefix: queryset.annotate(
            step=_threshold(rulebook, f"{prefix}framework_id")
        ).filter(step__isnull=False),
    )


def reminder_candidates_overdue(*, rulebook, today: datetime.date) -> list[Candidate]:
    """Owner and members of active initiatives whose open gate is past its due date; the
    step is the reminder period (a new one every `overdue_every_days`)."""
    return _team_candidates(
        "overdue",
        Initiative.objects.overdue(today),
        days=lambda prefix: DaysBetween(Value(today), F(f"{prefix}gate_due_on")),
        step=lambda queryset, prefix: queryset.annotate(
            step=(F("days") - 1)
            / _per_framework(rulebook, "overdue_every_days", f"{prefix}framework_id")
        ),
    )


def reminder_candidates_escalation(*, rulebook, today: datetime.date) -> list[Candidate]:
    """Whom each initiative overdue by at least the escalation delay is escalated to.

    Its sponsor; when the sponsor has left (deactivated), the active leads of its team stand
    in, and when the team has no active lead, the portfolio admins: a late gate never waits
    on somebody who is gone. The key is the same either way:
    escalation:gate:person:due_on:period.
    """
    after = _per_framework(rulebook, "escalate_after_days", "framework_id")
    every = _per_framework(rulebook, "escalate_every_days", "framework_id")
    overdue = (
        Initiative.objects.overdue(today)
        .annotate(
            initiative_id=F("pk"),
            gate_id=_open_gate(),
            days=DaysBetween(Value(today), F("gate_due_on")),
            after=after,
        )
        .filter(gate_id__isnull=False, days__gte=F("after"))
        .annotate(period=(F("days") - F("after")) / every)
    )
    # One query: the sponsor, or (sponsor gone) each active team lead; a row whose sponsor
    # left and whose team has no active lead comes back without a person.
    active_lead = TeamMembership.objects.filter(
        team=OuterRef("team"), role=TeamMembership.Role.LEAD, user__is_active=True
    )
    rows = (
        overdue.alias(
            leads=FilteredRelation(
                "team__memberships", condition=Q(team__memberships__role=TeamMembership.Role.LEAD)
            )
        )
        .annotate(
            person_id=Case(
                When(sponsor__is_active=True, then=F("sponsor_id")),
                When(leads__user__is_active=True, then=F("leads__user_id")),
                default=None,
            )
        )
        .filter(Q(person_id__isnull=False) | ~Exists(active_lead))
        .annotate(
            dedupe=_key("escalation", F("gate_id"), F("person_id"), F("gate_due_on"), F("period"))
        )
    )
    candidates = _rows("escalation", rows)
    leaderless = {c.initiative_id for c in candidates if c.recipient_id is None}
    candidates = [c for c in candidates if c.recipient_id is not None]
    if leaderless:
        admins = users_with_roles({PortfolioRole.ADMIN}).order_by("pk").values_list("pk", flat=True)
        for admin_id in admins:
            queryset = overdue.filter(pk__in=leaderless).annotate(
                person_id=Value(admin_id, output_field=IntegerField()),
                dedupe=_key(
                    "escalation", F("gate_id"), F("person_id"), F("gate_due_on"), F("period")
                ),
            )
            candidates += _rows("escalation", queryset)
    return sorted(candidates, key=lambda c: (c.initiative_id, c.recipient_id))


# The owner hears of an AI Act classification review this many days before it is due, and
# again on the day (at once, when entering a stage asked for one).
CLASSIFICATION_REVIEW_NOTICE_DAYS = 14


def reminder_candidates_classification_review(*, today: datetime.date) -> list[Candidate]:
    """The active owner of each active initiative whose AI Act classification is due for
    review within the notice period, once before and once on the day.
    The key: ai_review:initiative:owner:review_on:soon|due."""
    horizon = today + datetime.timedelta(days=CLASSIFICATION_REVIEW_NOTICE_DAYS)
    review_on = F("ai_classification__next_review_on")
    queryset = Initiative.objects.filter(
        status=Initiative.Status.ACTIVE,
        owner__is_active=True,
        ai_classification__next_review_on__lte=horizon,
    ).annotate(
        initiative_id=F("pk"),
        person_id=F("owner_id"),
        gate_id=Value(None, output_field=IntegerField()),
        days=Case(
            When(ai_classification__next_review_on__lte=today, then=Value(0)),
            default=DaysBetween(review_on, Value(today)),
            output_field=IntegerField(),
        ),
        step=Case(
            When(ai_classification__next_review_on__lte=today, then=Value("due")),
            default=Value("soon"),
            output_field=CharField(),
        ),
        dedupe=_key("ai_review", F("pk"), F("person_id"), review_on, F("step")),
    )
    return _rows("ai_review", queryset)


def reminder_candidates_quiet(*, rulebook, now: datetime.datetime) -> list[Candidate]:
    """The active owner of each active initiative without activity for the quiet period."""
    cutoff = now - datetime.timedelta(days=rulebook.smallest("quiet_after_days"))
    last_activity = Subquery(
        Activity.objects.filter(initiative=OuterRef("pk"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    quiet_after = _per_framework(rulebook, "quiet_after_days", "framework_id")
    queryset = (
        Initiative.objects.filter(
            status=Initiative.Status.ACTIVE, created_at__lt=cutoff, owner__is_active=True
        )
        .annotate(last=Coalesce(last_activity, F("created_at")))
        .filter(last__lt=cutoff)
        .annotate(
            initiative_id=F("pk"),
            person_id=F("owner_id"),
            gate_id=Value(None, output_field=IntegerField()),
            days=WholeDaysSince(Value(now), F("last")),
            quiet_after=quiet_after,
        )
        .filter(days__gte=F("quiet_after"))
        .annotate(period=(F("days") - F("quiet_after")) / F("quiet_after"))
        .annotate(
            dedupe=_key(
                "quiet",
                F("pk"),
                F("person_id"),
                TruncDate("last", tzinfo=timezone.get_current_timezone()),
                F("period"),
            )
        )
    )
    return _rows("quiet", queryset)


def reminder_candidates_review_waiting(*, rulebook, now: datetime.datetime) -> list[Candidate]:
    """Active gatekeepers who have not voted on a review that has waited long enough."""
    cutoff = now - datetime.timedelta(days=rulebook.smallest("review_waiting_days"))
    voted = Vote.objects.filter(
        gate=OuterRef("gate_id"), voter=OuterRef("user_id"), round=OuterRef("gate__review_round")
    )
    wait = _per_framework(rulebook, "review_waiting_days", "gate__initiative__framework_id")
    queryset = (
        Gatekeeper.objects.filter(
            gate__state=Gate.State.IN_REVIEW,
            gate__review_requested_at__lte=cutoff,
            gate__initiative__status=Initiative.Status.ACTIVE,
            user__is_active=True,
        )
        .filter(~Exists(voted))
        .annotate(
            initiative_id=F("gate__initiative_id"),
            person_id=F("user_id"),
            days=WholeDaysSince(Value(now), F("gate__review_requested_at")),
            wait=wait,
        )
        .filter(days__gte=F("wait"))
        .annotate(period=(F("days") - F("wait")) / F("wait"))
        .annotate(
            dedupe=_key(
                "review_waiting",
                F("gate_id"),
                F("person_id"),
                F("gate__review_round"),
                F("period"),
            )
        )
    )
    return _rows("review_waiting", queryset)


def digest_recipients():
    """Executives and portfolio admins who can receive mail."""
    return users_with_roles({PortfolioRole.EXECUTIVE, PortfolioRole.ADMIN}).order_by("pk")


DIGEST_SECTION_LIMIT = 15


@dataclass
class DigestSection:
    """The first few rows of one digest section, and how many there are in all."""

    items: list
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def _section(queryset: QuerySet) -> DigestSection:
    items = list(queryset[:DIGEST_SECTION_LIMIT])
    total = len(items) if len(items) < DIGEST_SECTION_LIMIT else queryset.count()
    return DigestSection(items=items, total=total)


def digest_sections(*, since: datetime.datetime, today: datetime.date) -> dict[str, DigestSection]:
    """What happened in the portfolio since `since`: the executive digest's contents.

    A big portfolio has hundreds of stage changes a week; each section lists the
    first few and says how many more there are.
    """
    return {
        "transitions": _section(
            StageTransition.objects.filter(transitioned_at__gte=since, from_stage__isnull=False)
            .select_related("initiative", "from_stage", "to_stage")
            .order_by("-transitioned_at", "pk")
        ),
        "decisions": _section(
            GateDecision.objects.filter(decided_at__gte=since)
            .select_related("gate__initiative", "gate__stage", "decided_by")
            .order_by("-decided_at", "pk")
        ),
        "newly_overdue": _section(
            Gate.objects.overdue(today)
            .filter(due_on__gte=since.date())
            .select_related("initiative", "stage")
            .order_by("due_on", "pk")
        ),
        "stalled": _section(
            Initiative.objects.stalled(today)
            .select_related("stage", "owner")
            .order_by("stalls_on", "pk")
        ),
        "targets_missed": _section(
            Activity.objects.filter(verb="target.missed", created_at__gte=since).order_by(
                "-created_at", "pk"
            )
        ),
    }
