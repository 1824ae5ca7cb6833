"""Reads of classifications and obligations, each in a constant number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from compliance.models import (
    Classification,
    ClassificationRevision,
    Obligation,
    ObligationItem,
    ObligationStage,
    Tier,
)
from core.db import count_of
from initiatives.models import Initiative


def catalogue_order(obligation: Obligation) -> tuple:
    """By date, then by article number as people count (Art. 9 before Art. 10)."""
    digits = "".join(character if character.isdigit() else " " for character in obligation.article)
    numbers = tuple(int(number) for number in digits.split())
    return (obligation.applies_from, numbers, obligation.code)


def active_catalogue() -> list[Obligation]:
    return list(Obligation.objects.filter(is_active=True).order_by("code"))


def obligations_with_stages(codes) -> list[Obligation]:
    """The active obligations among `codes`, each with `stage_for` {framework id: stage}."""
    obligations = sorted(
        Obligation.objects.filter(code__in=list(codes), is_active=True).prefetch_related(
            Prefetch("stages", queryset=ObligationStage.objects.select_related("stage"))
        ),
        key=catalogue_order,
    )
    for obligation in obligations:
        obligation.stage_for = {row.framework_id: row.stage for row in obligation.stages.all()}
    return obligations


def prohibited_refusal(*, gate, decision: str) -> str | None:
    """The guard gates ask before a go or conditional go (see gates.guards)."""
    prohibited = Classification.objects.filter(
        initiative_id=gate.initiative_id, tier=Tier.PROHIBITED
    ).exists()
    if not prohibited:
        return None
    return (
        "This initiative is classified as a prohibited AI practice (EU AI Act, Article 5): "
        "it cannot pass any gate. Stop it, or reclassify it once the practice is gone."
    )


@dataclass
class ClassificationPage:
    """What the initiative page and the API show of an initiative's classification."""

    current: Classification | None
    proposal: ClassificationRevision | None
    revisions: list[ClassificationRevision]
    # The obligations of the confirmed classification with their item (None: not on a gate yet).
    obligations: list[dict] = field(default_factory=list)


def classification_page(initiative: Initiative) -> ClassificationPage:
    """The confirmed classification, the proposal waiting, every revision and the
    obligations with where they stand, in four queries."""
    revisions = list(
        ClassificationRevision.objects.filter(initiative=initiative)
        .select_related("classified_by", "confirmed_by")
        .order_by("-number")
    )
    current = (
        Classification.objects.filter(initiative=initiative)
        .select_related("revision__classified_by", "revision__confirmed_by")
        .first()
    )
    proposal = next(
        (r for r in revisions if r.state == ClassificationRevision.State.PROPOSED), None
    )
    obligations = []
    if current is not None:
        links = {
            link.obligation_id: link
            for link in ObligationItem.objects.filter(
                initiative=initiative, dropped_at__isnull=True
            ).select_related("item", "gate__stage")
        }
        for obligation in sorted(
            Obligation.objects.filter(code__in=current.revision.obligation_codes),
            key=catalogue_order,
        ):
            link = links.get(obligation.pk)
            obligations.append(
                {
                    "obligation": obligation,
                    "item": link.item if link else None,
                    "gate": link.gate if link else None,
                }
            )
    return ClassificationPage(
        current=current, proposal=proposal, revisions=revisions, obligations=obligations
    )


def tiers_of(initiative_ids) -> dict[int, str]:
    """{initiative id: tier} for those classified: one query, for a page of cards."""
    return dict(
        Classification.objects.filter(initiative_id__in=list(initiative_ids)).values_list(
            "initiative_id", "tier"
        )
    )


def tier_counts(scope: QuerySet[Initiative]) -> dict[str, int]:
    """{tier or "": count} over `scope`; "" counts the unclassified."""
    rows = scope.order_by().values("ai_classification__tier").annotate(total=Count("pk"))
    return {row["ai_classification__tier"] or "": row["total"] for row in rows}


# --- The portfolio: the dashboard's AI Act section ---------------------------------------

# Obligations applying within this many days (or already) count as "due" on the dashboard.
DUE_HORIZON_DAYS = 730
LIST_LIMIT = 20
UNCLASSIFIED = ""


@dataclass
class TierRow:
    tier: str
    label: str
    per_stage: list[int]
    total: int


@dataclass
class DueRow:
    initiative: Initiative
    soonest: datetime.date
    open_obligations: list[Obligation]


@dataclass
class PortfolioFigures:
    """The dashboard's AI Act section, in a number of queries that does not grow with the
    portfolio, the obligations or the stages."""

    tiers: list[TierRow]
    due_by: datetime.date
    due: list[DueRow]
    due_total: int
    unclassified_past_first_stage: list[Initiative]
    unclassified_past_first_stage_total: int
    prohibited: list[Initiative]


def portfolio_figures(scope: QuerySet[Initiative], stages: list, today: datetime.date):
    """Active initiatives of `scope` by tier and stage; high-risk ones with obligations
    applying by the horizon and not evidenced, soonest first; unclassified initiatives past
    the first stage; prohibited ones."""
    active = scope.filter(status=Initiative.Status.ACTIVE)
    counts = {
        (row["stage"], row["ai_classification__tier"] or UNCLASSIFIED): row["total"]
        for row in active.order_by()
        .values("stage", "ai_classification__tier")
        .annotate(total=Count("pk"))
    }
    tiers = []
    for tier, label in [*Tier.choices, (UNCLASSIFIED, "Not classified")]:
        per_stage = [counts.get((stage.pk, tier), 0) for stage in stages]
        tiers.append(TierRow(tier=tier, label=label, per_stage=per_stage, total=sum(per_stage)))

    due_by = today + datetime.timedelta(days=DUE_HORIZON_DAYS)
    high_risk = list(
        Classification.objects.filter(
            tier=Tier.HIGH_RISK, initiative__in=active.order_by().values("pk")
        ).values_list("initiative_id", "revision__obligation_codes")
    )
    catalogue, cleared = {}, set()
    if high_risk:
        catalogue = {obligation.code: obligation for obligation in Obligation.objects.all()}
        cleared = set(
            ObligationItem.objects.filter(
                initiative_id__in=[initiative_id for initiative_id, _ in high_risk],
                dropped_at__isnull=True,
                item__state__in=["done", "not_applicable"],
            ).values_list("initiative_id", "obligation__code")
        )
    pending = []
    for initiative_id, codes in high_risk:
        open_ones = [
            catalogue[code]
            for code in codes
            if code in catalogue
            and (initiative_id, code) not in cleared
            and catalogue[code].applies_from <= due_by
        ]
        if open_ones:
            open_ones.sort(key=lambda obligation: (obligation.applies_from, obligation.code))
            pending.append((open_ones[0].applies_from, initiative_id, open_ones))
    pending.sort(key=lambda row: (row[0], row[1]))
    shown = pending[:LIST_LIMIT]
    initiatives = Initiative.objects.select_related("owner", "stage").in_bulk(
        [initiative_id for _, initiative_id, _ in shown]
    )
    due = [
        DueRow(initiative=initiatives[initiative_id], soonest=soonest, open_obligations=open_ones)
        for soonest, initiative_id, open_ones in shown
    ]

    first = stages[0].pk if stages else None
    unclassified = (
        active.filter(ai_classification__isnull=True).exclude(stage_id=first).order_by("key")
    )
    past_first = list(unclassified.select_related("owner", "stage")[:LIST_LIMIT])
    prohibited = list(
        active.filter(ai_classification__tier=Tier.PROHIBITED)
        .select_related("owner", "stage")
        .order_by("key")[:LIST_LIMIT]
    )
    return PortfolioFigures(
        tiers=tiers,
        due_by=due_by,
        due=due,
        due_total=len(pending),
        unclassified_past_first_stage=past_first,
        unclassified_past_first_stage_total=sum(
            row.total for row in tiers if row.tier == UNCLASSIFIED
        )
        - (counts.get((first, UNCLASSIFIED), 0) if first else 0),
        prohibited=prohibited,
    )


# --- The AI register: what an auditor asks for -------------------------------------------

REGISTER_COLUMNS = [
    "key",
    "name",
    "purpose",
    "owner",
    "team",
    "stage",
    "status",
    "tier",
    "role",
    "flags",
    "obligations_open",
    "obligations_done",
    "classified_by",
    "confirmed_by",
    "last_classified_at",
    "next_review_on",
]
REGISTER_CHUNK_SIZE = 2000


def _person(username, first_name, last_name) -> str:
    if username is None:
        return ""
    return f"{first_name} {last_name}".strip() or username


def register_rows(scope: QuerySet[Initiative]) -> Iterator[list]:
    """One row per initiative of `scope` in REGISTER_COLUMNS order, streamed from the
    database (one query, whatever the number of initiatives or obligations).

    Values keep their type (counts are numbers, flags a list, dates dates, None for what
    an unclassified initiative has not): the CSV and the JSON each write them their way."""
    links = ObligationItem.objects.filter(initiative=OuterRef("pk"), dropped_at__isnull=True)
    rows = (
        scope.annotate(
            obligations_cleared=count_of(
                links, "initiative", Q(item__state__in=["done", "not_applicable"])
            )
        )
        .order_by("key")
        .values_list(
            "key",
            "name",
            "summary",
            "problem",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
            "team__name",
            "stage__name",
            "status",
            "ai_classification__tier",
            "ai_classification__role",
            "ai_classification__flags",
            "ai_classification__revision__obligation_codes",
            "obligations_cleared",
            "ai_classification__revision__classified_by__username",
            "ai_classification__revision__classified_by__first_name",
            "ai_classification__revision__classified_by__last_name",
            "ai_classification__revision__confirmed_by__username",
            "ai_classification__revision__confirmed_by__first_name",
            "ai_classification__revision__confirmed_by__last_name",
            "ai_classification__confirmed_at",
            "ai_classification__next_review_on",
        )
    )
    for row in rows.iterator(chunk_size=REGISTER_CHUNK_SIZE):
        key, name, summary, problem, *owner = row[:7]
        team, stage, status, tier, role, flags, codes, cleared = row[7:15]
        classified_by, confirmed_by = row[15:18], row[18:21]
        confirmed_at, review_on = row[21:]
        total = len(codes or [])
        yield [
            key,
            name,
            summary or problem,
            _person(*owner),
            team,
            stage,
            status,
            tier or "unclassified",
            role or None,
            list(flags or []),
            total - cleared if tier else None,
            cleared if tier else None,
            _person(*classified_by) or None,
            _person(*confirmed_by) or None,
            timezone.localtime(confirmed_at) if confirmed_at else None,
            review_on,
        ]
