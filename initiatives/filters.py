"""The one definition of how the portfolio is filtered, for the board and the API alike.

The board fills it from its form (whose choices are what the viewer can see), the API from
its validated query parameters; both then narrow their querysets with `apply`, so a filter
means the same on the page and in the API.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from initiatives.models import Framework, Initiative

UNCLASSIFIED = "unclassified"


@dataclass
class InitiativeFilters:
    # A Framework (the board), or a framework's slug (the API).
    framework: Framework | str | None = None
    team: str = ""  # team slug
    owner: str = ""  # owner's username
    stage: str = ""  # stage key
    status: str = Initiative.Status.ACTIVE  # "" for any status
    query: str = ""  # part of the key or the name
    # True: only those; False: all but those; None: no matter.
    overdue: bool | None = None
    stalled: bool | None = None
    updated_since: datetime.datetime | None = None
    # An EU AI Act tier (compliance.models.Tier), or UNCLASSIFIED for those without a
    # confirmed classification. Named by the related name only: initiatives knows no tiers.
    ai_tier: str = ""

    def cache_key(self) -> list:
        """Every filter's value (a framework by its id), for keys of cached reads."""
        return [
            getattr(value, "pk", value)
            for value in (getattr(self, item.name) for item in dataclasses.fields(self))
        ]

    def apply(self, queryset: QuerySet[Initiative], today: datetime.date) -> QuerySet[Initiative]:
        """`queryset` narrowed by every filter that is set."""
        if isinstance(self.framework, Framework):
            queryset = queryset.filter(framework=self.framework)
        elif self.framework:
            queryset = queryset.filter(framework__slug=self.framework)
        if self.team:
            queryset = queryset.filter(team__slug=self.team)
        if self.owner:
            queryset = queryset.filter(owner__username=self.owner)
        if self.stage:
            queryset = queryset.filter(stage__key=self.stage)
        if self.status:
            queryset = queryset.filter(status=self.status)
        if self.query:
            queryset = queryset.filter(Q(key__icontains=self.query) | Q(name__icontains=self.query))
        for wanted, condition in (
            (self.overdue, Initiative.overdue_q(today)),
            (self.stalled, Initiative.stalled_q(today)),
        ):
            if wanted is not None:
                queryset = queryset.filter(condition) if wanted else queryset.exclude(condition)
        if self.updated_since is not None:
            queryset = queryset.filter(updated_at__gte=self.updated_since)
        if self.ai_tier == UNCLASSIFIED:
            queryset = queryset.filter(ai_classification__isnull=True)
        elif self.ai_tier:
            queryset = queryset.filter(ai_classification__tier=self.ai_tier)
        return queryset

    @property
    def is_narrowed(self) -> bool:
        """True when anything beyond the framework and the default status narrows the list."""
        return bool(
            self.team
            or self.owner
            or self.stage
            or self.query
            or self.overdue is not None
            or self.stalled is not None
            or self.updated_since
            or self.ai_tier
            or self.status != Initiative.Status.ACTIVE
        )
