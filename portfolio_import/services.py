"""The import's entry points: preview (a dry run) and import, from files or a stored upload.

The admin page, `manage.py import_portfolio` and the API all come here, so they
read, validate and write the same way: parse → validate every row → replay the
plan through the services in one transaction (rolled back for a preview).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from initiatives.exceptions import InvalidState
from portfolio_import.applying import apply_plan
from portfolio_import.models import ImportFile, ImportRun
from portfolio_import.planning import plan_import
from portfolio_import.reading import SourceFile, read_files
from portfolio_import.report import ImportReport


def portfolio_import(*, files: list[SourceFile], actor, dry_run: bool = False) -> ImportReport:
    """Read, check and (unless `dry_run` or anything is wrong) import the files, all or nothing."""
    read = read_files(files)
    report = ImportReport(
        files=[source.name for source in files],
        file_problems=list(read.problems),
        notices=list(read.notices),
        dry_run=dry_run,
    )
    if not read.sheets:
        return report
    plan = plan_import(read.sheets)
    report.rows = plan.outcomes
    if not report.ok:
        return report
    written = apply_plan(plan, actor=actor, dry_run=dry_run)
    report.applied = written and not dry_run
    return report


@transaction.atomic
def import_run_create(*, files: list[SourceFile], actor) -> ImportRun:
    """Keep an upload and its preview until its author confirms (or a day passes)."""
    ImportRun.objects.stale().delete()
    report = portfolio_import(files=files, actor=actor, dry_run=True)
    run = ImportRun.objects.create(created_by=actor, report=report.as_dict())
    ImportFile.objects.bulk_create(
        [ImportFile(run=run, name=source.name, content=source.content) for source in files]
    )
    return run


@transaction.atomic
def import_run_apply(*, run: ImportRun, actor) -> ImportReport:
    """Import a previewed upload. Everything is checked again: the portfolio may have moved on."""
    # Locked, so a second click waits and then finds the upload already imported.
    run = ImportRun.objects.select_for_update().get(pk=run.pk)
    if run.applied_at is not None:
        raise InvalidState("This upload has already been imported.")
    files = [SourceFile(name=f.name, content=bytes(f.content)) for f in run.files.all()]
    report = portfolio_import(files=files, actor=actor, dry_run=False)
    run.report = report.as_dict()
    if report.applied:
        run.applied_at = timezone.now()
    run.save(update_fields=["report", "applied_at"])
    return report
