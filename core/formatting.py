"""How Tollgate writes money and measured numbers, on pages, in the brief, in charts and emails.

Money is in one currency for the whole portfolio, TOLLGATE_CURRENCY (an ISO 4217 code);
every amount goes through `money`, so a page never shows a bare number or another sign.
Measured values go through `number`: what a person would write, never "1e+09" or "95.200".
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.conf import settings
from django.utils.translation import ngettext

# Currencies written with a sign before the amount; any other code is written in front.
SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
COMPACT = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def currency() -> str:
    return settings.TOLLGATE_CURRENCY


def _with_currency(text: str, negative: bool) -> str:
    code = currency()
    sign = SIGNS.get(code)
    amount = f"{sign}{text}" if sign else f"{code} {text}"
    return f"−{amount}" if negative else amount


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """A count with its noun in the right number: "0 rows", "1 row", "2 rows". Every count
    sentence says it this way (never a noun with "(s)"); templates use `pluralize`."""
    return f"{count:,} {ngettext(singular, plural or f'{singular}s', count)}"


def money(amount: Decimal | float | int | None, *, places: int = 0, compact: bool = False) -> str:
    """ "$1,234,567", "$0.0040" (places=4) or "$1.2M" (compact); a dash when there is none."""
    if amount is None or amount == "":
        return "–"
    value = float(amount)
    negative, value = value < 0, abs(value)
    if compact:
        for threshold, suffix in COMPACT:
            if value >= threshold:
                text = f"{value / threshold:.1f}".removesuffix(".0") + suffix
                return _with_currency(text, negative)
    return _with_currency(f"{value:,.{places}f}", negative)


def number(value: Decimal | float | int | None, *, significant: int = 4) -> str:
    """A measured value as a person writes it: 95.2, 99.5, 0.004, 1,000,000,000, never 1e+09."""
    if value is None or value == "":
        return "–"
    value = float(value)
    if not math.isfinite(value):
        return "–"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 10 ** (significant - 1):
        return f"{value:,.0f}"
    places = max(0, significant - 1 - math.floor(math.log10(magnitude)))
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
