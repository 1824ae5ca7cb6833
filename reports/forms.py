"""The dashboard's filters: one GET form serving the page, its HTMX fragment and the exports."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from core.forms import BoundedForm
from initiatives.models import Framework
from reports.selectors import DEFAULT_PERIOD, PERIODS, DashboardFilters
from teams.models import Team


class DashboardFilterForm(BoundedForm):
    framework = forms.ChoiceField(required=False)
    team = forms.ChoiceField(required=False)
    period = forms.ChoiceField(
        required=False, choices=[(key, label) for key, (label, _) in PERIODS.items()]
    )

    def __init__(self, data, *, frameworks: list[Framework], teams: list[Team]):
        super().__init__(data)
        self.frameworks = frameworks
        self.teams = teams
        self.fields["framework"].choices = [(f.slug, f.name) for f in frameworks]
        self.fields["team"].choices = [("", "All teams")] + [(t.slug, t.name) for t in teams]

    def filters(self) -> DashboardFilters | None:
        """The filters asked for; unknown values fall back to the defaults. None: no framework."""
        # Field by field, so one stale value (a team since renamed) keeps the others.
        asked = {name: str(self.data.get(name) or "") for name in self.fields}
        by_slug = {framework.slug: framework for framework in self.frameworks}
        framework = by_slug.get(asked["framework"]) or next(
            (f for f in self.frameworks if f.is_default), None
        )
        if framework is None and self.frameworks:
            framework = self.frameworks[0]
        if framework is None:
            return None
        team = next((t for t in self.teams if t.slug == asked["team"]), None)
        return DashboardFilters(
            framework=framework,
            team=team,
            period=asked["period"] if asked["period"] in PERIODS else DEFAULT_PERIOD,
            today=timezone.localdate(),
        )
