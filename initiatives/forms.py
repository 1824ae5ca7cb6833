"""Forms of the board and the initiative pages. Validation of rules stays in the services."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from core.forms import BoundedForm, BoundedModelForm, VersionField
from initiatives.models import BusinessCase, Framework, Initiative, Membership, Target
from teams.models import Team
from teams.policy import OWNER_ROLES, SPONSOR_ROLES
from teams.roles import users_with_roles

ALL_STATUSES = "all"


class BoardFilterForm(BoundedForm):
    """The board's filters: a plain GET form, so every filtered board is a shareable link."""

    framework = forms.ChoiceField(required=False)
    team = forms.ChoiceField(required=False)
    owner = forms.ChoiceField(required=False)
    status = forms.ChoiceField(
        required=False,
        choices=[*Initiative.Status.choices, (ALL_STATUSES, "Any status")],
    )
    q = forms.CharField(required=False, max_length=100, label="Search")
    overdue = forms.BooleanField(required=False, label="Overdue only")
    stalled = forms.BooleanField(required=False, label="Stalled only")

    def __init__(self, data, *, frameworks, teams, owners):
        super().__init__(data)
        self.fields["framework"].choices = [(f.slug, f.name) for f in frameworks]
        self.fields["team"].choices = [("", "All teams")] + [(t.slug, t.name) for t in teams]
        self.fields["owner"].choices = [("", "All owners")] + [
            (user.get_username(), user.get_full_name() or user.get_username()) for user in owners
        ]
        self.fields["q"].widget.attrs.update(
            {"placeholder": "Key or name", "type": "search", "autocomplete": "off"}
        )

    def value(self, name: str, default=""):
        """The cleaned value, or the default when the field is missing or invalid."""
        if not self.is_bound or not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name) or default


def _people(roles):
    """The active people who may hold `roles`, as the services check them."""
    return users_with_roles(roles).order_by("first_name", "last_name", "username")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class InitiativeForm(BoundedModelForm):
    """Name, story and people of an initiative. The framework is chosen once, at the start."""

    owner = PersonChoiceField(queryset=None)
    sponsor = PersonChoiceField(queryset=None, label="Executive sponsor")
    # The version the editor saw, so a concurrent save is refused rather than overwritten.
    version = VersionField()

    class Meta:
        model = Initiative
        fields = ["name", "summary", "problem", "team", "owner", "sponsor", "framework"]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 3}),
            "problem": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.order_by("name")
        self.fields["owner"].queryset = _people(OWNER_ROLES)
        self.fields["sponsor"].queryset = _people(SPONSOR_ROLES)
        if creating:
            self.fields["framework"].queryset = Framework.objects.all()
            self.fields["framework"].initial = Framework.default()
            self.fields["framework"].empty_label = None
            del self.fields["version"]
        else:
            del self.fields["framework"]
            if not self.is_bound:
                self.initial["version"] = self.instance.version


class BusinessCaseForm(BoundedModelForm):
    # The revision the editor saw, so a concurrent save is not silently overwritten.
    revision = VersionField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["revision"] = self.instance.revision_number if self.instance.pk else 0

    class Meta:
        model = BusinessCase
        fields = BusinessCase.TRACKED_FIELDS
        widgets = {"outcome": forms.Textarea(attrs={"rows": 3})}


class TargetForm(BoundedForm):
    """A line of the production bar; comparator, category and unit default from the metric."""

    metric_key = forms.SlugField(
        max_length=60,
        label="Metric",
        help_text="A standard metric (task_success_rate, latency_p95_ms, …) or your own key.",
        widget=forms.TextInput(attrs={"list": "standard-metrics", "autocomplete": "off"}),
    )
    comparator = forms.ChoiceField(
        choices=[("", "Default for the metric"), *Target.Comparator.choices], required=False
    )
    threshold = forms.FloatField()
    category = forms.ChoiceField(
        choices=[("", "Default for the metric"), *Target.Category.choices], required=False
    )
    unit = forms.CharField(max_length=20, required=False, help_text="Empty: the metric's default.")
    description = forms.CharField(max_length=200, required=False)

    standard_metrics = sorted(Target.STANDARD_METRICS)


class MeasurementForm(BoundedForm):
    value = forms.FloatField()
    measured_at = forms.DateTimeField(
        required=False,
        label="Measured at",
        help_text="Empty: now.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class MembershipForm(BoundedModelForm):
    """A person on the initiative's team, in a stage role, with an allocation."""

    class Meta:
        model = Membership
        fields = ["user", "stage_role", "allocation_percent"]
        labels = {"user": "Person", "allocation_percent": "Allocation (%)"}

    def __init__(self, *args, initiative: Initiative, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.initiative = initiative
        self.fields["user"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("first_name", "username")
        )
