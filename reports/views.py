"""The portfolio dashboard, its CSV exports and the printable initiative brief."""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from compliance import selectors as compliance_selectors
from core.htmx import is_partial_request, render_page_or_partial, vary_on_htmx
from core.web import positive_int
from reports import charts, selectors
from reports.forms import DashboardFilterForm


def _filters(request):
    frameworks, teams = selectors.filter_choices(request.user)
    form = DashboardFilterForm(request.GET, frameworks=frameworks, teams=teams)
    return form, form.filters()


def _charts(board: selectors.Dashboard) -> dict:
    figures = board.stages
    poc = board.poc_to_production
    return {
        "defs": charts.pattern_defs(),
        "funnel": charts.funnel([(f.stage.name, f.reached) for f in figures]),
        "durations": charts.stage_durations(
            [
                {
                    "name": f.stage.name,
                    "min_days": f.min_days,
                    "max_days": f.max_days,
                    "median_days": f.median_days,
                    "expected": f.stage.expected_range,
                    "verdict": f.median_verdict,
                }
                for f in figures
            ]
        ),
        "value": charts.value_by_stage(
            [
                {"name": f.stage.name, "value": f.expected_value, "investment": f.investment}
                for f in figures
            ]
        ),
        "months": charts.transitions_per_month(board.months),
        "rates": charts.rate_comparison(
            [
                ("This portfolio", poc.rate, f"{poc.reached} of {poc.started}"),
                (
                    "Industry (IDC, Lenovo)",
                    poc.industry_rate,
                    f"{poc.industry_reached} of {poc.industry_started}",
                ),
            ]
        ),
        "timeline": charts.timeline(board.timeline, [f.stage.name for f in figures]),
    }


@login_required
@require_GET
def dashboard(request):
    """The portfolio at a glance; the filters swap the figures in place through HTMX."""
    form, filters = _filters(request)
    template = "reports/dashboard.html"
    context = {"form": form, "filters": filters}
    if filters is None:
        return render(request, template, context)
    context["filters_query"] = urlencode(filters.as_query())
    page = positive_int(request.GET.get("page"), maximum=10_000)
    if is_partial_request(request) and request.htmx.target == "timeline":
        timeline = selectors.timeline_only(request.user, filters, page=page)
        stage_names = [stage.name for stage in filters.framework.stages.order_by("order")]
        context.update(
            timeline=timeline,
            timeline_chart=charts.timeline(timeline, stage_names),
            stage_legend=_stage_legend(filters.framework.stages.order_by("order")),
        )
        return vary_on_htmx(render(request, f"{template}#timeline", context))
    board = selectors.dashboard_cached(request.user, filters, timeline_page=page)
    context_charts = _charts(board)
    for figure in board.stages:
        figure.swatch = charts.legend_swatch(figure.position)
    poc = board.poc_to_production
    context.update(
        value_label=charts.compact_money(board.headline.expected_value),
        investment_label=charts.compact_money(board.headline.investment),
        pilot_names=" and ".join(
            figure.stage.name for figure in board.stages[: selectors.PILOT_STAGE_COUNT]
        ),
        poc_rate=charts.percent(poc.rate),
        industry_rate=charts.percent(poc.industry_rate),
        legend={"value": charts.legend_swatch(0), "investment": charts.legend_swatch(1)},
    )
    context.update(
        board=board,
        charts=context_charts,
        timeline=board.timeline,
        timeline_chart=context_charts["timeline"],
        stage_legend=_stage_legend(f.stage for f in board.stages),
    )
    return render_page_or_partial(request, template, "dashboard", context)


def _stage_legend(stages) -> list[tuple]:
    return [(charts.legend_swatch(position), stage.name) for position, stage in enumerate(stages)]


# A cell starting with one of these runs as a formula in a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Bytes gathered before a piece of the file goes out: one write per row would cost a
# system call per row, and a whole-file buffer would grow with the portfolio.
EXPORT_PIECE_BYTES = 64 * 1024


def _cell(value):
    """A value as CSV text: a list space-separated, a time to the minute in the local zone,
    a date as ISO 8601. Text that a spreadsheet would run as a formula is quoted with a
    leading apostrophe."""
    if isinstance(value, list | tuple):
        value = " ".join(str(part) for part in value)
    elif isinstance(value, datetime.datetime):
        value = _moment(value)
    elif isinstance(value, datetime.date):
        value = value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _moment(value: datetime.datetime) -> str:
    return timezone.localtime(value).isoformat(timespec="minutes")


def _json_value(value):
    """What json cannot write by itself: dates as ISO 8601 text, numbers kept numbers."""
    if isinstance(value, datetime.datetime):
        return _moment(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _csv_pieces(header: list[str], rows) -> Iterator[str]:
    """The CSV in pieces of about EXPORT_PIECE_BYTES, read from the database as they go.

    The rows come from a server-side cursor (`.iterator()`). Inside a transaction that
    cursor streams: outside one, in autocommit, Django declares it WITH HOLD and
    PostgreSQL runs the whole query and keeps its result before the first row comes
    back. So the first bytes leave once the first chunk of rows is read, and memory
    stays flat in the worker and in the database whatever the portfolio's size.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    with transaction.atomic():
        for row in rows:
            writer.writerow([_cell(value) for value in row])
            if buffer.tell() >= EXPORT_PIECE_BYTES:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def _csv_response(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        _csv_pieces(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _export_name(kind: str, filters: selectors.DashboardFilters) -> str:
    parts = ["tollgate", kind, filters.framework.slug]
    if filters.team is not None:
        parts.append(filters.team.slug)
    if filters.period != selectors.DEFAULT_PERIOD:
        parts.append(filters.period)
    parts.append(f"{timezone.localdate():%Y-%m-%d}")
    return "-".join(parts) + ".csv"


@login_required
@require_GET
def portfolio_csv(request):
    """The dashboard's initiatives, one row each, streamed."""
    _, filters = _filters(request)
    if filters is None:
        raise Http404("No framework yet.")
    return _csv_response(
        _export_name("portfolio", filters),
        selectors.PORTFOLIO_COLUMNS,
        selectors.portfolio_rows(request.user, filters),
    )


def _json_pieces(header: list[str], rows) -> Iterator[str]:
    """A JSON array of objects in pieces of about EXPORT_PIECE_BYTES, streamed like the CSV."""
    yield "["
    pending: list[str] = []
    size = 0
    with transaction.atomic():
        for index, row in enumerate(rows):
            text = ("," if index else "") + json.dumps(
                dict(zip(header, row, strict=True)), default=_json_value
            )
            pending.append(text)
            size += len(text)
            if size >= EXPORT_PIECE_BYTES:
                yield "".join(pending)
                pending, size = [], 0
    yield "".join(pending) + "]"


def _register(request):
    _, filters = _filters(request)
    if filters is None:
        raise Http404("No framework yet.")
    rows = compliance_selectors.register_rows(filters.initiatives(request.user))
    return filters, rows


@login_required
@require_GET
def ai_register_csv(request):
    """The AI register: every initiative of the dashboard's scope with its AI Act
    classification, obligations open and done, and review date, streamed."""
    filters, rows = _register(request)
    return _csv_response(
        _export_name("ai-register", filters), compliance_selectors.REGISTER_COLUMNS, rows
    )


@login_required
@require_GET
def ai_register_json(request):
    """The AI register as a JSON array of objects (the CSV's columns), streamed."""
    filters, rows = _register(request)
    response = StreamingHttpResponse(
        _json_pieces(compliance_selectors.REGISTER_COLUMNS, rows),
        content_type="application/json",
    )
    name = _export_name("ai-register", filters).removesuffix(".csv") + ".json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def gates_csv(request):
    """Every gate of the dashboard's initiatives, one row per checklist item, streamed."""
    _, filters = _filters(request)
    if filters is None:
        raise Http404("No framework yet.")
    return _csv_response(
        _export_name("gates", filters),
        selectors.GATE_COLUMNS,
        selectors.gate_rows(request.user, filters),
    )


@login_required
@require_GET
def initiative_brief(request, key: str):
    """A one-page brief of an initiative, laid out for printing; 404 for outsiders."""
    brief = selectors.initiative_brief(request.user, key)
    if brief is None:
        raise Http404("No such initiative.")
    brief["today"] = timezone.localdate()
    brief["printed_at"] = timezone.localtime()
    initiative = brief["initiative"]
    brief["days_in_stage"] = (brief["today"] - initiative.stage_entered_on).days
    brief["stage_position"] = next(
        (i for i, stage in enumerate(brief["stages"]) if stage.pk == initiative.stage_id), 0
    )
    history = brief["history"]
    entered = [timezone.localtime(t.transitioned_at).date() for t in history]
    brief["stays"] = [
        {
            "transition": transition,
            "left_on": entered[index + 1] if index + 1 < len(history) else None,
            "days": (
                (entered[index + 1] if index + 1 < len(history) else brief["today"])
                - entered[index]
            ).days,
        }
        for index, transition in enumerate(history)
    ]
    return render(request, "reports/brief.html", brief)
