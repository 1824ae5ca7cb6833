"""{% load formatting %}: {{ amount|money }}, {{ amount|money:4 }}, {{ amount|money:"compact" }},
{{ value|number }} and {{ value|measure:unit }}; see core/formatting.py."""

from __future__ import annotations

from django import template

from core import formatting

register = template.Library()


@register.filter
def money(amount, how=0):
    if how == "compact":
        return formatting.money(amount, compact=True)
    return formatting.money(amount, places=int(how or 0))


@register.filter
def number(value):
    return formatting.number(value)


@register.filter
def measure(value, unit=""):
    """A value with its unit: "99.5 %", "400 ms", "0.004 USD"; "no data" when there is none."""
    if value is None or value == "":
        return "no data"
    return f"{formatting.number(value)} {unit}".strip()
