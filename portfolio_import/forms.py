from __future__ import annotations

from django import forms

from core.forms import BoundedForm
from portfolio_import.reading import upload_problem


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input, as Django's documentation shows."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        clean_one = super().clean
        if isinstance(data, list | tuple):
            if not data and self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return [clean_one(item, initial) for item in data]
        return [clean_one(data, initial)]


class UploadForm(BoundedForm):
    """One .xlsx workbook, or one .csv file per table."""

    files = MultipleFileField(
        label="Workbook or CSV files",
        widget=MultipleFileInput(attrs={"accept": ".xlsx,.xlsm,.csv,.tsv,.txt"}),
        help_text="An .xlsx workbook with a sheet per table, or CSV files named after their "
        "tables (initiatives.csv, history.csv, checklist.csv, measurements.csv, members.csv).",
    )

    def clean_files(self):
        uploads = self.cleaned_data["files"]
        problem = upload_problem(uploads)
        if problem:
            raise forms.ValidationError(problem)
        return uploads
