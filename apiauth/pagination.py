import hashlib
from urllib.parse import urlencode

from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

from core.versions import portfolio_cached


class StandardPagination(PageNumberPagination):
    """Pages of 50 by default; `page_size` 1 to 100, refused (not ignored) otherwise."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        f"Give a whole number from 1 to {self.max_page_size}."
                    ]
                }
            )
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
            if parameter["name"] == self.page_query_param:
                parameter["schema"].update(minimum=1)
        return parameters


class KnownCount:
    """A queryset whose length is known already, for the paginator: it slices the rows
    and takes the count as given instead of asking the database."""

    ordered = True

    def __init__(self, queryset, count: int):
        self.queryset = queryset
        self.known = count

    def count(self) -> int:
        return self.known

    def __len__(self) -> int:
        return self.known

    def __getitem__(self, key):
        return self.queryset[key]


# A safety net only: every change to the portfolio invalidates the counts at once.
COUNT_CACHE_SECONDS = 15 * 60


def cached_count(user, queryset, params) -> int:
    """How many rows a list has, kept per portfolio version and sight of the portfolio.

    A list's count reads every row that passes its filters, however few a page shows.
    Readers of everything share one count per query string, everyone else has their own,
    until the portfolio next changes (`core.versions`: the activity log, team
    memberships and the tables boards show move the version on).
    """
    from initiatives.policy import sight_key

    wanted = urlencode(sorted((k, v) for k, v in params.items() if k not in ("page", "page_size")))
    # Hashed: query strings are the client's and may be long; "overdue" depends on today.
    digest = hashlib.sha256(f"{timezone.localdate()}?{wanted}".encode()).hexdigest()
    key = f"count:{queryset.model._meta.label_lower}:{sight_key(user)}:{digest}"
    return portfolio_cached(key, queryset.count, COUNT_CACHE_SECONDS)
