"""The evidence files a gate decision relied on: listed in its snapshot, kept for good."""

from __future__ import annotations

from django.utils import timezone

from collaboration.models import Attachment


def snapshot_evidence(*, gate, items: list, snapshot: dict) -> None:
    """Add each item's files (name, size, type, SHA-256) to the snapshot and mark them kept."""
    attachments = list(
        Attachment.objects.live()
        .filter(item__in=[item.pk for item in items])
        .select_related("uploaded_by")
        .order_by("item_id", "created_at", "pk")
    )
    by_item: dict[int, list[dict]] = {}
    for attachment in attachments:
        uploader = attachment.uploaded_by
        by_item.setdefault(attachment.item_id, []).append(
            {
                "id": attachment.pk,
                "name": attachment.name,
                "size": attachment.size,
                "content_type": attachment.content_type,
                "sha256": attachment.sha256,
                "uploaded_at": attachment.created_at.isoformat(),
                "uploaded_by": (uploader.get_full_name() or uploader.get_username())
                if uploader
                else None,
            }
        )
    for row in snapshot.get("checklist", []):
        row["files"] = by_item.get(row["id"], [])
    if attachments:
        Attachment.objects.filter(
            pk__in=[a.pk for a in attachments], relied_on_at__isnull=True
        ).update(relied_on_at=timezone.now())
