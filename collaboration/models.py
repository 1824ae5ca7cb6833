"""Comments, mentions, evidence files and watching."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from gates.models import ChecklistItem, Gate
from initiatives.models import Initiative

COMMENT_MAX_LENGTH = 10_000


class CommentQuerySet(models.QuerySet):
    def for_display(self):
        return self.select_related("author", "gate__stage", "item", "reply_to__author").order_by(
            "created_at", "pk"
        )


class Comment(models.Model):
    """A remark on an initiative, on its gate, or on one checklist item."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="comments")
    gate = models.ForeignKey(
        Gate, on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    item = models.ForeignKey(
        ChecklistItem, on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(max_length=COMMENT_MAX_LENGTH)
    # The sanitised HTML of `body`, rendered once when it is written.
    body_html = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Any change: lets the live page tell whether the discussion moved on.
    updated_at = models.DateTimeField(default=timezone.now)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # An item's comment also names the item's gate.
            models.CheckConstraint(
                condition=Q(item__isnull=True) | Q(gate__isnull=False),
                name="comment_item_has_gate",
            ),
            models.CheckConstraint(condition=~Q(body=""), name="comment_body_not_empty"),
        ]
        indexes = [
            models.Index(fields=["initiative", "created_at"], name="comment_initiative_idx"),
            models.Index(fields=["item", "deleted_at"], name="comment_item_idx"),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.initiative.key}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def about(self) -> str:
        """What the comment is about, in words."""
        if self.item_id:
            return f"item “{self.item.text}”"
        if self.gate_id:
            return f"the exit gate of {self.gate.stage.name}"
        return "the initiative"


class CommentRevision(models.Model):
    """An earlier text of an edited comment."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    written_at = models.DateTimeField()
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["comment", "replaced_at", "pk"]

    def __str__(self) -> str:
        return f"Earlier text of comment {self.comment_id}"


class Mention(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "user"], name="mention_once_per_comment")
        ]

    def __str__(self) -> str:
        return f"{self.user} in comment {self.comment_id}"


class AttachmentQuerySet(models.QuerySet):
    def live(self):
        return self.filter(deleted_at__isnull=True)


class Attachment(models.Model):
    """An uploaded file: evidence on a checklist item, or part of a comment.

    The bytes live in the "evidence" storage under `storage_key`, a name Tollgate
    chooses; the uploader's file name is only shown and offered on download.
    """

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="attachments")
    item = models.ForeignKey(
        ChecklistItem, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    name = models.CharField(max_length=200)
    storage_key = models.CharField(max_length=300, unique=True)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    # Set when a gate decision's snapshot listed this file; from then on it stays.
    relied_on_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(relied_on_at__isnull=True) | Q(deleted_at__isnull=True),
                name="attachment_relied_on_never_deleted",
            ),
        ]
        indexes = [
            models.Index(fields=["initiative", "created_at"], name="attachment_initiative_idx"),
            models.Index(fields=["item", "deleted_at"], name="attachment_item_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Watch(models.Model):
    """A person's explicit choice to watch an initiative, or not to.

    Owner, members, sponsor and gatekeepers watch without a row; a row with
    `watching=False` is how they opt out.
    """

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="watches")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    watching = models.BooleanField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["initiative", "user"], name="watch_once_per_person")
        ]

    def __str__(self) -> str:
        verb = "watches" if self.watching else "does not watch"
        return f"{self.user} {verb} {self.initiative.key}"
