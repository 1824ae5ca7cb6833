"""Reading uploaded files into tables of rows: CSV with the csv module, XLSX with openpyxl.

A workbook holds one sheet per table (named after it); a CSV file holds one
table, named by its file name (`history.csv`). Rows keep the number the
spreadsheet shows, so every problem can point at it.

XLSX specifics:
- Formulas import with the value the spreadsheet program saved; a formula
  without a saved value (a file written by a script, never opened) is refused.
- A cell merged down several rows counts for each of them; cells merged
  across columns are refused, since one value cannot fill two columns.
- Dates arrive as dates, or as serial numbers when the cell is not formatted
  as a date; the validator converts those with the workbook's epoch.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath
from xml.etree import ElementTree

from django.conf import settings

from portfolio_import.columns import TABLES, Table
from portfolio_import.report import Problem

XLSX_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
# openpyxl's default: 1899-12-30, the Windows epoch.
WINDOWS_EPOCH = datetime.datetime(1899, 12, 30)
_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@dataclass(frozen=True)
class SourceFile:
    name: str
    content: bytes


@dataclass
class Sheet:
    table: Table
    source: str
    header: list[str]
    # (row number as the spreadsheet shows it, {column: raw value})
    rows: list[tuple[int, dict]] = field(default_factory=list)
    epoch: datetime.datetime = WINDOWS_EPOCH


@dataclass
class ReadResult:
    sheets: dict[str, Sheet] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def normalise_name(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).strip().lower()).strip("_")


def table_for(name: str) -> Table | None:
    """The table a sheet or file name stands for: `History`, `history.csv`, `acme-history`."""
    normalised = normalise_name(name)
    for table in TABLES:
        if normalised == table.name or normalised.endswith("_" + table.name):
            return table
    return None


MAX_FILES = 10


def upload_problem(uploads) -> str | None:
    """Why these uploaded files are refused before reading (too many, too large), if they are."""
    if len(uploads) > MAX_FILES:
        return f"Upload at most {MAX_FILES} files at once."
    limit = settings.TOLLGATE_IMPORT_MAX_BYTES
    for upload in uploads:
        if upload.size > limit:
            return f"{upload.name} is larger than the {limit:,}-byte limit."
    return None


def read_files(files: list[SourceFile]) -> ReadResult:
    result = ReadResult()
    limit = settings.TOLLGATE_IMPORT_MAX_BYTES
    for source in files:
        label = PurePath(source.name).name or "upload"
        suffix = PurePath(label).suffix.lower()
        if len(source.content) > limit:
            result.problems.append(
                Problem("file", None, "", f"{label} is larger than the {limit:,}-byte limit.")
            )
        elif suffix in XLSX_SUFFIXES:
            _read_xlsx(label, source.content, result)
        elif suffix in CSV_SUFFIXES:
            _read_csv(label, source.content, result, sole=len(files) == 1)
        else:
            result.problems.append(
                Problem("file", None, "", f"{label}: upload an .xlsx workbook or .csv files.")
            )
    if not result.sheets and not result.problems:
        result.problems.append(
            Problem(
                "file",
                None,
                "",
                "No initiatives, history, checklist, measurements or members table was found.",
            )
        )
    return result


def _add_sheet(result: ReadResult, table: Table, source: str, grid) -> None:
    """Turn a grid of rows (the header first) into a Sheet; note missing and unknown columns."""
    if table.name in result.sheets:
        result.problems.append(
            Problem(table.name, None, "", f"{source} holds the {table.name} table a second time.")
        )
        return
    rows = iter(grid)
    header_number, header = 0, None
    for number, values in rows:
        if any(_present(value) for value in values):
            header_number, header = number, values
            break
    if header is None:
        result.notices.append(f"{source} is empty.")
        return
    names = [normalise_name(value) if _present(value) else "" for value in header]
    sheet = Sheet(table=table, source=source, header=names)
    known = set(table.column_names)
    unknown = sorted({name for name in names if name and name not in known})
    if unknown:
        result.notices.append(f"{source}: columns not used by the import: {', '.join(unknown)}.")
    for name in table.required:
        if name not in names:
            result.problems.append(
                Problem(table.name, header_number, name, "This required column is missing.")
            )
    duplicated = sorted({name for name in names if name and names.count(name) > 1})
    for name in duplicated:
        result.problems.append(
            Problem(table.name, header_number, name, "This column appears more than once.")
        )
    max_rows = settings.TOLLGATE_IMPORT_MAX_ROWS
    for number, values in rows:
        if not any(_present(value) for value in values):
            continue
        if len(sheet.rows) >= max_rows:
            result.problems.append(
                Problem(table.name, number, "", f"More than {max_rows:,} rows; split the file.")
            )
            break
        row = {}
        for name, value in zip(names, values, strict=False):
            if name not in known:
                continue
            if isinstance(value, str) and "\x00" in value:
                # No database column holds a NUL; say where it is instead of failing later.
                result.problems.append(
                    Problem(table.name, number, name, "Contains a NUL character.")
                )
                value = None
            row[name] = value
        sheet.rows.append((number, row))
    result.sheets[table.name] = sheet


def _present(value) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


# --- CSV -------------------------------------------------------------------------------------


def _decode(content: bytes) -> str | None:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _read_csv(label: str, content: bytes, result: ReadResult, *, sole: bool) -> None:
    table = table_for(PurePath(label).stem) or (TABLES[0] if sole else None)
    if table is None:
        names = ", ".join(f"{t.name}.csv" for t in TABLES)
        result.problems.append(
            Problem("file", None, "", f"{label}: name each CSV file after its table ({names}).")
        )
        return
    text = _decode(content)
    if text is None or "\x00" in text:
        result.problems.append(
            Problem(table.name, None, "", f"{label} is not a text file in UTF-8 or Windows-1252.")
        )
        return
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count) if first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        grid = [(number, values) for number, values in enumerate(reader, start=1)]
    except csv.Error as error:
        result.problems.append(Problem(table.name, None, "", f"{label}: {error}"))
        return
    _add_sheet(result, table, label, grid)


# --- XLSX ------------------------------------------------------------------------------------


def _read_xlsx(label: str, content: bytes, result: ReadResult) -> None:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a damaged or foreign file
        result.problems.append(
            Problem("file", None, "", f"{label} is not a readable .xlsx workbook ({error}).")
        )
        return
    saved_values = None
    try:
        for worksheet in workbook.worksheets:
            table = table_for(worksheet.title)
            source = f"{label}, sheet {worksheet.title}"
            if table is None:
                result.notices.append(f"{source} is not one of the import's tables: skipped.")
                continue
            grid, formulas = _sheet_grid(worksheet)
            if formulas:
                if saved_values is None:
                    saved_values = load_workbook(
                        io.BytesIO(content), read_only=True, data_only=True
                    )
                _use_saved_values(grid, formulas, saved_values[worksheet.title], table, result)
            merged = _merged_ranges(content, workbook, worksheet)
            _fill_merged(grid, merged, table, result)
            sheet_grid = [(number, values) for number, values in enumerate(grid, start=1)]
            before = len(result.sheets)
            _add_sheet(result, table, source, sheet_grid)
            if len(result.sheets) > before:
                result.sheets[table.name].epoch = workbook.epoch
    finally:
        workbook.close()
        if saved_values is not None:
            saved_values.close()


def _sheet_grid(worksheet) -> tuple[list[list], dict[tuple[int, int], str]]:
    """Every row's values, and {(row, column): formula} for the formula cells (1-based)."""
    grid, formulas = [], {}
    for row_number, row in enumerate(worksheet.iter_rows(), start=1):
        values = []
        for column_number, cell in enumerate(row, start=1):
            value = getattr(cell, "value", None)
            if getattr(cell, "data_type", None) == "f" or (
                isinstance(value, str)
                and value.startswith("=")
                and len(value) > 1
                and getattr(cell, "data_type", None) not in ("s", "inlineStr")
            ):
                formulas[(row_number, column_number)] = str(value)
            values.append(value)
        grid.append(values)
    return grid, formulas


def _use_saved_values(grid, formulas, saved_sheet, table: Table, result: ReadResult) -> None:
    saved = {}
    for row_number, row in enumerate(saved_sheet.iter_rows(values_only=True), start=1):
        for column_number, value in enumerate(row, start=1):
            if (row_number, column_number) in formulas:
                saved[(row_number, column_number)] = value
    header = grid[0] if grid else []
    for (row_number, column_number), formula in sorted(formulas.items()):
        value = saved.get((row_number, column_number))
        if value is None:
            column = header[column_number - 1] if column_number <= len(header) else ""
            result.problems.append(
                Problem(
                    table.name,
                    row_number,
                    normalise_name(column) if column else _column_letter(column_number),
                    f"The formula {formula} has no saved value: open and save the file in "
                    "a spreadsheet program, or paste the values instead of the formula.",
                )
            )
        grid[row_number - 1][column_number - 1] = value


def _column_letter(number: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(number)


def _merged_ranges(content: bytes, workbook, worksheet) -> list[tuple[int, int, int, int]]:
    """(min_row, min_col, max_row, max_col) of each merged range.

    Read-only mode streams cells and does not read merges, so the sheet's
    <mergeCells> element is read from the file itself.
    """
    path = getattr(worksheet, "_worksheet_path", None)
    if not path:
        return []
    from openpyxl.utils.cell import range_boundaries

    ranges = []
    with zipfile.ZipFile(io.BytesIO(content)) as archive, archive.open(path) as source:
        for _event, element in ElementTree.iterparse(source):
            if element.tag == f"{_SHEET_NS}mergeCell":
                min_col, min_row, max_col, max_row = range_boundaries(element.get("ref"))
                ranges.append((min_row, min_col, max_row, max_col))
            elif element.tag == f"{_SHEET_NS}row":
                element.clear()
    return ranges


def _fill_merged(grid, merged, table: Table, result: ReadResult) -> None:
    header = grid[0] if grid else []
    for min_row, min_col, max_row, max_col in merged:
        if min_col != max_col:
            first = _column_letter(min_col) + str(min_row)
            last = _column_letter(max_col) + str(max_row)
            result.problems.append(
                Problem(
                    table.name,
                    min_row,
                    "",
                    f"Cells {first}:{last} are merged across columns; unmerge them so each "
                    "column has its own value.",
                )
            )
            continue
        if min_row - 1 >= len(grid):
            continue
        value = grid[min_row - 1][min_col - 1] if min_col <= len(grid[min_row - 1]) else None
        if min_row == 1 and max_row > 1:
            name = header[min_col - 1] if min_col <= len(header) else ""
            result.problems.append(
                Problem(
                    table.name,
                    1,
                    normalise_name(name or ""),
                    "The header is merged with the rows below it; unmerge it.",
                )
            )
            continue
        for row_number in range(min_row + 1, min(max_row, len(grid)) + 1):
            row = grid[row_number - 1]
            while len(row) < min_col:
                row.append(None)
            row[min_col - 1] = value
