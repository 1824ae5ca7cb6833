"""manage.py import_portfolio FILE [FILE ...] [--dry-run]: the portfolio import from a shell."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portfolio_import.reading import SourceFile
from portfolio_import.report import Action
from portfolio_import.services import portfolio_import


class Command(BaseCommand):
    help = (
        "Import initiatives with their history, checklists, measurements and teams from an "
        ".xlsx workbook or .csv files (initiatives.csv, history.csv, checklist.csv, "
        "measurements.csv, members.csv). Nothing is written unless every row is valid."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row and report; write nothing."
        )
        parser.add_argument(
            "--as",
            dest="username",
            default=None,
            help="Username the activity log names as the importer (default: none).",
        )
        parser.add_argument(
            "--verbose-rows", action="store_true", help="List every row, not only problems."
        )

    def handle(self, *args, files, dry_run, username, verbose_rows, **options):
        actor = None
        if username:
            actor = get_user_model().objects.filter(username=username).first()
            if actor is None:
                raise CommandError(f"No user {username!r}.")
        sources = []
        for name in files:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"{name}: no such file.")
            sources.append(SourceFile(name=path.name, content=path.read_bytes()))
        report = portfolio_import(files=sources, actor=actor, dry_run=dry_run)
        write = self.stdout.write
        for notice in report.notices:
            write(f"note: {notice}")
        for row in report.rows:
            if verbose_rows or row.action == Action.ERROR:
                changes = f" ({', '.join(row.changes)})" if row.changes else ""
                write(f"{row.table}, row {row.row} {row.label}: {row.action}{changes}")
        for problem in report.problems:
            self.stderr.write(str(problem))
        for table, counts in report.counts().items():
            shown = ", ".join(f"{count} {action}" for action, count in sorted(counts.items()))
            write(f"{table}: {shown}")
        if not report.ok:
            raise CommandError(report.summary())
        if dry_run:
            write(self.style.SUCCESS(f"Dry run: every row is valid. {report.summary()}"))
        else:
            write(self.style.SUCCESS(report.summary()))
