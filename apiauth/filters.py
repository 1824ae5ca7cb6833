"""Orderings that never tie: every list the API orders ends in the primary key."""

from __future__ import annotations

import re

from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter


def _field_name(term) -> str:
    name = term if isinstance(term, str) else getattr(term, "name", str(term))
    return name.lstrip("-")


class StableOrderingFilter(OrderingFilter):
    """OrderingFilter that appends the primary key to whatever ordering is chosen.

    Rows that tie on the chosen fields (thirty initiatives due on the same day) came
    back in whatever order the database liked on each page, so paging repeated some
    and skipped others. With the key last, the order is total and pages are stable.

    An ordering the list does not offer is a 400 naming `ordering` and the choices
    (DRF drops it silently, so a typo came back in the default order).
    """

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = [
            name for name, _label in self.get_valid_fields(queryset, view, {"request": request})
        ]
        unknown = [term for term in fields if term.lstrip("-") not in valid]
        if unknown:
            # Each unknown term once; an empty one (`?ordering=name,`) said as such.
            named = dict.fromkeys(term or "an empty term" for term in unknown)
            raise ValidationError(
                {
                    self.ordering_param: [
                        f"Unknown ordering: {', '.join(named)}. "
                        f"Order by any of: {', '.join(valid)} (a leading - reverses)."
                    ]
                }
            )
        return super().remove_invalid_fields(queryset, fields, view, request)

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

    def get_schema_operation_parameters(self, view):
        """The parameter as DRF documents it, with the terms it takes as a pattern."""
        parameters = super().get_schema_operation_parameters(view)
        fields = getattr(view, "ordering_fields", None)
        if not isinstance(fields, list | tuple) or not fields:
            return parameters
        term = f"-?({'|'.join(re.escape(field) for field in fields)})"
        for parameter in parameters:
            parameter["description"] = (
                f"Order by any of: {', '.join(fields)}; a leading - reverses, "
                "commas separate several."
            )
            parameter["schema"] = {"type": "string", "pattern": f"^{term}(,{term})*$"}
        return parameters
