from __future__ import annotations

from django import forms
from django.conf import settings


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class UploadForm(forms.Form):
    """One .xlsx workbook, or one .csv file per table."""

    files = forms.FileField(
        label="Workbook or CSV files",
        widget=MultipleFileInput(attrs={"accept": ".xlsx,.xlsm,.csv,.tsv,.txt"}),
        help_text="An .xlsx workbook with a sheet per table, or CSV files named after their "
        "tables (initiatives.csv, history.csv, checklist.csv, measurements.csv, members.csv).",
    )

    def clean_files(self):
        uploads = self.files.getlist("files")
        if not uploads:
            raise forms.ValidationError("Choose a file.")
        if len(uploads) > 10:
            raise forms.ValidationError("Upload at most 10 files at once.")
        limit = settings.TOLLGATE_IMPORT_MAX_BYTES
        for upload in uploads:
            if upload.size > limit:
                raise forms.ValidationError(
                    f"{upload.name} is larger than the {limit // (1024 * 1024)} MB limit."
                )
        return uploads
