"""Reads of classifications and obligations, each in a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, QuerySet

from compliance.models import (
    Classification,
    ClassificationRevision,
    Obligation,
    ObligationItem,
    ObligationStage,
    Tier,
)
from initiatives.models import Initiative


def active_catalogue() -> list[Obligation]:
    return list(Obligation.objects.filter(is_active=True).order_by("code"))


def obligations_with_stages(codes) -> list[Obligation]:
    """The active obligations among `codes`, each with `stage_for` {framework id: stage}."""
    obligations = list(
        Obligation.objects.filter(code__in=list(codes), is_active=True)
        .prefetch_related(
            Prefetch("stages", queryset=ObligationStage.objects.select_related("stage"))
        )
        .order_by("code")
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
        Classification.objects.filter(initiative=initiative).select_related("revision").first()
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
        for obligation in Obligation.objects.filter(
            code__in=current.revision.obligation_codes
        ).order_by("applies_from", "code"):
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
