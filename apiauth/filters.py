"""Orderings that never tie: every list the API orders ends in the primary key."""

from __future__ import annotations

from rest_framework.filters import OrderingFilter


def _field_name(term) -> str:
    name = term if isinstance(term, str) else getattr(term, "name", str(term))
    return name.lstrip("-")


class StableOrderingFilter(OrderingFilter):
    """OrderingFilter that appends the primary key to whatever ordering is chosen.

    Rows that tie on the chosen fields (thirty initiatives due on the same day) came
    back in whatever order the database liked on each page, so paging repeated some
    and skipped others. With the key last, the order is total and pages are stable.
    """

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if not ordering:
            return ordering
        ordering = list(ordering)
        if _field_name(ordering[-1]) not in ("pk", queryset.model._meta.pk.name):
            last = ordering[-1]
            descending = isinstance(last, str) and last.startswith("-")
            ordering.append("-pk" if descending else "pk")
        return ordering
