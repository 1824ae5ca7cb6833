"""POST /api/v1/imports/: the portfolio import over the API, with a per-row report."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from initiatives.policy import Action, can
from portfolio_import.api import serializers as s
from portfolio_import.reading import SourceFile
from portfolio_import.report import Action as RowAction
from portfolio_import.services import portfolio_import

ROW_STATUS = {
    RowAction.CREATE: status.HTTP_201_CREATED,
    RowAction.UPDATE: status.HTTP_200_OK,
    RowAction.UNCHANGED: status.HTTP_200_OK,
    RowAction.ERROR: status.HTTP_422_UNPROCESSABLE_ENTITY,
}


class ImportViewSet(viewsets.GenericViewSet):
    parser_classes = [MultiPartParser]
    serializer_class = s.ImportUploadSerializer
    pagination_class = None

    @extend_schema(
        summary="Import a portfolio (CSV or XLSX)",
        description=(
            "Upload one .xlsx workbook or CSV files (multipart, field `files`, repeatable). "
            "Every row is validated; unless `dry_run` is true and every row is valid, the "
            "whole upload is imported in one transaction, or nothing is. Importing the same "
            "file again changes nothing. Portfolio admins only. A problem with the upload as "
            "a whole (not a spreadsheet, empty, no known table, a required column missing) "
            "answers 400 and a file over the size limit 413, in the API's error shape, with "
            "the problems under `errors.files`; 207 is for uploads read whole with rows refused."
        ),
        request={"multipart/form-data": s.ImportUploadSerializer},
        responses={
            201: OpenApiResponse(s.ImportReportSerializer, description="Imported."),
            200: OpenApiResponse(
                s.ImportReportSerializer, description="Dry run: every row is valid."
            ),
            207: OpenApiResponse(
                s.ImportReportSerializer,
                description="Some rows are refused (each row carries its status); nothing "
                "was written.",
            ),
        },
    )
    def create(self, request):
        if not can(request.user, Action.IMPORT_PORTFOLIO):
            raise PermissionDenied("Only portfolio admins import portfolios.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        files = [
            SourceFile(name=upload.name, content=upload.read())
            for upload in serializer.validated_data["files"]
        ]
        dry_run = serializer.validated_data["dry_run"]
        report = portfolio_import(files=files, actor=request.user, dry_run=dry_run)
        if report.file_problems:
            # The upload as a whole could not be read as a portfolio: no per-row report.
            raise exceptions.ValidationError({"files": [_say(p) for p in report.file_problems]})
        body = report.as_dict()
        for row in body["rows"]:
            row["status"] = ROW_STATUS[row["action"]]
        if not report.ok:
            code = status.HTTP_207_MULTI_STATUS
        elif report.applied:
            code = status.HTTP_201_CREATED
        else:
            code = status.HTTP_200_OK
        return Response(s.ImportReportSerializer(body).data, status=code)


def _say(problem) -> str:
    """A problem of the upload as a whole, with its table, row and column when it has them."""
    return problem.message if problem.table == "file" else str(problem)
