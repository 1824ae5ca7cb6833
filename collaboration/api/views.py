"""Comments and evidence files over the API: the same services and policy as the pages."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from apiauth.api import require
from apiauth.errors import PayloadTooLarge
from apiauth.parsers import LimitedJSONParser
from collaboration import files, services
from collaboration.api import serializers as s
from collaboration.models import Attachment, Comment
from gates.models import ChecklistItem, Gate
from initiatives.models import Initiative
from initiatives.policy import Action

INITIATIVE_KEY = OpenApiParameter("key", str, OpenApiParameter.PATH, description="e.g. AI-001")
ITEM_FILTER = OpenApiParameter(
    "item", int, OpenApiParameter.QUERY, description="Only what is about this checklist item."
)


class _InitiativeScoped:
    """Views under /initiatives/{key}/: 404 unless the initiative is visible."""

    def initiative(self) -> Initiative:
        if not hasattr(self, "_initiative"):
            initiative = (
                Initiative.objects.visible_to(self.request.user)
                .filter(key=self.kwargs["key"])
                .first()
            )
            if initiative is None:
                raise NotFound("No such initiative.")
            self._initiative = initiative
        return self._initiative

    def _item_filter(self) -> int | None:
        value = self.request.query_params.get("item")
        if value in (None, ""):
            return None
        if not value.isdigit() or not 1 <= int(value) <= 2**63 - 1:
            raise ValidationError({"item": ["Send a numeric id."]})
        return int(value)

    def _refuse_oversized(self) -> None:
        if files.declared_too_large(self.request):
            raise PayloadTooLarge(files.too_large_message())

    def _item(self, pk: int | None) -> ChecklistItem | None:
        if pk is None:
            return None
        item = ChecklistItem.objects.filter(pk=pk, gate__initiative=self.initiative()).first()
        if item is None:
            raise ValidationError({"item": ["No such item on this initiative."]})
        return item


@extend_schema_view(
    list=extend_schema(parameters=[INITIATIVE_KEY, ITEM_FILTER]),
    create=extend_schema(
        parameters=[INITIATIVE_KEY],
        request={
            "application/json": s.CommentCreateSerializer,
            "multipart/form-data": s.CommentCreateSerializer,
        },
        responses={201: s.CommentSerializer},
    ),
)
class CommentViewSet(
    _InitiativeScoped, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The discussion of an initiative, oldest first; POST writes a comment (Markdown)."""

    serializer_class = s.CommentSerializer
    parser_classes = [LimitedJSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        comments = (
            Comment.objects.filter(initiative=self.initiative())
            .select_related("initiative", "author")
            .prefetch_related(
                Prefetch(
                    "attachments",
                    queryset=Attachment.objects.live().select_related("uploaded_by", "initiative"),
                    to_attr="files",
                )
            )
        )
        item = self._item_filter() if self.action == "list" else None
        if item is not None:
            comments = comments.filter(item_id=item)
        return comments.order_by("created_at", "pk")

    def create(self, request, *args, **kwargs):
        initiative = self.initiative()
        require(request.user, Action.COMMENT, initiative)
        self._refuse_oversized()
        serializer = s.CommentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        gate = None
        if "gate" in data:
            gate = Gate.objects.filter(pk=data["gate"], initiative=initiative).first()
            if gate is None:
                raise ValidationError({"gate": ["No such gate on this initiative."]})
        reply_to = None
        if "reply_to" in data:
            reply_to = Comment.objects.filter(pk=data["reply_to"], initiative=initiative).first()
            if reply_to is None:
                raise ValidationError({"reply_to": ["No such comment on this initiative."]})
        comment = services.comment_create(
            initiative=initiative,
            actor=request.user,
            body=data["body"],
            gate=gate,
            item=self._item(data.get("item")),
            reply_to=reply_to,
            uploaded_file=data.get("file"),
        )
        comment = self.get_queryset().get(pk=comment.pk)
        return Response(self.get_serializer(comment).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(parameters=[INITIATIVE_KEY, ITEM_FILTER]),
    create=extend_schema(
        parameters=[INITIATIVE_KEY],
        request={"multipart/form-data": s.AttachmentCreateSerializer},
        responses={201: s.AttachmentSerializer},
    ),
)
class AttachmentViewSet(
    _InitiativeScoped, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Evidence files of an initiative, with their SHA-256; POST uploads one (multipart)."""

    serializer_class = s.AttachmentSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        attachments = (
            Attachment.objects.live()
            .filter(initiative=self.initiative())
            .select_related("initiative", "uploaded_by")
        )
        item = self._item_filter() if self.action == "list" else None
        if item is not None:
            attachments = attachments.filter(item_id=item)
        return attachments.order_by("created_at", "pk")

    def create(self, request, *args, **kwargs):
        initiative = self.initiative()
        require(request.user, Action.COMMENT, initiative)
        self._refuse_oversized()
        serializer = s.AttachmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        item = self._item(data.get("item"))
        comment = None
        if "comment" in data:
            comment = Comment.objects.filter(pk=data["comment"], initiative=initiative).first()
            if comment is None:
                raise ValidationError({"comment": ["No such comment on this initiative."]})
        if item is not None and comment is None:
            # Evidence on an item is part of the checklist.
            require(request.user, Action.EDIT_CHECKLIST, initiative)
        attachment = services.attachment_upload(
            initiative=initiative,
            actor=request.user,
            uploaded_file=data["file"],
            item=item,
            comment=comment,
        )
        return Response(self.get_serializer(attachment).data, status=status.HTTP_201_CREATED)
