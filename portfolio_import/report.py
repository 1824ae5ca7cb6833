"""What an import says back: problems named by table, row and column, and one outcome per row."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from core.formatting import counted


@dataclass(frozen=True)
class Problem:
    """Something that stops the import. `row` is the spreadsheet's row number (header = 1)."""

    table: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = self.table
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict:
        return {
            "table": self.table,
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


class Action:
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"


@dataclass
class RowOutcome:
    """What one row does (or would do), and what is wrong with it."""

    table: str
    row: int
    label: str = ""
    action: str = Action.CREATE
    changes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def problem(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.table, self.row, column, message))
        self.action = Action.ERROR

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "table": self.table,
            "row": self.row,
            "label": self.label,
            "action": self.action,
            "changes": self.changes,
            "errors": [problem.as_dict() for problem in self.problems],
        }


@dataclass
class ImportReport:
    """Every row's outcome, the problems of the files themselves, and whether it was applied."""

    files: list[str] = field(default_factory=list)
    rows: list[RowOutcome] = field(default_factory=list)
    # Problems of a file or a table rather than a row (unreadable file, missing column).
    file_problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    applied: bool = False
    dry_run: bool = False

    @property
    def problems(self) -> list[Problem]:
        return [*self.file_problems, *(p for row in self.rows for p in row.problems)]

    @property
    def ok(self) -> bool:
        return not self.file_problems and all(row.ok for row in self.rows)

    def counts(self) -> dict[str, dict[str, int]]:
        """{table: {action: rows}}, tables in format order."""
        from portfolio_import.columns import TABLES

        counted: dict[str, Counter] = {table.name: Counter() for table in TABLES}
        for row in self.rows:
            counted.setdefault(row.table, Counter())[row.action] += 1
        return {table: dict(counter) for table, counter in counted.items() if counter}

    def totals(self) -> Counter:
        return Counter(row.action for row in self.rows)

    @property
    def changes_anything(self) -> bool:
        totals = self.totals()
        return bool(totals[Action.CREATE] or totals[Action.UPDATE])

    def summary(self) -> str:
        totals = self.totals()
        if not self.ok:
            return (
                f"{counted(len(self.problems), 'problem')} in "
                f"{counted(sum(1 for r in self.rows if not r.ok), 'row')}; nothing was imported."
            )
        verb = "Imported" if self.applied else "Would import"
        return (
            f"{verb}: {counted(totals[Action.CREATE], 'row')} created, "
            f"{totals[Action.UPDATE]} updated, "
            f"{totals[Action.UNCHANGED]} unchanged."
        )

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "applied": self.applied,
            "dry_run": self.dry_run,
            "summary": self.summary(),
            "files": self.files,
            "counts": self.counts(),
            "errors": [problem.as_dict() for problem in self.problems],
            "notices": self.notices,
            "rows": [row.as_dict() for row in self.rows],
        }
