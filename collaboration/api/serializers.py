from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from apiauth.api import MAX_ID
from apiauth.serializers import StrictSerializer, UserRefSerializer
from collaboration.models import COMMENT_MAX_LENGTH, Attachment, Comment


def _id_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class AttachmentSerializer(serializers.ModelSerializer):
    initiative = serializers.SlugRelatedField(slug_field="key", read_only=True)
    uploaded_by = UserRefSerializer(read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()
    relied_on = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "initiative",
            "item",
            "comment",
            "name",
            "size",
            "content_type",
            "sha256",
            "uploaded_by",
            "created_at",
            "relied_on",
            "download_url",
        ]

    def get_download_url(self, attachment) -> str:
        return settings.SITE_URL.rstrip("/") + reverse("collaboration:file", args=[attachment.pk])

    def get_relied_on(self, attachment) -> bool:
        """True once a gate decision listed this file: it can no longer be deleted."""
        return attachment.relied_on_at is not None


class CommentSerializer(serializers.ModelSerializer):
    initiative = serializers.SlugRelatedField(slug_field="key", read_only=True)
    author = UserRefSerializer(read_only=True, allow_null=True)
    body = serializers.SerializerMethodField()
    body_html = serializers.SerializerMethodField()
    deleted = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = [
            "id",
            "initiative",
            "gate",
            "item",
            "reply_to",
            "author",
            "body",
            "body_html",
            "created_at",
            "edited_at",
            "deleted",
            "files",
        ]

    def get_body(self, comment) -> str:
        """The Markdown as written; empty once the comment is deleted."""
        return "" if comment.is_deleted else comment.body

    def get_body_html(self, comment) -> str:
        """The rendered, sanitised HTML."""
        return "" if comment.is_deleted else comment.body_html

    def get_deleted(self, comment) -> bool:
        return comment.is_deleted

    def get_files(self, comment) -> list[dict]:
        files = getattr(comment, "files", None)
        if files is None:
            files = list(comment.attachments.live())
        return AttachmentSerializer(files, many=True, context=self.context).data


class CommentCreateSerializer(StrictSerializer):
    body = serializers.CharField(max_length=COMMENT_MAX_LENGTH)
    gate = _id_field(required=False, help_text="Comment on this gate of the initiative.")
    item = _id_field(required=False, help_text="Comment on this checklist item.")
    reply_to = _id_field(required=False, help_text="The comment this one answers.")
    file = serializers.FileField(
        required=False, help_text="A file to attach (multipart/form-data only)."
    )


class AttachmentCreateSerializer(StrictSerializer):
    file = serializers.FileField()
    item = _id_field(
        required=False,
        help_text="The checklist item this file is evidence for; send item, comment or both.",
    )
    comment = _id_field(
        required=False,
        help_text="The comment this file belongs to; send item, comment or both.",
    )
