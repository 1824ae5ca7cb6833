"""The import page: upload, preview every row with its problems, then import (portfolio admins)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from initiatives.exceptions import InvalidState
from initiatives.models import Initiative
from initiatives.policy import Action, can
from portfolio_import.columns import TABLES
from portfolio_import.forms import UploadForm
from portfolio_import.models import ImportRun
from portfolio_import.reading import SourceFile
from portfolio_import.services import import_run_apply, import_run_create
from portfolio_import.workbooks import XLSX_CONTENT_TYPE, portfolio_workbook, template_workbook

RECENT_RUNS = 10


def _require_importer(request) -> None:
    if not can(request.user, Action.IMPORT_PORTFOLIO):
        raise PermissionDenied("Only portfolio admins import portfolios.")


def _page(request, *, form, run=None, status=200):
    recent = ImportRun.objects.select_related("created_by").order_by("-created_at", "-pk")[
        :RECENT_RUNS
    ]
    return render(
        request,
        "portfolio_import/import.html",
        {
            "form": form,
            "run": run,
            "report": run.report if run else None,
            "recent": recent,
            "tables": TABLES,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    """The upload form, the guide and the template; a POST previews the upload."""
    _require_importer(request)
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            files = [
                SourceFile(name=upload.name, content=upload.read())
                for upload in form.cleaned_data["files"]
            ]
            run = import_run_create(files=files, actor=request.user)
            return redirect("portfolio_import:preview", pk=run.pk)
        return _page(request, form=form, status=400)
    return _page(request, form=UploadForm())


def _run(request, pk: int) -> ImportRun:
    _require_importer(request)
    return get_object_or_404(ImportRun, pk=pk)


@login_required
@require_GET
def preview(request, pk: int):
    """What the upload would do, row by row, with every problem named by row and column."""
    run = _run(request, pk)
    return _page(request, form=UploadForm(), run=run)


@login_required
@require_POST
def apply(request, pk: int):
    run = _run(request, pk)
    try:
        report = import_run_apply(run=run, actor=request.user)
    except InvalidState as error:
        messages.info(request, error.message)
        return redirect("portfolio_import:preview", pk=run.pk)
    if report.applied:
        messages.success(request, report.summary())
    else:
        messages.error(
            request,
            "The portfolio changed since the preview and some rows no "
            "longer fit; nothing was imported. The problems are listed below.",
        )
    return redirect("portfolio_import:preview", pk=run.pk)


def _attachment(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def template_download(request):
    """The import template: a sheet per table with its columns, an example row and a guide."""
    _require_importer(request)
    return _attachment(template_workbook(), "tollgate-import-template.xlsx")


@login_required
@require_GET
def export_download(request):
    """The whole portfolio in the import format, ready to import into another Tollgate."""
    _require_importer(request)
    scope = Initiative.objects.visible_to(request.user)
    stamp = timezone.localdate().isoformat()
    return _attachment(portfolio_workbook(scope=scope), f"tollgate-portfolio-{stamp}.xlsx")
