"""Reads for the reminder scan and the digest. Each returns one queryset: one query per rule."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from gates.models import Gate, GateDecision, Gatekeeper, StageTransition, Vote
from initiatives.models import Activity, Initiative, Membership
from teams.roles import PortfolioRole, users_with_roles


def _members():
    return Prefetch("memberships", queryset=Membership.objects.select_related("user"))


def _open_gate_id():
    return Subquery(Gate.objects.pending().filter(initiative=OuterRef("pk")).values("pk")[:1])


def initiatives_due_between(
    *, first_day: datetime.date, last_day: datetime.date
) -> QuerySet[Initiative]:
    """Active initiatives whose open gate falls due in [first_day, last_day], with their team."""
    return (
        Initiative.objects.filter(
            status=Initiative.Status.ACTIVE, gate_due_on__gte=first_day, gate_due_on__lte=last_day
        )
        .annotate(open_gate_id=_open_gate_id())
        .select_related("owner", "stage")
        .prefetch_related(_members())
        .order_by("pk")
    )


def classifications_due(*, by: datetime.date) -> QuerySet[Initiative]:
    """Active initiatives whose AI Act classification is due for review by `by`."""
    return (
        Initiative.objects.filter(
            status=Initiative.Status.ACTIVE, ai_classification__next_review_on__lte=by
        )
        .select_related("owner", "stage", "ai_classification")
        .order_by("pk")
    )


def initiatives_overdue(*, today: datetime.date) -> QuerySet[Initiative]:
    """Active initiatives whose open gate is past its due date, with team and sponsor."""
    return (
        Initiative.objects.overdue(today)
        .annotate(open_gate_id=_open_gate_id())
        .select_related("owner", "sponsor", "stage")
        .prefetch_related(_members())
        .order_by("pk")
    )


def initiatives_quiet_since(*, cutoff: datetime.datetime) -> QuerySet[Initiative]:
    """Active initiatives with no activity (and not created) since `cutoff`."""
    last_activity = Subquery(
        Activity.objects.filter(initiative=OuterRef("pk"))
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    return (
        Initiative.objects.filter(status=Initiative.Status.ACTIVE, created_at__lt=cutoff)
        .annotate(last_activity_at=last_activity)
        .filter(Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True))
        .select_related("owner", "stage")
        .order_by("pk")
    )


def gates_in_review_since(*, cutoff: datetime.datetime) -> QuerySet[Gate]:
    """Gates in review since before `cutoff`, each with the gatekeepers yet to vote this round."""
    voted = Vote.objects.filter(
        gate=OuterRef("gate_id"), voter=OuterRef("user_id"), round=OuterRef("gate__review_round")
    )
    return (
        Gate.objects.filter(
            state=Gate.State.IN_REVIEW,
            review_requested_at__lte=cutoff,
            initiative__status=Initiative.Status.ACTIVE,
        )
        .select_related("initiative__stage", "stage")
        .prefetch_related(
            Prefetch(
                "gatekeepers",
                queryset=Gatekeeper.objects.filter(~Exists(voted)).select_related("user"),
                to_attr="waiting_gatekeepers",
            )
        )
        .order_by("pk")
    )


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
