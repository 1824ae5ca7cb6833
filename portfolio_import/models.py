"""What the importer keeps: the external ids it matched, and uploads waiting for confirmation."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from initiatives.models import Initiative


class ExternalReference(models.Model):
    """The id an initiative has in the spreadsheet or tracker it was imported from."""

    initiative = models.OneToOneField(
        Initiative, on_delete=models.CASCADE, related_name="external_reference"
    )
    external_id = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.external_id} → {self.initiative_id}"


class ImportRunQuerySet(models.QuerySet):
    def stale(self):
        """Uploads previewed more than a day ago and never imported: their files can go."""
        cutoff = timezone.now() - datetime.timedelta(days=1)
        return self.filter(applied_at__isnull=True, created_at__lt=cutoff)


class ImportRun(models.Model):
    """An upload: previewed first, imported when its author confirms."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)
    # The preview's report (ImportReport.as_dict()).
    report = models.JSONField(default=dict)

    objects = ImportRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Import {self.pk} of {self.created_at:%Y-%m-%d %H:%M}"


class ImportFile(models.Model):
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    content = models.BinaryField()

    class Meta:
        ordering = ["run", "pk"]

    def __str__(self) -> str:
        return self.name
