"""Turning cell values into Python values, with a message a person can act on when they don't fit.

Each function takes what the reader found in a cell (text from a CSV file;
text, numbers, booleans or datetimes from a workbook) and returns the value,
or raises CellError with the reason.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from decimal import Decimal, InvalidOperation

from django.utils import timezone

# Dates before this are a typing slip, not AI initiative history.
EARLIEST_DATE = datetime.date(2000, 1, 1)
# Serial numbers of 2000-01-01 and 2100-01-01 in a Windows-epoch workbook.
_SERIAL_RANGE = (36526, 73051)
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
TIME_OF_DAY = datetime.time(9, 0)


class CellError(ValueError):
    pass


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value, *, max_length: int) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, bool):
        raise CellError("Expected text, found TRUE/FALSE.")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime | datetime.date):
        value = value.isoformat()
    result = str(value).strip()
    if len(result) > max_length:
        raise CellError(f"At most {max_length} characters (this has {len(result)}).")
    if "\x00" in result:
        raise CellError("Contains a NUL character.")
    return result


def number(value, *, minimum=None, maximum=None) -> float:
    if isinstance(value, bool):
        raise CellError("Expected a number, found TRUE/FALSE.")
    if isinstance(value, int | float | Decimal):
        result = float(value)
    else:
        raw = str(value).strip().replace("\u00a0", "").replace(" ", "")
        if _THOUSANDS.match(raw):
            raw = raw.replace(",", "")
        try:
            result = float(raw)
        except ValueError:
            raise CellError(f"Expected a number, found {str(value)[:40]!r}.") from None
    if not math.isfinite(result):
        raise CellError("Expected a finite number.")
    if minimum is not None and result < minimum:
        raise CellError(f"Must be at least {minimum:g}.")
    if maximum is not None and result > maximum:
        raise CellError(f"Must be at most {maximum:g}.")
    return result


def decimal(value, *, max_digits: int, places: int, minimum=0) -> Decimal:
    """A non-negative amount that fits DecimalField(max_digits, places)."""
    as_float = number(value, minimum=minimum)
    try:
        result = (
            Decimal(str(value).strip().replace(",", ""))
            if isinstance(value, str)
            else (Decimal(str(value)))
        )
    except InvalidOperation:
        result = Decimal(str(as_float))
    result = result.quantize(Decimal(1).scaleb(-places))
    limit = Decimal(10) ** (max_digits - places)
    if abs(result) >= limit:
        raise CellError(f"Must be below {limit:,}.")
    return result


def integer(value, *, minimum: int, maximum: int) -> int:
    result = number(value, minimum=minimum, maximum=maximum)
    if not float(result).is_integer():
        raise CellError("Expected a whole number.")
    return int(result)


def _from_serial(value: float, epoch: datetime.datetime) -> datetime.datetime:
    from openpyxl.utils.datetime import from_excel

    if not _SERIAL_RANGE[0] - 1462 <= value <= _SERIAL_RANGE[1]:
        raise CellError(
            f"{value:g} is not a date. Write dates as YYYY-MM-DD, or format the cell as a date."
        )
    return from_excel(value, epoch=epoch)


def moment(
    value, *, epoch: datetime.datetime, now: datetime.datetime
) -> tuple[datetime.datetime, bool]:
    """(aware datetime, whether a time of day was given). Dates alone mean 09:00 local."""
    has_time = True
    if isinstance(value, bool):
        raise CellError("Expected a date, found TRUE/FALSE.")
    if isinstance(value, int | float):
        value = _from_serial(float(value), epoch)
        has_time = value.time() != datetime.time(0, 0)
    elif isinstance(value, str):
        raw = value.strip()
        if re.fullmatch(r"\d{5}(\.\d+)?", raw):
            value = _from_serial(float(raw), epoch)
            has_time = value.time() != datetime.time(0, 0)
        else:
            try:
                if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
                    value, has_time = datetime.date.fromisoformat(raw), False
                else:
                    value = datetime.datetime.fromisoformat(raw.replace(" ", "T", 1))
            except ValueError:
                raise CellError(
                    f"{raw[:40]!r} is not a date: write YYYY-MM-DD or YYYY-MM-DD HH:MM."
                ) from None
    elif isinstance(value, datetime.datetime):
        has_time = value.time() != datetime.time(0, 0)
    elif isinstance(value, datetime.date):
        has_time = False
    else:
        raise CellError("Expected a date.")
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime.combine(value, TIME_OF_DAY)
    elif not has_time:
        value = datetime.datetime.combine(value.date(), TIME_OF_DAY)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value.date() < EARLIEST_DATE:
        raise CellError(f"Dates before {EARLIEST_DATE:%Y-%m-%d} are not accepted.")
    if not has_time and value > now:
        # A date of today means "today": not later than now.
        value = (
            min(value, now)
            if timezone.localtime(value).date() == timezone.localdate(now)
            else value
        )
    if value > now + datetime.timedelta(minutes=5):
        raise CellError(f"{timezone.localtime(value):%Y-%m-%d %H:%M} is in the future.")
    return value, has_time


def day(value, *, epoch: datetime.datetime, now: datetime.datetime) -> datetime.date:
    when, _ = moment(value, epoch=epoch, now=now)
    return timezone.localtime(when).date()


def json_object(value, *, max_length: int) -> dict:
    """A JSON object written in a cell, e.g. {"role": "provider"}."""
    raw = str(value).strip()
    if len(raw) > max_length:
        raise CellError(f"At most {max_length} characters.")
    try:
        parsed = json.loads(raw)
    except ValueError as error:
        raise CellError(f"Not JSON: {error.msg} (at character {error.pos}).") from error
    if not isinstance(parsed, dict):
        raise CellError('A JSON object, e.g. {"role": "provider"}.')
    return parsed


def choice(value, options: dict[str, str]) -> str:
    """One of `options` ({accepted spelling: value}), matched without case or spaces."""
    key = re.sub(r"[\s\-]+", "_", str(value).strip().lower())
    if key in options:
        return options[key]
    shown = ", ".join(sorted(set(options.values())))
    raise CellError(f"{str(value)[:40]!r} is not one of: {shown}.")


def split_list(value) -> list[str]:
    if is_blank(value):
        return []
    return [part.strip() for part in re.split(r"[,;]", str(value)) if part.strip()]
