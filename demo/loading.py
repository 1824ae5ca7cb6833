"""The demo portfolio's data files, with their dates moved so that the demo happens up to today.

`data/` holds the portfolio in the import format (initiatives.csv, history.csv,
checklist.csv, measurements.csv, members.csv) plus the people and teams the
import refers to. Its dates are written as of DATA_WRITTEN_ON; loading moves
every date and time by whole days so that day becomes today, and leaves out
readings that would then lie in the future.
"""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

from django.utils import timezone

from portfolio_import.columns import TABLES
from portfolio_import.reading import SourceFile

DATA = Path(__file__).resolve().parent / "data"
# The day the files' dates are relative to: the demo's "today".
DATA_WRITTEN_ON = datetime.date(2026, 11, 30)


def read_table(name: str) -> list[dict]:
    with (DATA / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _shift(value: str, days: datetime.timedelta, now: datetime.datetime, *, drop_future: bool):
    """The value moved by `days`; None to leave the row out (a reading not taken yet)."""
    if not value:
        return value
    if len(value) == 10:
        return (datetime.date.fromisoformat(value) + days).isoformat()
    moved = datetime.datetime.fromisoformat(value) + days
    if moved > now:
        if drop_future:
            return None
        # Earlier today in the files' day, later than now in today's: it happens now.
        moved = now - datetime.timedelta(minutes=1)
    return moved.isoformat()


def moment(value: str, *, today: datetime.date | None = None) -> datetime.datetime:
    """A time written in a data file, moved as demo_files moves it (never later than now)."""
    today = today or timezone.localdate()
    days = datetime.timedelta(days=(today - DATA_WRITTEN_ON).days)
    return datetime.datetime.fromisoformat(_shift(value, days, timezone.now(), drop_future=False))


def _about(table: str, row: dict) -> str:
    """The external id of the demo initiative a row belongs to."""
    return row["external_id"] if table == "initiatives" else row["initiative"]


def demo_files(
    *, today: datetime.date | None = None, leave_out: frozenset[str] = frozenset()
) -> list[SourceFile]:
    """The portfolio tables as CSV files, rebased so DATA_WRITTEN_ON is `today`, without
    the rows of the initiatives whose external ids are in `leave_out`."""
    today = today or timezone.localdate()
    now = timezone.now()
    days = datetime.timedelta(days=(today - DATA_WRITTEN_ON).days)
    files = []
    for table in TABLES:
        path = DATA / f"{table.name}.csv"
        if not path.exists():
            continue
        moments = [column.name for column in table.columns if column.is_time]
        rows = read_table(table.name)
        out = io.StringIO()
        writer = None
        for row in rows:
            if _about(table.name, row) in leave_out:
                continue
            for name in moments:
                if name in row:
                    shifted = _shift(row[name], days, now, drop_future=table.name == "measurements")
                    if shifted is None:
                        # A reading later than now: not taken yet.
                        row = None
                        break
                    row[name] = shifted
            if row is None:
                continue
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(row), lineterminator="\n")
                writer.writeheader()
            writer.writerow(row)
        if writer is not None:
            files.append(SourceFile(name=path.name, content=out.getvalue().encode()))
    return files
