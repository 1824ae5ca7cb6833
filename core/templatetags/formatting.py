"""{% load formatting %}: {{ amount|money }}, {{ amount|money:4 }}, {{ amount|money:"compact" }},
{{ value|number }}, {{ value|measure:unit }} and {{ text|whole_keys }}; see core/formatting.py."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

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


_KEY = re.compile(r"\b[A-Z]{1,6}-\d{1,6}\b")


@register.filter
def whole_keys(text):
    """Text (escaped) with each initiative key in it kept on one line: AI-012 never breaks
    at its hyphen inside a sentence, a subject or a notice."""
    return mark_safe(_KEY.sub(r'<span class="nowrap">\g<0></span>', escape(str(text or ""))))
