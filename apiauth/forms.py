"""The token page's form: a name, a scope the person may hold, an expiry."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from apiauth.models import ApiToken
from core.forms import BoundedForm
from teams.policy import may_write

# The expiry offered: choice → (label, days; None: never).
EXPIRIES = {
    "30": ("in 30 days", 30),
    "90": ("in 90 days", 90),
    "365": ("in a year", 365),
    "never": ("never", None),
}


class TokenForm(BoundedForm):
    """Raises nothing; `is_valid()` gives errors on `name` (blank, over 100 characters),
    `scope` (one the person may not hold) and `expires_in` (not offered)."""

    name = forms.CharField(
        max_length=100,
        help_text="The integration that uses it, e.g. “Jira sync”.",
        error_messages={"required": "Give the token a name, e.g. the integration that uses it."},
    )
    scope = forms.ChoiceField(initial=ApiToken.Scope.READ)
    expires_in = forms.ChoiceField(
        label="Expires",
        initial="90",
        choices=[(value, label) for value, (label, _days) in EXPIRIES.items()],
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # A token never does more than its person may: no read-and-write token for a viewer.
        self.fields["scope"].choices = (
            ApiToken.Scope.choices
            if may_write(user)
            else [(ApiToken.Scope.READ.value, ApiToken.Scope.READ.label)]
        )

    def expires_at(self) -> datetime.datetime | None:
        _label, days = EXPIRIES[self.cleaned_data["expires_in"]]
        return timezone.now() + datetime.timedelta(days=days) if days else None
