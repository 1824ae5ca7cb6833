"""Model fields every app shares.

`ChoiceListField` is a list of choice values kept in one JSON column (a stage's
recommended roles, a webhook's events, an obligation's roles and tiers). The JSON
column alone accepts any document, and the models' own checks then met nested
lists with `set(...)`: a 500 in the admin. Here the field checks the shape itself,
and its form field is a set of checkboxes, so the admin cannot even type one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django import forms
from django.core.exceptions import ValidationError
from django.db import models


class ChoiceListField(models.JSONField):
    """A flat list of distinct strings, each one of `allowed` (values or `(value, label)`).

    `allowed` may be a callable returning the choices, so a list that grows (the webhook
    events) is read when a form is built. It is not stored in migrations: the column is
    plain JSON either way. Raises `ValidationError` (code `invalid_choice_list`) for
    anything but such a list, and `blank` decides whether the empty list is allowed.
    """

    def __init__(self, *args, allowed: Iterable | Callable[[], Iterable] = (), **kwargs):
        kwargs.setdefault("default", list)
        self._allowed = allowed
        super().__init__(*args, **kwargs)

    @property
    def allowed_choices(self) -> list[tuple[str, str]]:
        source = self._allowed() if callable(self._allowed) else self._allowed
        found = []
        for choice in source:
            if isinstance(choice, tuple | list):
                value, label = choice
            else:
                value, label = choice, getattr(choice, "label", choice)
            found.append((str(value), str(label)))
        return found

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "core.fields.ChoiceListField", args, kwargs

    def validate(self, value, model_instance) -> None:
        allowed = [value for value, _label in self.allowed_choices]
        message = f"A list of: {', '.join(allowed)}." if allowed else "A list."
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValidationError(message, code="invalid_choice_list")
        if not value and not self.blank:
            raise ValidationError("Choose at least one.", code="blank")
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise ValidationError(
                f"Unknown: {', '.join(unknown)}. {message}", code="invalid_choice_list"
            )
        if len(set(value)) != len(value):
            raise ValidationError("Each value once.", code="invalid_choice_list")

    def formfield(self, **kwargs):
        # Field.formfield, not JSONField's: a set of checkboxes, not a JSON text box.
        defaults = {
            "form_class": forms.TypedMultipleChoiceField,
            "choices": self.allowed_choices,
            "widget": forms.CheckboxSelectMultiple,
        }
        defaults.update(kwargs)
        return models.Field.formfield(self, **defaults)
