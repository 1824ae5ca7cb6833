"""Money in one currency and measured numbers as people write them, on every page."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template

from core.formatting import money, number
from initiatives.models import Target
from tests.test_templates import BASE_DIR, template_files


def test_money_is_written_in_the_configured_currency(settings):
    settings.TOLLGATE_CURRENCY = "USD"
    assert money(1234567) == "$1,234,567"
    assert money(16_100_000, compact=True) == "$16.1M"
    assert money(0.004, places=4) == "$0.0040"
    assert money(None) == "–"
    settings.TOLLGATE_CURRENCY = "EUR"
    assert money(950, compact=True) == "€950"
    assert money(2_000_000, compact=True) == "€2M"
    settings.TOLLGATE_CURRENCY = "CHF"
    assert money(-1500) == "−CHF 1,500"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (1e9, "1,000,000,000"),
        (95.2, "95.2"),
        (99.5, "99.5"),
        (0.004, "0.004"),
        (0.12, "0.12"),
        (400, "400"),
        (0, "0"),
        (-3.25, "-3.25"),
        (float("inf"), "–"),
        (None, "–"),
    ],
)
def test_numbers_are_written_as_people_write_them(value, written):
    assert number(value) == written


def test_template_filters_use_the_same_formatting(settings):
    settings.TOLLGATE_CURRENCY = "EUR"
    rendered = Template(
        "{% load formatting targets %}{{ a|money }} {{ b|money:'compact' }} {{ c|measure:'%' }} "
        "{{ key|metric_label }} {{ custom|metric_label }}"
    ).render(
        Context({"a": 1200, "b": 3_400_000, "c": 1e9, "key": "cost_per_task", "custom": "nps_q3"})
    )
    assert rendered == "€1,200 €3.4M 1,000,000,000 % Cost per task Nps q3"
    assert Target.label_for("latency_p95_ms") == "Latency (p95)"


def test_no_template_formats_money_or_measurements_by_itself():
    # A currency sign typed before an amount, or Python's %g (which writes 1e+09), would
    # bypass the one way to format money and numbers.
    offending = []
    for path in template_files():
        for number_, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(r"[$€£]\{\{", line) or 'stringformat:"g"' in line:
                offending.append(f"{path.relative_to(BASE_DIR)}:{number_}")
    assert offending == []


def test_whole_keys_keeps_each_initiative_key_on_one_line_and_escapes_the_rest():
    rendered = Template("{% load formatting %}{{ text|whole_keys }}").render(
        Context({"text": "AI-012 <b>due</b>, see AI-7 and MY-KEY"})
    )
    assert rendered == (
        '<span class="nowrap">AI-012</span> &lt;b&gt;due&lt;/b&gt;, see '
        '<span class="nowrap">AI-7</span> and MY-KEY'
    )
