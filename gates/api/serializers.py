from __future__ import annotations

from rest_framework import serializers

from apiauth.serializers import StrictSerializer, UserRefSerializer
from gates.models import ChecklistItem, Decision, Gate, StageTransition
from initiatives.api.serializers import StageRefSerializer


class ChecklistItemSerializer(serializers.ModelSerializer):
    gate = serializers.PrimaryKeyRelatedField(read_only=True)
    updated_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ChecklistItem
        fields = [
            "id",
            "gate",
            "order",
            "text",
            "guidance",
            "required",
            "metric_key",
            "target",
            "state",
            "na_reason",
            "evidence_url",
            "note",
            "is_condition",
            "condition_due_on",
            "updated_by",
            "updated_at",
            "version",
        ]


class ChecklistItemUpdateSerializer(StrictSerializer):
    state = serializers.ChoiceField(choices=ChecklistItem.State.choices, required=False)
    na_reason = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    evidence_url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    note = serializers.CharField(required=False, allow_blank=True, max_length=10000)


class ReadinessSerializer(serializers.Serializer):
    cleared = serializers.IntegerField()
    required = serializers.IntegerField()
    ratio = serializers.FloatField()


class GateSerializer(serializers.ModelSerializer):
    initiative = serializers.SlugRelatedField(slug_field="key", read_only=True)
    stage = StageRefSerializer(read_only=True)
    decided_by = UserRefSerializer(read_only=True, allow_null=True)
    review_requested_by = UserRefSerializer(read_only=True, allow_null=True)
    gatekeepers = serializers.SerializerMethodField()
    readiness = serializers.SerializerMethodField()
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Gate
        fields = [
            "id",
            "initiative",
            "stage",
            "state",
            "rule",
            "due_on",
            "is_overdue",
            "opened_at",
            "review_round",
            "review_requested_at",
            "review_requested_by",
            "decision",
            "decided_by",
            "decided_at",
            "rationale",
            "override_justification",
            "gatekeepers",
            "readiness",
            "version",
        ]

    def get_gatekeepers(self, gate) -> list[str]:
        return [keeper.user.get_username() for keeper in gate.gatekeepers.all()]

    @staticmethod
    def _readiness(gate) -> dict:
        cleared, total = gate.readiness_counts()
        return {"cleared": cleared, "required": total, "ratio": gate.readiness}

    def get_readiness(self, gate) -> ReadinessSerializer:
        return self._readiness(gate)


class GateDetailSerializer(GateSerializer):
    items = ChecklistItemSerializer(many=True, read_only=True)
    snapshot = serializers.JSONField(read_only=True, allow_null=True)

    class Meta(GateSerializer.Meta):
        fields = [*GateSerializer.Meta.fields, "snapshot", "items"]


class DecideSerializer(StrictSerializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    rationale = serializers.CharField(max_length=10000)
    override_justification = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=10000
    )


class StageTransitionSerializer(serializers.ModelSerializer):
    initiative = serializers.SlugRelatedField(slug_field="key", read_only=True)
    from_stage = StageRefSerializer(read_only=True, allow_null=True)
    to_stage = StageRefSerializer(read_only=True)
    decided_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = StageTransition
        fields = [
            "id",
            "initiative",
            "from_stage",
            "to_stage",
            "gate",
            "decision",
            "decided_by",
            "transitioned_at",
        ]
