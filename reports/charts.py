"""Server-rendered SVG charts: accessible, printable and allowed by a strict CSP.

Each chart is an <svg role="img"> with a <title> and a <desc>, text labels on
every bar, and a <title> tooltip on each bar. Colours come from CSS classes
(no style attributes: the Content-Security-Policy forbids them) and every
series also has a texture from `pattern_defs()`, so charts still read in
grey-scale and on paper.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.formatting import money

# Textures by series position; 0 is plain. The defs are rendered once per page.
PATTERNS = ["", "diagonal", "dots", "cross", "horizontal", "vertical"]
_ids = itertools.count(1)


def _texture(position: int) -> str:
    return PATTERNS[position % len(PATTERNS)]


def pattern_defs() -> SafeString:
    """One zero-size SVG holding the textures every chart on the page refers to."""
    return mark_safe(
        '<svg class="chart-defs" width="0" height="0" aria-hidden="true" focusable="false">'
        "<defs>"
        '<pattern id="tg-diagonal" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="2" height="6" class="texture"/></pattern>'
        '<pattern id="tg-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
        '<circle cx="3" cy="3" r="1.3" class="texture"/></pattern>'
        '<pattern id="tg-cross" width="7" height="7" patternUnits="userSpaceOnUse">'
        '<path d="M0 3.5H7M3.5 0V7" class="texture-line"/></pattern>'
        '<pattern id="tg-horizontal" width="6" height="5" patternUnits="userSpaceOnUse">'
        '<rect width="6" height="1.6" class="texture"/></pattern>'
        '<pattern id="tg-vertical" width="5" height="6" patternUnits="userSpaceOnUse">'
        '<rect width="1.6" height="6" class="texture"/></pattern>'
        "</defs></svg>"
    )


def _bar(
    x: float, y: float, width: float, height: float, *, series: int, tooltip: str, extra: str = ""
) -> str:
    """A bar in its series colour, with its texture over it and a tooltip."""
    width = max(width, 0.0)
    texture = _texture(series)
    parts = [
        f'<g class="bar series-{series % 6}{extra}"><title>{escape(tooltip)}</title>',
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
        'class="bar__fill" rx="2"/>',
    ]
    if texture:
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'fill="url(#tg-{texture})" class="bar__texture" rx="2"/>'
        )
    parts.append("</g>")
    return "".join(parts)


def _text(x: float, y: float, text: str, css: str = "", anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" class="chart-text {css}">'
        f"{escape(text)}</text>"
    )


def _svg(
    width: int,
    height: int,
    title: str,
    desc: str,
    body: list[str],
    css: str,
    *,
    has_links: bool = False,
) -> SafeString:
    # A picture is role="img", which hides its parts; a chart with links in it is a group,
    # so the links stay reachable and are not nested inside an image.
    chart_id = next(_ids)
    role = "group" if has_links else "img"
    return mark_safe(
        f'<svg class="chart {css}" viewBox="0 0 {width} {height}" role="{role}" '
        f'aria-labelledby="chart-{chart_id}-title chart-{chart_id}-desc" '
        f'preserveAspectRatio="xMinYMin meet">'
        f'<title id="chart-{chart_id}-title">{escape(title)}</title>'
        f'<desc id="chart-{chart_id}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def compact_money(amount: Decimal | float | int) -> str:
    return money(amount, compact=True)


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f}%"


# --- Charts -----------------------------------------------------------------------------


def funnel(rows: Sequence[tuple[str, int]]) -> SafeString:
    """Initiatives that reached each stage, as centred bars narrowing down the stages."""
    width, label_width, row_height = 640, 150, 38
    top = rows[0][1] if rows else 0
    usable = width - label_width - 80
    body = []
    for index, (name, reached) in enumerate(rows):
        y = 8 + index * row_height
        bar_width = usable * (reached / top) if top else 0
        x = label_width + (usable - bar_width) / 2
        share = f"{reached / top:.0%}" if top else "–"
        tooltip = f"{name}: {reached} initiative{'s' if reached != 1 else ''} reached it ({share})"
        body.append(_text(label_width - 10, y + 20, name, "chart-label", "end"))
        body.append(_bar(x, y, max(bar_width, 2), 28, series=index, tooltip=tooltip))
        body.append(_text(width - 72, y + 20, f"{reached} · {share}", "chart-value"))
    summary = "; ".join(f"{name} {reached}" for name, reached in rows)
    height = 12 + len(rows) * row_height
    return _svg(
        width,
        height,
        "Stage funnel",
        f"Initiatives that reached each stage: {summary}.",
        body,
        "chart--funnel",
    )


def stage_durations(rows: Sequence[dict]) -> SafeString:
    """Median days in each stage against the expected range (a hatched band)."""
    width, label_width, row_height = 640, 150, 40
    longest = max(
        [row["max_days"] or row["min_days"] * 2 or 28 for row in rows]
        + [row["median_days"] or 0 for row in rows]
        + [28]
    )
    scale_end = longest * 1.1
    usable = width - label_width - 70
    body = []
    for tick in _day_ticks(scale_end):
        x = label_width + usable * tick / scale_end
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="4" y2="{len(rows) * row_height + 4}" '
            'class="gridline"/>'
        )
        body.append(_text(x, len(rows) * row_height + 18, f"{tick} d", "chart-axis", "middle"))
    for index, row in enumerate(rows):
        y = 6 + index * row_height
        body.append(_text(label_width - 10, y + 20, row["name"], "chart-label", "end"))
        band_start = label_width + usable * row["min_days"] / scale_end
        band_end = label_width + usable * (row["max_days"] or scale_end) / scale_end
        expected = row["expected"]
        body.append(
            f'<g class="expected-band"><title>Expected: {escape(expected)}</title>'
            f'<rect x="{band_start:.1f}" y="{y:.1f}" width="{band_end - band_start:.1f}" '
            f'height="30" fill="url(#tg-diagonal)" class="expected-band__fill"/>'
            f'<rect x="{band_start:.1f}" y="{y:.1f}" width="{band_end - band_start:.1f}" '
            'height="30" class="expected-band__edge"/></g>'
        )
        median = row["median_days"]
        if median is None:
            body.append(_text(label_width + 6, y + 20, "no completed stays yet", "chart-note"))
            continue
        bar_width = usable * median / scale_end
        verdict = {"faster": "faster than expected", "slower": "slower than expected"}.get(
            row["verdict"], "within the expected range"
        )
        tooltip = f"{row['name']}: median {median:.0f} days ({verdict}; expected {expected})"
        body.append(
            _bar(
                label_width,
                y + 9,
                bar_width,
                12,
                series=0,
                tooltip=tooltip,
                extra=f" bar--{row['verdict']}",
            )
        )
        body.append(_text(label_width + bar_width + 6, y + 20, f"{median:.0f} d", "chart-value"))
    height = len(rows) * row_height + 26
    summary = "; ".join(
        f"{row['name']} median "
        + ("no data" if row["median_days"] is None else f"{row['median_days']:.0f} days")
        + f" (expected {row['expected']})"
        for row in rows
    )
    return _svg(
        width,
        height,
        "Median days in each stage",
        f"Median days of completed stays against the expected range: {summary}.",
        body,
        "chart--durations",
    )


def _day_ticks(scale_end: float) -> list[int]:
    """At most seven ticks (0 included) in whole weeks, then in 1, 2, 5, 10… years.

    A stage may expect up to 32,767 weeks (its column's limit); the list of steps
    once ended at two years and the dashboard answered 500 beyond twelve.
    """
    weeks = (7, 14, 28, 56, 91, 182)
    years = (364 * m * 10**k for k in itertools.count() for m in (1, 2, 5))
    step = next(s for s in itertools.chain(weeks, years) if scale_end / s <= 6)
    return list(range(0, int(scale_end) + 1, step))


def value_by_stage(rows: Sequence[dict]) -> SafeString:
    """Expected annual value (plain) beside investment (hatched), per stage."""
    width, label_width, group_height = 640, 150, 50
    largest = max([float(r["value"]) for r in rows] + [float(r["investment"]) for r in rows] + [1])
    usable = width - label_width - 80
    body = []
    for index, row in enumerate(rows):
        y = 6 + index * group_height
        body.append(_text(label_width - 10, y + 24, row["name"], "chart-label", "end"))
        for offset, (key, label, series) in enumerate(
            (("value", "Expected annual value", 0), ("investment", "Investment", 1))
        ):
            amount = row[key]
            bar_width = usable * float(amount) / largest
            tooltip = f"{row['name']} · {label}: {compact_money(amount)}"
            body.append(
                _bar(
                    label_width,
                    y + offset * 18,
                    max(bar_width, 1),
                    16,
                    series=series,
                    tooltip=tooltip,
                    extra=f" bar--{key}",
                )
            )
            body.append(
                _text(
                    label_width + bar_width + 6,
                    y + offset * 18 + 12,
                    f"{compact_money(amount)} {'value' if key == 'value' else 'invested'}",
                    "chart-value chart-value--small",
                )
            )
    height = len(rows) * group_height + 4
    summary = "; ".join(
        f"{r['name']}: value {compact_money(r['value'])}, "
        f"investment {compact_money(r['investment'])}"
        for r in rows
    )
    return _svg(
        width,
        height,
        "Expected annual value and investment by stage",
        f"Sums over the business cases of initiatives not stopped: {summary}.",
        body,
        "chart--value",
    )


def transitions_per_month(months: Sequence[dict]) -> SafeString:
    """Initiatives started (plain) and stage advances (hatched) per month, stacked."""
    width, height, bottom, left = 640, 210, 30, 30
    largest = max([m["started"] + m["advanced"] for m in months] + [1])
    column = (width - left) / max(len(months), 1)
    plot_height = height - bottom - 20
    body = [
        f'<line x1="{left}" x2="{width}" y1="{height - bottom}" y2="{height - bottom}" '
        'class="axis"/>'
    ]
    for index, month in enumerate(months):
        x = left + index * column + column * 0.18
        bar_width = column * 0.64
        base = height - bottom
        label = month["month"].strftime("%b %Y")
        for key, series, noun in (("started", 0, "started"), ("advanced", 1, "advanced a stage")):
            count = month[key]
            if not count:
                continue
            bar_height = plot_height * count / largest
            base -= bar_height
            body.append(
                _bar(
                    x,
                    base,
                    bar_width,
                    bar_height,
                    series=series,
                    tooltip=f"{label}: {count} {noun}",
                    extra=f" bar--{key}",
                )
            )
        total = month["started"] + month["advanced"]
        if total:
            body.append(_text(x + bar_width / 2, base - 4, str(total), "chart-value", "middle"))
        body.append(
            _text(
                x + bar_width / 2,
                height - bottom + 16,
                month["month"].strftime("%b"),
                "chart-axis",
                "middle",
            )
        )
    summary = "; ".join(
        f"{m['month']:%b %Y}: {m['started']} started, {m['advanced']} advanced" for m in months
    )
    return _svg(
        width,
        height,
        "Stage transitions per month",
        f"Initiatives started and stage advances in each of the last 12 months: {summary}.",
        body,
        "chart--months",
    )


def rate_comparison(rows: Sequence[tuple[str, float | None, str]]) -> SafeString:
    """Horizontal bars of rates (0 to 100%), each with its own label and detail."""
    width, label_width, row_height = 640, 190, 40
    usable = width - label_width - 140
    body = []
    for index, (name, rate, detail) in enumerate(rows):
        y = 6 + index * row_height
        body.append(_text(label_width - 10, y + 20, name, "chart-label", "end"))
        body.append(
            f'<rect x="{label_width}" y="{y + 4}" width="{usable}" height="22" class="track"/>'
        )
        bar_width = usable * (rate or 0)
        body.append(
            _bar(
                label_width,
                y + 4,
                max(bar_width, 1),
                22,
                series=index,
                tooltip=f"{name}: {percent(rate)} ({detail})",
            )
        )
        body.append(_text(label_width + usable + 8, y + 20, f"{percent(rate)} · {detail}", ""))
    summary = "; ".join(f"{name} {percent(rate)} ({detail})" for name, rate, detail in rows)
    return _svg(
        width,
        len(rows) * row_height + 8,
        "Proof of concept to production",
        f"Share of proofs of concept that reached production: {summary}.",
        body,
        "chart--rates",
    )


def timeline(timeline, stage_names: Sequence[str]) -> SafeString:
    """One row per initiative: its stages as spans over time, today marked, gate due ticks."""
    width, label_width, row_height, top = 1000, 230, 22, 26
    start, end = timeline.start, timeline.end
    days = max((end - start).days, 1)
    usable = width - label_width - 10

    def x_of(day: datetime.date) -> float:
        offset = min(max((day - start).days, 0), days)
        return label_width + usable * offset / days

    height = top + len(timeline.rows) * row_height + 8
    body = []
    for tick in _month_ticks(start, end):
        x = x_of(tick)
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 6}" y2="{height - 6}" class="gridline"/>'
        )
        body.append(_text(x + 3, top - 10, tick.strftime("%b %y"), "chart-axis"))
    for index, row in enumerate(timeline.rows):
        initiative = row.initiative
        y = top + index * row_height
        name = initiative.name if len(initiative.name) <= 26 else initiative.name[:25] + "…"
        body.append(
            f'<a href="{escape(initiative.get_absolute_url())}" class="timeline-link">'
            f"<title>{escape(initiative.key)} {escape(initiative.name)}</title>"
            + _text(2, y + 14, initiative.key, "chart-key")
            + _text(64, y + 14, name, "chart-name")
            + "</a>"
        )
        for span in row.spans:
            if span.end < start:
                continue
            x1, x2 = x_of(max(span.start, start)), x_of(span.end)
            tooltip = (
                f"{initiative.key} · {span.stage.name}: {span.start:%d %b %Y} – "
                + ("today" if span.ongoing else f"{span.end:%d %b %Y}")
                + f" ({span.days} days)"
            )
            body.append(
                _bar(
                    x1,
                    y + 3,
                    max(x2 - x1, 1.5),
                    row_height - 8,
                    series=span.position,
                    tooltip=tooltip,
                    extra=" span--ongoing" if span.ongoing else "",
                )
            )
        if initiative.status != "active":
            body.append(
                _text(width - 4, y + 14, initiative.get_status_display(), "chart-note", "end")
            )
        for due_on, pending in row.gate_ticks:
            if not start <= due_on <= end:
                continue
            x = x_of(due_on)
            overdue = pending and due_on < timeline.today
            state = "overdue" if overdue else ("pending" if pending else "decided")
            body.append(
                f'<g class="gate-tick gate-tick--{state}"><title>{escape(initiative.key)} · '
                f"gate due {due_on:%d %b %Y} ({state})</title>"
                f'<path d="M{x:.1f} {y + 1} l4 4 l-4 4 l-4 -4z"/></g>'
            )
    today_x = x_of(timeline.today)
    body.append(
        f'<g class="today"><title>Today, {timeline.today:%d %b %Y}</title>'
        f'<line x1="{today_x:.1f}" x2="{today_x:.1f}" y1="{top - 8}" y2="{height - 4}"/></g>'
    )
    body.append(_text(today_x, 10, "Today", "chart-today", "middle"))
    return _svg(
        width,
        height,
        "Portfolio timeline",
        f"{len(timeline.rows)} initiatives from {start:%d %b %Y} to {end:%d %b %Y}; "
        f"each row shows the stages ({', '.join(stage_names)}) as spans, diamonds mark gate "
        "due dates and a vertical line marks today.",
        body,
        "chart--timeline",
        has_links=True,
    )


def _month_ticks(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    months = (end.year - start.year) * 12 + end.month - start.month
    step = max(1, (months + 11) // 12)
    ticks = []
    day = (start.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    while day <= end:
        ticks.append(day)
        for _ in range(step):
            day = (day + datetime.timedelta(days=32)).replace(day=1)
    return ticks


def legend_swatch(series: int) -> SafeString:
    """A small square in a series' colour and texture, for an HTML legend."""
    texture = _texture(series)
    overlay = (
        f'<rect width="14" height="14" fill="url(#tg-{texture})" class="bar__texture"/>'
        if texture
        else ""
    )
    return mark_safe(
        f'<svg class="swatch series-{series % 6}" width="14" height="14" viewBox="0 0 14 14" '
        f'aria-hidden="true" focusable="false"><rect width="14" height="14" class="bar__fill"/>'
        f"{overlay}</svg>"
    )
