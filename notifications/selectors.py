"""Reads for the reminder scan and the digest. Each returns one queryset: one query per rule."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    IntegerField,
    OuterRef,
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
    return Subquery(Gate.objects.pending().filter(initiative=OuterRef(initiative)).values("pk")[:1])


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
    return candidates


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
    """The active sponsor of each initiative overdue by at least the escalation delay."""
    after = _per_framework(rulebook, "escalate_after_days", "framework_id")
    every = _per_framework(rulebook, "escalate_every_days", "framework_id")
    queryset = (
        Initiative.objects.overdue(today)
        .filter(sponsor__is_active=True)
        .annotate(
            initiative_id=F("pk"),
            person_id=F("sponsor_id"),
            gate_id=_open_gate(),
            days=DaysBetween(Value(today), F("gate_due_on")),
            after=after,
        )
        .filter(gate_id__isnull=False, days__gte=F("after"))
        .annotate(period=(F("days") - F("after")) / every)
        .annotate(
            dedupe=_key("escalation", F("gate_id"), F("person_id"), F("gate_due_on"), F("period"))
        )
    )
    return _rows("escalation", queryset)


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
