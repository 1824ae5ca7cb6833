"""Query building blocks every app's selectors share."""

from __future__ import annotations

from django.db.models import Count, IntegerField, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce


def count_of(queryset: QuerySet, group_field: str, only: Q | None = None) -> Coalesce:
    """A correlated COUNT subquery of `queryset` grouped by `group_field`, 0 when empty;
    `only` narrows what is counted.

    `queryset` is filtered on an OuterRef, e.g. `Target.objects.filter(initiative=OuterRef("pk"))`
    counted by "initiative". `only` goes into the aggregate's FILTER, not the WHERE clause,
    so the subquery is always found through the correlation's own index. As a WHERE
    condition, a database without statistics yet took `state IN (done, not_applicable)`
    for selective and read every checklist item through the (target, state) index, once
    per board card: 73 s for 80 cards at 50,000 initiatives, 8.6 ms now
    (bench/results/explain/board-*_nostats.txt).
    """
    counted = (
        queryset.order_by()
        .values(group_field)
        .annotate(total=Count("pk", filter=only))
        .values("total")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
