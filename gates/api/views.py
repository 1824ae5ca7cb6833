"""The gates API: gates, their checklists, review requests, decisions and stage transitions."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from apiauth.api import IdLookupMixin, parse_id, require
from apiauth.errors import PreconditionFailed
from apiauth.etags import etag_for, expected_version
from apiauth.idempotency import idempotent
from gates import services
from gates.api import serializers as s
from gates.models import ChecklistItem, Gate, Gatekeeper, StageTransition
from initiatives.api.views import IDEMPOTENCY_PARAMETER, IF_MATCH_PARAMETER
from initiatives.exceptions import StaleEdit
from initiatives.models import Initiative
from initiatives.policy import Action

INITIATIVE_FILTER = OpenApiParameter("initiative", str, description="Initiative key.")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            INITIATIVE_FILTER,
            OpenApiParameter("state", str, enum=Gate.State.values),
        ]
    ),
    retrieve=extend_schema(responses=s.GateDetailSerializer),
)
class GateViewSet(IdLookupMixin, viewsets.ReadOnlyModelViewSet):
    """Exit gates of the initiatives you can see."""

    serializer_class = s.GateSerializer

    def get_queryset(self):
        queryset = (
            Gate.objects.filter(initiative__in=Initiative.objects.visible_to(self.request.user))
            .select_related("initiative", "stage", "decided_by", "review_requested_by")
            .prefetch_related("gatekeepers__user")
        )
        if self.action == "list":
            params = self.request.query_params
            if params.get("initiative"):
                queryset = queryset.filter(initiative__key=params["initiative"])
            if params.get("state"):
                if params["state"] not in Gate.State.values:
                    raise ValidationError({"state": [f"Choose one of {Gate.State.values}."]})
                queryset = queryset.filter(state=params["state"])
            queryset = queryset.with_readiness()
        else:
            queryset = queryset.prefetch_related("items__updated_by")
        return queryset.order_by("pk")

    def get_serializer_class(self):
        return s.GateSerializer if self.action == "list" else s.GateDetailSerializer

    def _gate_response(self, gate, status=200):
        gate = self.get_queryset().get(pk=gate.pk)
        response = Response(s.GateDetailSerializer(gate).data, status=status)
        response["ETag"] = etag_for(gate)
        return response

    def retrieve(self, request, *args, **kwargs):
        return self._gate_response(self.get_object())

    @extend_schema(request=None, responses=s.GateDetailSerializer)
    @action(detail=True, methods=["post"], url_path="request-review")
    def request_review(self, request, pk=None):
        """The owner's side asks the gatekeepers to decide."""
        gate = self.get_object()
        require(request.user, Action.REQUEST_REVIEW, gate)
        services.gate_request_review(gate=gate, actor=request.user)
        return self._gate_response(gate)

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=s.DecideSerializer,
        responses=s.GateDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def decide(self, request, pk=None):
        """A gatekeeper votes; under the gate's rule this may take the decision."""
        gate = self.get_object()
        require(request.user, Action.VOTE, gate)
        serializer = s.DecideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.gate_vote(gate=gate, actor=request.user, **serializer.validated_data)
        return self._gate_response(gate)

    @extend_schema(
        parameters=[OpenApiParameter("user_id", int, OpenApiParameter.PATH)],
        request=None,
        responses=s.GateDetailSerializer,
    )
    @action(detail=True, methods=["delete"], url_path=r"gatekeepers/(?P<user_id>[^/]+)")
    def remove_gatekeeper(self, request, pk=None, user_id=None):
        """Portfolio admins take a gatekeeper off a gate that is not decided yet; the last
        active gatekeeper of a gate in review stays (409)."""
        gate = self.get_object()
        require(request.user, Action.MANAGE_GATEKEEPERS, gate)
        user_id = parse_id(user_id, "user_id")
        keeper = Gatekeeper.objects.filter(gate=gate, user_id=user_id).select_related("user")
        keeper = keeper.first()
        if keeper is None:
            raise NotFound("This person does not keep this gate.")
        services.gatekeeper_remove(gate=gate, user=keeper.user, actor=request.user)
        return self._gate_response(gate)


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("gate", int, description="Gate id.")]),
    partial_update=extend_schema(
        parameters=[IF_MATCH_PARAMETER],
        request=s.ChecklistItemUpdateSerializer,
        responses=s.ChecklistItemSerializer,
    ),
)
class ChecklistItemViewSet(
    IdLookupMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Checklist items of gates you can see; PATCH ticks, unticks or marks them not applicable."""

    serializer_class = s.ChecklistItemSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        queryset = ChecklistItem.objects.filter(
            gate__initiative__in=Initiative.objects.visible_to(self.request.user)
        ).select_related("updated_by", "gate__initiative")
        if self.action == "list" and self.request.query_params.get("gate"):
            queryset = queryset.filter(gate_id=parse_id(self.request.query_params["gate"], "gate"))
        return queryset.order_by("gate_id", "order")

    def retrieve(self, request, *args, **kwargs):
        item = self.get_object()
        response = Response(self.get_serializer(item).data)
        response["ETag"] = etag_for(item)
        return response

    def partial_update(self, request, *args, **kwargs):
        item = self.get_object()
        require(request.user, Action.EDIT_CHECKLIST, item)
        # The body first: a request that could never apply is a 400 whatever its If-Match.
        serializer = s.ChecklistItemUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = expected_version(request, item)
        try:
            item = services.checklist_item_update(
                item=item, actor=request.user, expected_version=version, **serializer.validated_data
            )
        except StaleEdit:
            raise PreconditionFailed() from None
        item = self.get_queryset().get(pk=item.pk)
        response = Response(self.get_serializer(item).data)
        response["ETag"] = etag_for(item)
        return response


@extend_schema_view(list=extend_schema(parameters=[INITIATIVE_FILTER]))
class StageTransitionViewSet(IdLookupMixin, viewsets.ReadOnlyModelViewSet):
    """Stage history of the initiatives you can see."""

    serializer_class = s.StageTransitionSerializer

    def get_queryset(self):
        queryset = StageTransition.objects.filter(
            initiative__in=Initiative.objects.visible_to(self.request.user)
        ).select_related("initiative", "from_stage", "to_stage", "decided_by")
        if self.action == "list" and self.request.query_params.get("initiative"):
            queryset = queryset.filter(initiative__key=self.request.query_params["initiative"])
        return queryset.order_by("transitioned_at", "pk")
