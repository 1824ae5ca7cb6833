"""Query building blocks every app's selectors share."""

from __future__ import annotations

from django.db.models import Count, Func, IntegerField, Q, QuerySet, Subquery, Value
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


class _Span(Func):
    """An integer computed from two expressions, `later` and `earlier`, written per backend
    by `postgresql(later, earlier)` and `sqlite(later, earlier)` (SQL fragments)."""

    output_field = IntegerField()
    arity = 2

    def __init__(self, later, earlier, **extra):
        super().__init__(later, earlier, **extra)

    def _compile(self, compiler, template):
        (later, later_params), (earlier, earlier_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        return template(later, earlier), [*later_params, *earlier_params]

    def as_sql(self, compiler, connection, **extra_context):
        return self._compile(compiler, self.postgresql)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self._compile(compiler, self.sqlite)


class DaysBetween(_Span):
    """Whole days from the date `earlier` to the date `later`.

    Lets a rule that counts days ("overdue by n days") be written in SQL, so a scan can
    select only the rows it will act on instead of reading every row into Python.
    """

    @staticmethod
    def postgresql(later, earlier):
        return f"(({later})::date - ({earlier})::date)"  # date - date: a number of days

    @staticmethod
    def sqlite(later, earlier):
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


class WholeDaysSince(_Span):
    """Whole days elapsed from the moment `earlier` to the moment `later`: Python's
    `(later - earlier).days` for a non-negative span."""

    @staticmethod
    def postgresql(later, earlier):
        return f"FLOOR(EXTRACT(EPOCH FROM (({later}) - ({earlier}))) / 86400)::integer"

    @staticmethod
    def sqlite(later, earlier):
        # julianday is a float: round the span to whole microseconds before dividing.
        span = f"CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400000000) AS INTEGER)"
        return f"({span} / 86400000000)"
