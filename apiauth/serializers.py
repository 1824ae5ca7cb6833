"""Serializer building blocks shared by every app's API."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.http import QueryDict
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

from core.bounds import (
    DATE_RANGE_MESSAGE,
    FLOAT_LIMIT,
    INTEGER_RANGE,
    TEXT_MAX_LENGTH,
    date_in_range,
)


def _bound_field(field: serializers.Field) -> None:
    """Give a serializer field the limits of `core.bounds` (visible in the schema too)."""
    if isinstance(field, serializers.CharField) and not isinstance(field, serializers.ChoiceField):
        if field.max_length is None:
            field.max_length = TEXT_MAX_LENGTH
            field.validators.append(MaxLengthValidator(TEXT_MAX_LENGTH))
    elif isinstance(field, serializers.FloatField):
        if field.max_value is None:
            field.max_value = FLOAT_LIMIT
            field.validators.append(MaxValueValidator(FLOAT_LIMIT))
        if field.min_value is None:
            field.min_value = -FLOAT_LIMIT
            field.validators.append(MinValueValidator(-FLOAT_LIMIT))
    elif isinstance(field, serializers.IntegerField):
        if field.max_value is None:
            field.max_value = INTEGER_RANGE[1]
            field.validators.append(MaxValueValidator(INTEGER_RANGE[1]))
        if field.min_value is None:
            field.min_value = INTEGER_RANGE[0]
            field.validators.append(MinValueValidator(INTEGER_RANGE[0]))
    elif isinstance(field, serializers.ListField):
        _bound_field(field.child)


def _all_integers(choices) -> bool:
    return all(isinstance(key, int) and not isinstance(key, bool) for key in choices)


def _raw_problem(field: serializers.Field, value, typed: bool) -> str | None:
    """Why a value as sent cannot be this field's, before any conversion; None if it may be.

    `typed` is true for JSON bodies, whose values carry their type: a number field takes
    numbers (not booleans, not text), a text field takes text. Form and multipart bodies
    carry text only, which the fields convert as usual.
    """
    if value is None:
        return None
    # No database stores a NUL in text, and a related field would look it up as sent.
    texts = value if isinstance(value, list) else [value]
    if any(isinstance(text, str) and "\x00" in text for text in texts):
        return "Null characters are not allowed."
    if isinstance(field, serializers.BooleanField):
        return "Send true or false." if typed and not isinstance(value, bool) else None
    if isinstance(field, serializers.IntegerField | serializers.FloatField):
        if isinstance(value, bool) or (typed and not isinstance(value, int | float)):
            return "Send a number."
        return None
    if isinstance(field, serializers.DecimalField):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return "Send a number."
        return None
    if isinstance(field, serializers.ChoiceField):
        # True == 1 would pick the choice 1.
        if isinstance(value, bool | list | dict):
            return "Send one of the choices."
        # In JSON a choice has the type of the choices: 1, not "1", for a number's choices.
        if typed and field.choices and _all_integers(field.choices):
            return None if isinstance(value, int) else "Send one of the choices, as a number."
        return None
    if isinstance(field, serializers.DateTimeField | serializers.DateField):
        if typed and not isinstance(value, str):
            return "Send a date as text (ISO 8601)."
        if isinstance(value, str):
            try:
                parsed = (
                    parse_datetime(value)
                    if isinstance(field, serializers.DateTimeField)
                    else parse_date(value)
                )
            except ValueError:
                return None  # the field says what is wrong with it
            if parsed is not None and not date_in_range(parsed):
                return DATE_RANGE_MESSAGE
        return None
    if isinstance(field, serializers.CharField | serializers.SlugRelatedField):
        if typed and not isinstance(value, str):
            return "Send text."
        limit = getattr(field, "max_length", None)
        if isinstance(value, str) and limit is not None and len(value) > limit:
            # Before trimming: what the schema's maxLength counts is what was sent.
            return f"Ensure this field has no more than {limit} characters."
        return None
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        for item in value:
            problem = _raw_problem(field.child, item, typed)
            if problem:
                return problem
    return None


class StrictSerializer(serializers.Serializer):
    """The base of every input serializer: what it takes, it takes strictly.

    - fields it does not know are refused (400), not ignored;
    - JSON values must have the field's type: numbers are numbers (not booleans or
      numeric strings), text is text (not numbers), a choice among numbers is a number;
    - every text, number and date is bounded by `core.bounds`, so nothing accepted
      overflows a column or a figure derived from it.
    """

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            if not field.read_only:
                _bound_field(field)
        return fields

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
            typed = not isinstance(data, QueryDict)
            problems = {}
            for name, field in self.fields.items():
                if field.read_only or name not in data:
                    continue
                problem = _raw_problem(field, data[name], typed)
                if problem:
                    problems[name] = [problem]
            if problems:
                raise serializers.ValidationError(problems)
        return super().to_internal_value(data)


class QuerySerializer(serializers.Serializer):
    """The base of every serializer that reads query parameters: bounded like the input
    serializers (dates within core.bounds, in every time zone); empty and repeated
    parameters are refused before (apiauth.permissions.NoEmptyParameters)."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            _bound_field(field)
        return fields

    def to_internal_value(self, data):
        if isinstance(data, dict):
            problems = {}
            for name, field in self.fields.items():
                if name in data:
                    problem = _raw_problem(field, data[name], typed=False)
                    if problem:
                        problems[name] = [problem]
            if problems:
                raise serializers.ValidationError(problems)
        return super().to_internal_value(data)


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


def user_field(**kwargs) -> serializers.SlugRelatedField:
    """A user named by username in request bodies."""
    return serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True), **kwargs
    )


class ErrorSerializer(serializers.Serializer):
    """The shape of every 4xx response."""

    code = serializers.CharField(help_text="Stable machine-readable code, e.g. invalid.")
    message = serializers.CharField(help_text="A sentence for people.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Problems per field (dotted paths for nested rows).",
    )
