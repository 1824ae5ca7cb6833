"""Forms of the gate pages: checklist items, votes and gatekeepers."""

from __future__ import annotations

from django import forms

from core.forms import BoundedForm, VersionField
from gates.models import ChecklistItem, Decision, Gate
from teams.roles import PortfolioRole, users_with_roles


class ChecklistItemForm(BoundedForm):
    """One checklist item; `version` is what the editor saw, so a stale edit is caught."""

    state = forms.ChoiceField(choices=ChecklistItem.State.choices, widget=forms.RadioSelect)
    na_reason = forms.CharField(
        required=False, label="Why it does not apply", widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence_url = forms.URLField(
        required=False,
        max_length=500,
        label="Evidence link",
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://…"}),
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = VersionField()

    @classmethod
    def for_item(cls, item: ChecklistItem, data=None) -> ChecklistItemForm:
        initial = {
            "state": item.state,
            "na_reason": item.na_reason,
            "evidence_url": item.evidence_url,
            "note": item.note,
            "version": item.version,
        }
        form = cls(data, initial=initial, prefix=f"item-{item.pk}")
        return form

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("state") == ChecklistItem.State.NOT_APPLICABLE
            and not (cleaned.get("na_reason") or "").strip()
        ):
            self.add_error("na_reason", "Say why this item does not apply.")
        return cleaned


class VoteForm(BoundedForm):
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect)
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Part of the record: what you weighed and why.",
        error_messages={"required": "Write down why: the rationale is part of the record."},
    )
    override = forms.BooleanField(
        required=False, label="Override: go although required items are open"
    )
    override_justification = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Override justification"
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("override") and not (cleaned.get("override_justification") or "").strip():
            self.add_error("override_justification", "Write down why the override is justified.")
        if not cleaned.get("override"):
            cleaned["override_justification"] = ""
        return cleaned


class GatekeeperForm(BoundedForm):
    user = forms.ModelChoiceField(queryset=None, label="Executive", empty_label="Choose…")

    def __init__(self, *args, gate: Gate, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            users_with_roles({PortfolioRole.EXECUTIVE})
            .exclude(gatekeeping__gate=gate)
            .order_by("first_name", "username")
        )
        self.fields["user"].label_from_instance = lambda u: u.get_full_name() or u.get_username()


class GateRuleForm(BoundedForm):
    rule = forms.ChoiceField(choices=Gate.Rule.choices)
