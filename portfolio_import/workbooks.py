"""Workbooks in the import format: the template to fill in, and the portfolio written back out.

The export holds every table the import reads, so a portfolio exported from one
Tollgate imports into an empty one with the same stages, history, checklists,
measurements and teams, and so the same board and dashboard figures.
Times are written in full (ISO 8601 with the offset), so durations survive.
"""

from __future__ import annotations

import datetime
import io
from collections import defaultdict

from django.db.models import Prefetch
from django.utils import timezone

from gates.models import ChecklistItem, Gate, GateDecision, StageTransition
from initiatives.models import Activity, Initiative, Measurement, Target
from portfolio_import.columns import (
    CHECKLIST,
    CLASSIFICATIONS,
    HISTORY,
    INITIATIVES,
    MEASUREMENTS,
    MEMBERS,
    TABLES,
    Table,
)
from portfolio_import.planning import RESUME, REVIEW

EXPORT_CHUNK_SIZE = 2000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _new_workbook():
    from openpyxl import Workbook

    # Write-only mode streams rows to the file instead of holding cells in memory.
    return Workbook(write_only=True)


def _header(workbook, table: Table):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    sheet = workbook.create_sheet(table.title)
    cells = []
    for name in table.column_names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        cells.append(cell)
    sheet.append(cells)
    sheet.freeze_panes = "A2"
    return sheet


def _save(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- The template -----------------------------------------------------------------------------


def template_workbook() -> bytes:
    """One sheet per table with its columns and an example row, and a guide sheet."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = _new_workbook()
    for table in TABLES:
        sheet = _header(workbook, table)
        sheet.append([column.example or None for column in table.columns])
    guide = workbook.create_sheet("Guide")
    bold = Font(bold=True)
    heading = [
        WriteOnlyCell(guide, value=text)
        for text in ("Table", "Column", "Required", "What to write")
    ]
    for cell in heading:
        cell.font = bold
    guide.append(heading)
    for table in TABLES:
        guide.append([table.name, None, None, table.help])
        for column in table.columns:
            guide.append([table.name, column.name, "yes" if column.required else "", column.help])
    guide.append([])
    guide.append(
        [
            None,
            None,
            None,
            "Dates: YYYY-MM-DD, or YYYY-MM-DD HH:MM, or cells "
            "formatted as dates. Sheets not named after a table (like this one) are "
            "skipped.",
        ]
    )
    return _save(workbook)


# --- The portfolio ----------------------------------------------------------------------------


def _moment(value: datetime.datetime | None) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def _number(value) -> str | float | None:
    if value is None:
        return None
    return float(value) if not isinstance(value, float) else value


def _target_text(target: Target) -> str:
    unit = f" {target.unit}" if target.unit else ""
    return f"{target.metric_key} {target.comparator} {target.threshold:g}{unit}"


def portfolio_workbook(*, scope=None) -> bytes:
    """The initiatives of `scope` (a queryset) in the import format, as an .xlsx file."""
    scope = scope if scope is not None else Initiative.objects.all()
    ids = list(scope.order_by("key").values_list("pk", flat=True))
    workbook = _new_workbook()
    _initiatives_sheet(workbook, ids)
    _history_sheet(workbook, ids)
    _checklist_sheet(workbook, ids)
    _measurements_sheet(workbook, ids)
    _members_sheet(workbook, ids)
    _classifications_sheet(workbook, ids)
    return _save(workbook)


def _chunks(ids: list[int]):
    for start in range(0, len(ids), EXPORT_CHUNK_SIZE):
        yield ids[start : start + EXPORT_CHUNK_SIZE]


def _initiatives_sheet(workbook, ids: list[int]) -> None:
    sheet = _header(workbook, INITIATIVES)
    for chunk in _chunks(ids):
        initiatives = (
            Initiative.objects.filter(pk__in=chunk)
            .select_related(
                "team",
                "owner",
                "sponsor",
                "framework",
                "stage",
                "business_case",
                "external_reference",
            )
            .prefetch_related(
                "tags", Prefetch("targets", queryset=Target.objects.order_by("metric_key"))
            )
            .order_by("key")
        )
        for initiative in initiatives:
            case = getattr(initiative, "business_case", None)
            reference = getattr(initiative, "external_reference", None)
            sheet.append(
                [
                    initiative.key,
                    reference.external_id if reference else None,
                    initiative.name,
                    initiative.summary or None,
                    initiative.problem or None,
                    initiative.team.slug,
                    initiative.owner.get_username(),
                    initiative.sponsor.get_username(),
                    initiative.framework.slug,
                    initiative.stage.key,
                    initiative.stage_entered_on.isoformat(),
                    initiative.status,
                    initiative.maturity_level,
                    ", ".join(tag.name for tag in initiative.tags.all()) or None,
                    (case.outcome or None) if case else None,
                    (case.metric_name or None) if case else None,
                    _number(case.metric_baseline) if case else None,
                    _number(case.metric_target) if case else None,
                    _number(case.expected_annual_value) if case else None,
                    _number(case.investment_to_date) if case else None,
                    _number(case.planned_team_cost) if case else None,
                    _number(case.planned_infra_cost) if case else None,
                    _number(case.cost_per_task_budget) if case else None,
                    case.monthly_volume if case else None,
                    "; ".join(_target_text(target) for target in initiative.targets.all()) or None,
                ]
            )


def _history_sheet(workbook, ids: list[int]) -> None:
    """Per initiative: its start, then each decision and resume in order."""
    sheet = _header(workbook, HISTORY)
    for chunk in _chunks(ids):
        events: dict[int, list] = defaultdict(list)
        keys = dict(Initiative.objects.filter(pk__in=chunk).values_list("pk", "key"))
        for initiative_id, from_stage, stage_key, at in StageTransition.objects.filter(
            initiative_id__in=chunk
        ).values_list("initiative_id", "from_stage_id", "to_stage__key", "transitioned_at"):
            kind = "start" if from_stage is None else "enter"
            events[initiative_id].append((at, 0 if kind == "start" else 2, kind, stage_key, None))
        for record in GateDecision.objects.filter(gate__initiative_id__in=chunk).select_related(
            "gate__stage", "decided_by"
        ):
            events[record.gate.initiative_id].append(
                (record.decided_at, 1, record.decision, record.gate.stage.key, record)
            )
        for initiative_id, created_at, username in Activity.objects.filter(
            initiative_id__in=chunk,
            verb="initiative.changed",
            field="status",
            before="on_hold",
            after="active",
        ).values_list("initiative_id", "created_at", "actor__username"):
            events[initiative_id].append((created_at, 1, RESUME, None, username))
        for initiative_id, stage_key, requested_at, username in Gate.objects.filter(
            initiative_id__in=chunk, state=Gate.State.IN_REVIEW
        ).values_list(
            "initiative_id", "stage__key", "review_requested_at", "review_requested_by__username"
        ):
            events[initiative_id].append((requested_at, 1, REVIEW, stage_key, username))
        for initiative_id in chunk:
            key = keys[initiative_id]
            stage, started = None, None
            written = 0
            for at, _order, kind, stage_key, record in sorted(
                events.get(initiative_id, []), key=lambda event: event[:2]
            ):
                if kind in ("start", "enter"):
                    stage = stage_key
                    started = at if kind == "start" else started
                    continue
                entered = _moment(started) if written == 0 else None
                if kind in (RESUME, REVIEW):
                    row = [key, stage_key or stage, entered, kind, _moment(at), record, None, None]
                else:
                    row = [
                        key,
                        stage_key,
                        entered,
                        kind,
                        _moment(at),
                        record.decided_by.get_username() if record.decided_by else None,
                        record.rationale or None,
                        record.override_justification or None,
                    ]
                sheet.append(row)
                written += 1
            if written == 0 and started is not None:
                # No decision yet: the row of the stay under way says when it started.
                sheet.append([key, stage, _moment(started), None, None, None, None, None])


def _checklist_sheet(workbook, ids: list[int]) -> None:
    sheet = _header(workbook, CHECKLIST)
    for chunk in _chunks(ids):
        items = (
            ChecklistItem.objects.filter(gate__initiative_id__in=chunk)
            .exclude(state=ChecklistItem.State.OPEN)
            .order_by("gate__initiative__key", "gate__stage__order", "order")
            .values_list(
                "gate__initiative__key",
                "gate__stage__key",
                "text",
                "state",
                "na_reason",
                "evidence_url",
                "note",
                "updated_by__username",
                "updated_at",
            )
        )
        for key, stage, text, state, na_reason, url, note, by, at in items.iterator(
            chunk_size=EXPORT_CHUNK_SIZE
        ):
            sheet.append(
                [
                    key,
                    stage,
                    text,
                    state,
                    na_reason or None,
                    url or None,
                    note or None,
                    by,
                    _moment(at),
                ]
            )


def _measurements_sheet(workbook, ids: list[int]) -> None:
    sheet = _header(workbook, MEASUREMENTS)
    for chunk in _chunks(ids):
        rows = (
            Measurement.objects.filter(target__initiative_id__in=chunk)
            .order_by("target__initiative__key", "target__metric_key", "measured_at", "pk")
            .values_list(
                "target__initiative__key", "target__metric_key", "value", "measured_at", "source"
            )
        )
        for key, metric, value, at, source in rows.iterator(chunk_size=EXPORT_CHUNK_SIZE):
            sheet.append([key, metric, value, _moment(at), source])


def _members_sheet(workbook, ids: list[int]) -> None:
    from initiatives.models import Membership

    sheet = _header(workbook, MEMBERS)
    for chunk in _chunks(ids):
        rows = (
            Membership.objects.filter(initiative_id__in=chunk)
            .order_by("initiative__key", "stage_role", "user__username")
            .values_list("initiative__key", "user__username", "stage_role", "allocation_percent")
        )
        for row in rows:
            sheet.append(list(row))


def _classifications_sheet(workbook, ids: list[int]) -> None:
    """Each initiative's confirmed classification: the answers that led to it, replayed on
    import through the same proposal and confirmation."""
    import json

    from compliance.models import Classification

    sheet = _header(workbook, CLASSIFICATIONS)
    for chunk in _chunks(ids):
        rows = (
            Classification.objects.filter(initiative_id__in=chunk)
            .order_by("initiative__key")
            .values_list(
                "initiative__key",
                "revision__answers",
                "revision__questionnaire_version",
                "tier",
                "revision__classified_by__username",
                "revision__confirmed_by__username",
                "confirmed_at",
            )
        )
        for key, answers, version, tier, classified_by, confirmed_by, at in rows:
            sheet.append(
                [
                    key,
                    json.dumps(answers, sort_keys=True),
                    version,
                    tier,
                    classified_by,
                    confirmed_by,
                    _moment(at),
                ]
            )
