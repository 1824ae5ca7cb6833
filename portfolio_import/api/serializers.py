from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from apiauth.errors import PayloadTooLarge
from apiauth.serializers import StrictSerializer
from portfolio_import.reading import MAX_FILES, upload_problem


class ImportUploadSerializer(StrictSerializer):
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        min_length=1,
        max_length=MAX_FILES,
        help_text="One .xlsx workbook, or CSV files named after their tables "
        "(initiatives.csv, history.csv, checklist.csv, measurements.csv, members.csv).",
    )
    dry_run = serializers.BooleanField(
        default=False, help_text="Check every row and report; write nothing."
    )

    def validate_files(self, files):
        limit = settings.TOLLGATE_IMPORT_MAX_BYTES
        for upload in files:
            if upload.size > limit:
                # 413, not 400: the file is fine in kind, only too large.
                raise PayloadTooLarge(f"{upload.name} is larger than the {limit:,}-byte limit.")
        problem = upload_problem(files)
        if problem:
            raise serializers.ValidationError(problem)
        return files


class ImportProblemSerializer(serializers.Serializer):
    table = serializers.CharField()
    row = serializers.IntegerField(
        allow_null=True, help_text="The row number the spreadsheet shows."
    )
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class ImportRowSerializer(serializers.Serializer):
    table = serializers.CharField()
    row = serializers.IntegerField()
    label = serializers.CharField(allow_blank=True, help_text="The initiative the row is about.")
    action = serializers.ChoiceField(choices=["create", "update", "unchanged", "error"])
    status = serializers.IntegerField(
        help_text="Per row, as in a 207 Multi-Status body: 201 created, 200 updated or "
        "unchanged, 422 refused."
    )
    changes = serializers.ListField(child=serializers.CharField())
    errors = ImportProblemSerializer(many=True)


class ImportReportSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="Every row is valid.")
    applied = serializers.BooleanField(help_text="The rows were written.")
    dry_run = serializers.BooleanField()
    summary = serializers.CharField()
    files = serializers.ListField(child=serializers.CharField())
    counts = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text="{table: {action: rows}}",
    )
    errors = ImportProblemSerializer(many=True)
    notices = serializers.ListField(child=serializers.CharField())
    rows = ImportRowSerializer(many=True)
