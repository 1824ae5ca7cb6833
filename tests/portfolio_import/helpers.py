"""Building import files in tests: CSV text and real .xlsx workbooks (openpyxl)."""

from __future__ import annotations

import csv
import io
import re
import zipfile

from portfolio_import.reading import SourceFile, read_files
from portfolio_import.services import portfolio_import


def csv_file(name: str, rows: list[dict], *, delimiter: str = ",") -> SourceFile:
    columns: list[str] = []
    for row in rows:
        columns += [column for column in row if column not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return SourceFile(name=name, content=out.getvalue().encode())


def xlsx_file(
    tables: dict[str, list[list]], *, name: str = "portfolio.xlsx", edit=None
) -> SourceFile:
    """A workbook with one sheet per table (first row the header). `edit(workbook)` may
    merge cells or set number formats before it is saved."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in tables.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    if edit is not None:
        edit(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SourceFile(name=name, content=buffer.getvalue())


def with_saved_formula_values(source: SourceFile, values: dict[str, object]) -> SourceFile:
    """Add the value a spreadsheet program would have saved beside each formula.

    openpyxl writes formulas without a cached value; Excel and LibreOffice store both
    (<c><f>B2*12</f><v>24</v></c>). `values` maps a cell reference to its value."""
    original = zipfile.ZipFile(io.BytesIO(source.content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = data.decode()
                for reference, value in values.items():
                    text = re.sub(
                        rf'(<c r="{reference}"[^>]*>)(<f>[^<]*</f>)(<v\s*/>|<v></v>)?',
                        lambda match, value=value: (
                            f"{match.group(1)}{match.group(2)}<v>{value}</v>"
                        ),
                        text,
                    )
                data = text.encode()
            copy.writestr(item, data)
    return SourceFile(name=source.name, content=buffer.getvalue())


def problems(report) -> set[tuple]:
    return {(p.table, p.row, p.column) for p in report.problems}


def preview(*files, actor=None):
    return portfolio_import(files=list(files), actor=actor, dry_run=True)


def sheets(*files):
    return read_files(list(files))
