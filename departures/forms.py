from django import forms
from django.contrib.auth import get_user_model


class PersonLabelChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, person) -> str:
        name = person.get_full_name()
        return f"{name} ({person.get_username()})" if name else person.get_username()


class DepartureForm(forms.Form):
    """Who takes on what the departing person holds."""

    successor = PersonLabelChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        label="Successor",
        help_text="Takes over as owner, sponsor, gatekeeper and team lead.",
    )

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["successor"].queryset = (
            get_user_model()
            .objects.filter(is_active=True)
            .exclude(pk=person.pk)
            .order_by("first_name", "last_name", "username", "pk")
        )


class PersonChoiceForm(forms.Form):
    person = PersonLabelChoiceField(
        queryset=get_user_model().objects.order_by("first_name", "last_name", "username", "pk"),
        label="Person",
    )
