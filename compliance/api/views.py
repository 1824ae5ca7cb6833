"""Classification over the API: the same services, policy and confirmation rule as the pages."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.response import Response

from apiauth.api import require
from apiauth.parsers import LimitedJSONParser
from compliance import selectors, services
from compliance.api import serializers as s
from compliance.policy import may_confirm
from initiatives.models import Initiative
from initiatives.policy import Action

INITIATIVE_KEY = OpenApiParameter("key", str, OpenApiParameter.PATH, description="e.g. AI-001")


def _document(initiative: Initiative) -> dict:
    page = selectors.classification_page(initiative)
    current = page.current
    return {
        "initiative": initiative.key,
        "tier": current.tier if current else None,
        "next_review_on": current.next_review_on if current else None,
        "review_prompt": current.review_prompt if current else "",
        "current": current.revision if current else None,
        "proposal": page.proposal,
        "revisions": page.revisions,
        "obligations": page.obligations,
    }


class OneDocumentSchema(AutoSchema):
    """GET on the collection route answers one document (an initiative has one
    classification), not a list: say so in the schema."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class ClassificationViewSet(viewsets.ViewSet):
    """An initiative's EU AI Act classification. GET reads it; POST proposes one from the
    questionnaire's answers (those who edit the initiative); POST confirm/ confirms the
    proposal waiting (portfolio admins and the compliance role)."""

    parser_classes = [LimitedJSONParser]
    schema = OneDocumentSchema()

    def _initiative(self, key: str) -> Initiative:
        initiative = Initiative.objects.visible_to(self.request.user).filter(key=key).first()
        if initiative is None:
            raise NotFound("No such initiative.")
        return initiative

    @extend_schema(parameters=[INITIATIVE_KEY], responses=s.ClassificationSerializer)
    def list(self, request, key=None):
        initiative = self._initiative(key)
        return Response(s.ClassificationSerializer(_document(initiative)).data)

    @extend_schema(
        parameters=[INITIATIVE_KEY],
        request=s.ClassificationProposeSerializer,
        responses={201: s.ClassificationRevisionSerializer},
    )
    def create(self, request, key=None):
        initiative = self._initiative(key)
        require(request.user, Action.EDIT, initiative)
        serializer = s.ClassificationProposeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        revision = services.classification_propose(
            initiative=initiative,
            actor=request.user,
            answers=dict(serializer.validated_data["answers"]),
            questionnaire_version=serializer.validated_data["questionnaire_version"],
        )
        return Response(
            s.ClassificationRevisionSerializer(revision).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        parameters=[INITIATIVE_KEY],
        request=s.ClassificationConfirmSerializer,
        responses=s.ClassificationSerializer,
    )
    @action(detail=False, methods=["post"])
    def confirm(self, request, key=None):
        initiative = self._initiative(key)
        if not may_confirm(request.user):
            raise ApiPermissionDenied(
                "Only a portfolio admin or the compliance role confirms a classification."
            )
        serializer = s.ClassificationConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.classification_confirm(
            initiative=initiative,
            actor=request.user,
            revision_number=serializer.validated_data["revision"],
        )
        return Response(s.ClassificationSerializer(_document(initiative)).data)
