"""Query building blocks every app's selectors share."""

from __future__ import annotations

from django.db.models import Count, IntegerField, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce


def count_of(queryset: QuerySet, group_field: str) -> Coalesce:
    """A correlated COUNT(*) subquery of `queryset` grouped by `group_field`, 0 when empty.

    `queryset` is filtered on an OuterRef, e.g. `Target.objects.filter(initiative=OuterRef("pk"))`
    counted by "initiative".
    """
    counted = (
        queryset.order_by().values(group_field).annotate(total=Count("pk")).values("total")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
