"""Base classes for every form of the pages: each field bounded by `core.bounds`.

`BoundedForm` and `BoundedModelForm` (or `BoundedFormMixin` on a form from elsewhere, such
as the sign-in form) give every text field a maximum length, every number a range its
column and derived figures hold, and every date a sane range, so no input reaches a
column or a calculation it does not fit; a password field takes at most
`PASSWORD_MAX_LENGTH` characters. `VersionField` is the hidden row version of an
optimistic edit: required, a whole number, never missing.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core import validators
from django.core.exceptions import FieldDoesNotExist

from core.bounds import (
    FLOAT_LIMIT,
    INTEGER_RANGE,
    TEXT_MAX_LENGTH,
    decimal_limit,
    number_range,
    validate_date_range,
)


def _column(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _has(field, validator_class, limit) -> bool:
    return any(isinstance(v, validator_class) and v.limit_value == limit for v in field.validators)


def bound_text(field: forms.CharField, column=None) -> None:
    if field.max_length is None:
        if isinstance(field.widget, forms.PasswordInput):
            field.max_length = settings.PASSWORD_MAX_LENGTH
        else:
            field.max_length = getattr(column, "max_length", None) or TEXT_MAX_LENGTH
    if not _has(field, validators.MaxLengthValidator, field.max_length):
        field.validators.append(validators.MaxLengthValidator(field.max_length))
    field.widget.attrs.setdefault("maxlength", str(field.max_length))


def _number_range(field, column):
    found = number_range(column) if column is not None else None
    if found is not None:
        return found
    if isinstance(field, forms.DecimalField) and field.max_digits is not None:
        limit = decimal_limit(field.max_digits, field.decimal_places or 0)
        return -limit, limit
    if isinstance(field, forms.FloatField):
        return -FLOAT_LIMIT, FLOAT_LIMIT
    return INTEGER_RANGE


def bound_number(field, column=None) -> None:
    lowest, highest = _number_range(field, column)
    if isinstance(field, forms.DecimalField):
        lowest, highest = Decimal(lowest), Decimal(highest)
    if field.max_value is None or field.max_value > highest:
        field.max_value = highest
        field.validators.append(validators.MaxValueValidator(highest))
    if field.min_value is None or field.min_value < lowest:
        field.min_value = lowest
        field.validators.append(validators.MinValueValidator(lowest))


def bound_field(field: forms.Field, column=None) -> None:
    """Give one form field the limits of `core.bounds` (and of its column, if any)."""
    if isinstance(field, forms.CharField):
        bound_text(field, column)
    elif isinstance(field, forms.IntegerField | forms.FloatField | forms.DecimalField):
        bound_number(field, column)
    elif isinstance(field, forms.DateField | forms.DateTimeField):
        if validate_date_range not in field.validators:
            field.validators.append(validate_date_range)
    elif isinstance(field, forms.MultiValueField):
        for sub_field in field.fields:
            bound_field(sub_field)


class BoundedFormMixin:
    """Bounds every field of the form when it is built (declared and model-made alike)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model = getattr(getattr(self, "_meta", None), "model", None)
        for name, field in self.fields.items():
            bound_field(field, _column(model, name))

    def error_labels(self) -> list[str]:
        """The labels of the fields with errors, in form order (for a filter form read from
        the address, which says what it did not apply)."""
        return [str(self[name].label) for name in self.fields if name in self.errors]


class BoundedForm(BoundedFormMixin, forms.Form):
    pass


class BoundedModelForm(BoundedFormMixin, forms.ModelForm):
    pass


class VersionField(forms.IntegerField):
    """The row version an edit started from: required, hidden, a whole number in range."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.HiddenInput)
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", INTEGER_RANGE[1])
        stale = "This page is out of date; reload it and make your change again."
        kwargs.setdefault(
            "error_messages",
            {code: stale for code in ("required", "invalid", "min_value", "max_value")},
        )
        super().__init__(required=True, **kwargs)
