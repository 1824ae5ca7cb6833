"""The initiatives API: initiatives, business cases, targets, measurements, activity, portfolio."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apiauth.api import IdLookupMixin, query_params, require
from apiauth.errors import PreconditionFailed
from apiauth.etags import etag_for, expected_version
from apiauth.filters import StableOrderingFilter
from apiauth.idempotency import idempotent
from apiauth.pagination import KnownCount, cached_count
from gates.models import Gate
from gates.services import (
    MeasurementInput,
    initiative_start,
    initiative_update,
    measurements_record,
    target_create,
)
from initiatives import services
from initiatives.api import serializers as s
from initiatives.exceptions import StaleEdit
from initiatives.filters import InitiativeFilters
from initiatives.models import (
    Activity,
    BusinessCase,
    BusinessCaseRevision,
    DailyMeasurement,
    Initiative,
    Measurement,
    Target,
)
from initiatives.policy import Action, reads_everything

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Retry safely: the same key and body replay the first response.",
)
IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='The ETag you read (e.g. "3"); a stale one gets 412.',
)
INITIATIVE_KEY = OpenApiParameter("key", str, OpenApiParameter.PATH, description="e.g. AI-001")


def _initiative_queryset(user=None):
    """Initiatives shaped for the serializer; all of them when no user is given."""
    initiatives = Initiative.objects.all() if user is None else Initiative.objects.visible_to(user)
    return initiatives.select_related(
        "team", "owner", "sponsor", "framework", "stage", "ai_classification"
    ).prefetch_related("tags")


@extend_schema_view(
    list=extend_schema(parameters=[s.InitiativeFilterSerializer]),
    retrieve=extend_schema(parameters=[INITIATIVE_KEY]),
    update=extend_schema(
        parameters=[INITIATIVE_KEY, IF_MATCH_PARAMETER],
        request=s.InitiativeUpdateSerializer,
        responses=s.InitiativeSerializer,
    ),
    partial_update=extend_schema(
        parameters=[INITIATIVE_KEY, IF_MATCH_PARAMETER],
        request=s.InitiativeUpdateSerializer,
        responses=s.InitiativeSerializer,
    ),
)
class InitiativeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """AI initiatives you can see. Looked up by key (AI-001)."""

    serializer_class = s.InitiativeSerializer
    lookup_field = "key"
    filter_backends = [StableOrderingFilter]
    ordering_fields = [
        "key",
        "name",
        "status",
        "stage_entered_on",
        "gate_due_on",
        "created_at",
        "updated_at",
    ]
    ordering = ["key"]

    def get_queryset(self):
        return _initiative_queryset(self.request.user)

    def list(self, request, *args, **kwargs):
        """A page of initiatives read as plain values, with their tags (see initiative_rows)."""
        queryset = self.filter_queryset(Initiative.objects.visible_to(request.user))
        # Counted on the initiatives alone: counting the joined rows below joined five
        # tables for each of 50,000 initiatives (bench/results/explain/api-list-*.txt).
        if "updated_since" in request.query_params:
            # Every reading recorded moves its initiative's updated_at, but only one that
            # flips a target moves the portfolio version on (a feed pushing readings would
            # otherwise drop every kept board): a kept count hid the changed initiatives
            # from the syncs that ask for them. Counted live, over the rows changed since.
            total = queryset.count()
        else:
            total = cached_count(request.user, queryset, request.query_params)
        rows = self.paginate_queryset(KnownCount(s.initiative_rows(queryset), total))
        return self.get_paginated_response(s.InitiativeRows(rows).data)

    def filter_queryset(self, queryset):
        if self.action == "list":
            params = query_params(self.request, s.InitiativeFilterSerializer)
            # Any status unless one is asked for (the board shows the active ones).
            filters = InitiativeFilters(**{"status": "", **params})
            queryset = filters.apply(queryset, timezone.localdate())
        return super().filter_queryset(queryset)

    def retrieve(self, request, *args, **kwargs):
        initiative = self.get_object()
        response = Response(self.get_serializer(initiative).data)
        response["ETag"] = etag_for(initiative)
        return response

    @extend_schema(request=s.InitiativeCreateSerializer, responses={201: s.InitiativeSerializer})
    def create(self, request, *args, **kwargs):
        require(request.user, Action.CREATE)
        data = self._validated(s.InitiativeCreateSerializer)
        initiative = initiative_start(
            actor=request.user,
            name=data["name"],
            summary=data["summary"],
            problem=data["problem"],
            team=data["team"],
            owner=data.get("owner") or request.user,
            sponsor=data["sponsor"],
            framework=data.get("framework"),
            maturity_level=data["maturity_level"],
        )
        # Unscoped: the change may have moved the initiative out of the caller's sight.
        initiative = _initiative_queryset().get(pk=initiative.pk)
        response = Response(self.get_serializer(initiative).data, status=status.HTTP_201_CREATED)
        response["ETag"] = etag_for(initiative)
        response["Location"] = f"/api/v1/initiatives/{initiative.key}/"
        return response

    def update(self, request, *args, **kwargs):
        initiative = self.get_object()
        require(request.user, Action.EDIT, initiative)
        # The body first: a request that could never apply is a 400 whatever its If-Match.
        data = self._validated(s.InitiativeUpdateSerializer, partial=kwargs.get("partial", False))
        version = expected_version(request, initiative)
        try:
            initiative_update(
                initiative=initiative, actor=request.user, expected_version=version, **data
            )
        except StaleEdit:
            raise PreconditionFailed() from None
        # Unscoped: the change may have moved the initiative out of the caller's sight.
        initiative = _initiative_queryset().get(pk=initiative.pk)
        response = Response(self.get_serializer(initiative).data)
        response["ETag"] = etag_for(initiative)
        return response

    def _validated(self, serializer_class, partial=False) -> dict:
        serializer = serializer_class(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    # --- Things that hang off one initiative ------------------------------------------

    @extend_schema(parameters=[INITIATIVE_KEY], responses=s.BusinessCaseSerializer)
    @action(detail=True, methods=["get"], url_path="business-case")
    def business_case(self, request, key=None):
        initiative = self.get_object()
        # A read writes nothing: before the first edit the answer is the empty case.
        case = getattr(initiative, "business_case", None) or BusinessCase(initiative=initiative)
        return Response(s.BusinessCaseSerializer(case).data)

    @extend_schema(
        parameters=[INITIATIVE_KEY],
        request=s.BusinessCaseUpdateSerializer,
        responses=s.BusinessCaseSerializer,
    )
    @business_case.mapping.patch
    def business_case_update(self, request, key=None):
        initiative = self.get_object()
        require(request.user, Action.EDIT, initiative)
        data = self._validated(s.BusinessCaseUpdateSerializer)
        case = services.business_case_update(initiative=initiative, actor=request.user, **data)
        return Response(s.BusinessCaseSerializer(case).data)

    @extend_schema(parameters=[INITIATIVE_KEY], responses=s.RevisionSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="business-case/revisions", filter_backends=[])
    def revisions(self, request, key=None):
        initiative = self.get_object()
        revisions = (
            initiative.business_case.revisions.select_related("author")
            if hasattr(initiative, "business_case")
            else BusinessCaseRevision.objects.none()
        )
        return self._paginated(revisions, s.RevisionSerializer)

    @extend_schema(parameters=[INITIATIVE_KEY], responses=s.TargetSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def targets(self, request, key=None):
        initiative = self.get_object()
        targets = Target.objects.filter(initiative=initiative).select_related("initiative")
        return self._paginated(targets, s.TargetSerializer)

    @extend_schema(
        parameters=[INITIATIVE_KEY],
        request=s.TargetCreateSerializer,
        responses={201: s.TargetSerializer},
    )
    @targets.mapping.post
    def target_create(self, request, key=None):
        initiative = self.get_object()
        require(request.user, Action.EDIT, initiative)
        data = self._validated(s.TargetCreateSerializer)
        if Target.objects.filter(initiative=initiative, metric_key=data["metric_key"]).exists():
            raise ValidationError({"metric_key": ["This initiative already has this target."]})
        target = target_create(initiative=initiative, actor=request.user, **data)
        return Response(s.TargetSerializer(target).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[INITIATIVE_KEY], responses=s.MembershipSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def memberships(self, request, key=None):
        initiative = self.get_object()
        memberships = initiative.memberships.select_related("initiative", "user")
        return self._paginated(memberships, s.MembershipSerializer)

    @extend_schema(
        parameters=[INITIATIVE_KEY, s.ClearanceQuerySerializer], responses=s.ClearanceSerializer
    )
    @action(detail=True, methods=["get"])
    def clearance(self, request, key=None):
        """Has this initiative cleared the exit gate of `stage` (decided go or conditional go)?"""
        initiative = self.get_object()
        stage_key = query_params(request, s.ClearanceQuerySerializer)["stage"]
        if not initiative.framework.stages.filter(key=stage_key).exists():
            raise ValidationError(
                {"stage": [f"{initiative.framework.slug} has no stage {stage_key}."]}
            )
        gate = (
            Gate.objects.filter(initiative=initiative, stage__key=stage_key)
            .select_related("decided_by")
            .first()
        )
        decided = gate is not None and gate.state == Gate.State.DECIDED
        body = {
            "initiative": initiative.key,
            "stage": stage_key,
            "cleared": decided and gate.is_cleared,
            "decision": gate.decision if decided else None,
            "decided_by": gate.decided_by.get_username() if decided and gate.decided_by else None,
            "decided_at": gate.decided_at if decided else None,
            "snapshot": gate.snapshot if decided else None,
        }
        return Response(s.ClearanceSerializer(body).data)

    def _paginated(self, queryset, serializer_class):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("initiative", str, description="Initiative key."),
            OpenApiParameter("status", str, enum=Target.Status.values),
        ]
    )
)
class TargetViewSet(IdLookupMixin, viewsets.ReadOnlyModelViewSet):
    """Production-bar targets of the initiatives you can see."""

    serializer_class = s.TargetSerializer

    def get_queryset(self):
        queryset = Target.objects.filter(
            initiative__in=Initiative.objects.visible_to(self.request.user)
        ).select_related("initiative")
        if self.action == "list":
            if self.request.query_params.get("initiative"):
                queryset = queryset.filter(initiative__key=self.request.query_params["initiative"])
            wanted = self.request.query_params.get("status")
            if wanted:
                if wanted not in Target.Status.values:
                    raise ValidationError({"status": [f"Choose one of {Target.Status.values}."]})
                queryset = queryset.filter(status=wanted)
        return queryset.order_by("pk")

    @extend_schema(
        parameters=[s.MeasurementSeriesFilterSerializer],
        responses=s.MeasurementSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def measurements(self, request, pk=None):
        """The target's raw readings, newest first, optionally between ?from= and ?to=.

        Raw readings are kept TOLLGATE_MEASUREMENT_RAW_DAYS days; older ones are in `daily`.
        """
        target = self.get_object()
        bounds = query_params(request, s.MeasurementSeriesFilterSerializer)
        series = Measurement.objects.filter(target=target).order_by("-measured_at", "-pk")
        if "from" in bounds:
            series = series.filter(measured_at__gte=bounds["from"])
        if "to" in bounds:
            series = series.filter(measured_at__lte=bounds["to"])
        if not bounds:
            # The whole series: its length is kept on the target, no COUNT over it.
            series = KnownCount(series, target.measurement_count)
        page = self.paginate_queryset(series)
        return self.get_paginated_response(s.MeasurementSerializer(page, many=True).data)

    @extend_schema(responses=s.DailyMeasurementSerializer(many=True))
    @action(detail=True, methods=["get"])
    def daily(self, request, pk=None):
        """Daily aggregates of the readings past the retention period, newest day first."""
        target = self.get_object()
        days = DailyMeasurement.objects.filter(target=target).order_by("-day")
        page = self.paginate_queryset(days)
        return self.get_paginated_response(s.DailyMeasurementSerializer(page, many=True).data)


class MeasurementViewSet(viewsets.GenericViewSet):
    """Push measurements from monitoring or evaluation pipelines."""

    serializer_class = s.MeasurementBatchSerializer

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=PolymorphicProxySerializer(
            component_name="MeasurementPost",
            serializers=[s.MeasurementInputSerializer, s.MeasurementBatchSerializer],
            resource_type_field_name=None,
        ),
        responses={201: s.MeasurementResultSerializer},
    )
    @idempotent
    def create(self, request):
        """Record one measurement, or a batch as {"measurements": [...]}, in constant queries."""
        if isinstance(request.data, dict) and "measurements" in request.data:
            serializer = s.MeasurementBatchSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            rows = serializer.validated_data["measurements"]
        else:
            serializer = s.MeasurementInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            rows = [serializer.validated_data]
        targets = self._resolve(rows)
        inputs = [
            MeasurementInput(target=target, value=row["value"], measured_at=row.get("measured_at"))
            for row, target in zip(rows, targets, strict=True)
        ]
        measurements_record(rows=inputs, actor=request.user, source=Measurement.Source.INTEGRATION)
        changed = Target.objects.filter(pk__in={t.pk for t in targets}).select_related("initiative")
        body = {"recorded": len(inputs), "targets": changed.order_by("pk")}
        return Response(s.MeasurementResultSerializer(body).data, status=status.HTTP_201_CREATED)

    def _resolve(self, rows: list[dict]) -> list[Target]:
        """Each row's target, found in two queries whatever the batch size; 400/403/404 per rule."""
        user = self.request.user
        visible = Initiative.objects.visible_to(user)
        ids = {row["target"] for row in rows if "target" in row}
        pairs = {(row["initiative"], row["metric_key"]) for row in rows if "target" not in row}
        base = (
            Target.objects.filter(initiative__in=visible)
            .select_related("initiative")
            .prefetch_related("initiative__memberships")
        )
        by_id = {t.pk: t for t in base.filter(pk__in=ids)} if ids else {}
        by_pair = {}
        if pairs:
            keys = {key for key, _ in pairs}
            metrics = {metric for _, metric in pairs}
            for target in base.filter(initiative__key__in=keys, metric_key__in=metrics):
                by_pair[(target.initiative.key, target.metric_key)] = target
        errors, targets = {}, []
        for index, row in enumerate(rows):
            if "target" in row:
                target = by_id.get(row["target"])
                missing = f"Target {row['target']} does not exist or is not visible to you."
            else:
                target = by_pair.get((row["initiative"], row["metric_key"]))
                missing = f"{row['initiative']} has no visible target for {row['metric_key']}."
            if target is None:
                errors[f"measurements.{index}.target"] = [missing]
            targets.append(target)
        if errors:
            raise ValidationError(errors)
        for initiative in {t.initiative_id: t.initiative for t in targets}.values():
            require(user, Action.RECORD_MEASUREMENT, initiative)
        return targets


@extend_schema_view(list=extend_schema(parameters=[s.ActivityFilterSerializer]))
class ActivityViewSet(IdLookupMixin, viewsets.ReadOnlyModelViewSet):
    """The append-only activity log of the initiatives you can see, newest first."""

    serializer_class = s.ActivitySerializer

    def get_queryset(self):
        user = self.request.user
        queryset = Activity.objects.with_withdrawn().select_related("actor")
        if not reads_everything(user):
            queryset = queryset.filter(initiative__in=Initiative.objects.visible_to(user))
        if self.action == "list":
            params = query_params(self.request, s.ActivityFilterSerializer)
            if "since" in params:
                queryset = queryset.filter(created_at__gte=params["since"])
            if "initiative" in params:
                queryset = queryset.filter(initiative_key=params["initiative"])
        return queryset.order_by("-created_at", "-id")


class PortfolioViewSet(viewsets.GenericViewSet):
    """Portfolio counts, aggregated in the database in a constant number of queries."""

    serializer_class = s.PortfolioSummarySerializer
    pagination_class = None

    @extend_schema(responses=s.PortfolioSummarySerializer)
    @action(detail=False, methods=["get"])
    def summary(self, request):
        today = timezone.localdate()
        initiatives = Initiative.objects.visible_to(request.user)
        flags = initiatives.aggregate(
            total=Count("pk"),
            overdue=Count("pk", filter=Initiative.overdue_q(today)),
            stalled=Count("pk", filter=Initiative.stalled_q(today)),
        )
        by_stage = (
            initiatives.values("framework__slug", "stage__key", "stage__name", "stage__order")
            .annotate(count=Count("pk"))
            .order_by("framework__slug", "stage__order")
        )
        by_status = dict.fromkeys(Initiative.Status.values, 0)
        for row in initiatives.values("status").annotate(count=Count("pk")).order_by():
            by_status[row["status"]] = row["count"]
        targets = Target.objects.filter(initiative__in=initiatives).aggregate(
            **{value: Count("pk", filter=Q(status=value)) for value in Target.Status.values}
        )
        body = {
            "total": flags["total"],
            "by_stage": [
                {
                    "framework": row["framework__slug"],
                    "stage": row["stage__key"],
                    "stage_name": row["stage__name"],
                    "count": row["count"],
                }
                for row in by_stage
            ],
            "by_status": by_status,
            "overdue": flags["overdue"],
            "stalled": flags["stalled"],
            "targets": targets,
        }
        return Response(s.PortfolioSummarySerializer(body).data)


__all__ = [
    "ActivityViewSet",
    "InitiativeViewSet",
    "MeasurementViewSet",
    "PortfolioViewSet",
    "TargetViewSet",
    "serializers",
]
