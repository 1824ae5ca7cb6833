"""What every input may hold: one place for the limits of numbers, text and dates.

The API's input serializers (`apiauth.serializers.StrictSerializer`) and the pages' forms
(`core.forms.BoundedFormMixin`) take their limits from here, so a value that passes
validation fits its column and every figure computed from it:

- numbers: what the model field holds (`max_digits`/`decimal_places`, the integer column's
  range), and never more than `FLOAT_LIMIT` for floating-point values, so sums,
  differences and scaled figures (sparklines, unit economics) stay finite;
- text: `TEXT_MAX_LENGTH` characters unless the field or its column says fewer;
- dates and times: `EARLIEST_DATE` to `LATEST_DATE`, read in the configured time zone,
  so converting to or from UTC never leaves the calendar Python and the database know.
"""

from __future__ import annotations

import datetime
import math
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import fields as model_fields

# Dates outside these years are typing mistakes, not history or plans.
EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2200, 12, 31)
# Measurements, thresholds and other floats: far beyond any metric, far below overflow
# (1.79e308 minus -1.79e308 is inf, which put nan into the sparkline).
FLOAT_LIMIT = 1e15
# Free text without a column limit (TextField): long enough for any write-up.
TEXT_MAX_LENGTH = 20_000
# Integers with no column behind them: what every integer column holds.
INTEGER_RANGE = (-2_147_483_648, 2_147_483_647)

DATE_RANGE_MESSAGE = (
    f"Give a date between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}."
)


def date_in_range(value) -> bool:
    """Whether a date or datetime (naive or aware) lies within the sane range."""
    if value is None:
        return True
    day = value.date() if isinstance(value, datetime.datetime) else value
    return EARLIEST_DATE <= day <= LATEST_DATE


def validate_date_range(value) -> None:
    """A validator for date and datetime fields (model, form and serializer alike)."""
    if not date_in_range(value):
        raise ValidationError(DATE_RANGE_MESSAGE, code="date_range")


def decimal_limit(max_digits: int, decimal_places: int) -> Decimal:
    """The largest magnitude a DECIMAL(max_digits, decimal_places) column holds."""
    return Decimal(10) ** (max_digits - decimal_places) - Decimal(10) ** -decimal_places


def number_range(field) -> tuple[float | int | Decimal, float | int | Decimal] | None:
    """(lowest, highest) a model field's column holds; None when it is not a number."""
    if isinstance(field, model_fields.DecimalField):
        limit = decimal_limit(field.max_digits, field.decimal_places)
        return -limit, limit
    if isinstance(field, model_fields.FloatField):
        return -FLOAT_LIMIT, FLOAT_LIMIT
    if isinstance(field, model_fields.IntegerField):
        ranges = BaseDatabaseOperations.integer_field_ranges
        return ranges.get(field.get_internal_type(), INTEGER_RANGE)
    return None


def finite_float_problem(value: float) -> str | None:
    """Why a float is refused (not finite, beyond FLOAT_LIMIT), or None."""
    if not math.isfinite(value):
        return "Give a finite number."
    if abs(value) > FLOAT_LIMIT:
        return f"Give a number between -{FLOAT_LIMIT:g} and {FLOAT_LIMIT:g}."
    return None


# What a value in a unit can be: a percentage of something is not a billion. Beyond these,
# a measurement or threshold is a typing mistake (a ratio given as a percentage, a missed
# decimal point), refused rather than shown as "1e+09%".
UNIT_RANGES = {"%": (-1000.0, 1000.0)}


def unit_value_problem(value: float, unit: str | None) -> str | None:
    """Why `value` cannot be a value in `unit` (outside UNIT_RANGES), or None."""
    bounds = UNIT_RANGES.get((unit or "").strip())
    if bounds is None or bounds[0] <= value <= bounds[1]:
        return None
    return f"A value in {unit} lies between {bounds[0]:g} and {bounds[1]:g}."
