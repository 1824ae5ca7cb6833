"""The inbox's email preferences: per kind of notice, at once, in the daily summary, or off."""

from __future__ import annotations

from django import forms

from core.forms import BoundedForm
from notifications.models import CHOOSABLE_KINDS, Delivery


class DeliveryPreferencesForm(BoundedForm):
    """One optional `delivery_<kind>` choice per choosable kind; a value that is not one of
    `Delivery` is an error on that field (it was skipped without a word)."""

    # The two switches of earlier versions of this form (and of scripts using it).
    email_digest = forms.BooleanField(required=False)
    email_reminders = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in CHOOSABLE_KINDS:
            self.fields[f"delivery_{kind}"] = forms.ChoiceField(
                choices=Delivery.choices,
                required=False,
                error_messages={
                    "invalid_choice": "Choose one of: "
                    + ", ".join(str(label) for _value, label in Delivery.choices)
                    + "."
                },
            )

    def deliveries(self) -> dict[str, str]:
        """{kind: delivery} for the kinds the POST chose for."""
        return {
            kind: self.cleaned_data[f"delivery_{kind}"]
            for kind in CHOOSABLE_KINDS
            if self.cleaned_data.get(f"delivery_{kind}")
        }
