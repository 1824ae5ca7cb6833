"""The classification over the API: the questionnaire's answers, revisions, obligations."""

from __future__ import annotations

from rest_framework import serializers

from apiauth.serializers import StrictSerializer, UserRefSerializer
from compliance.classifier import QUESTIONNAIRE_VERSION, QUESTIONS
from compliance.models import Flag, Role, Tier


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: "yes", 1 or "true" are not answers to a yes-or-no question."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def _answer_field(question: dict) -> serializers.Field:
    help_text = question["label"]
    if question["kind"] == "bool":
        return StrictBooleanField(required=False, default=False, help_text=help_text)
    choices = list(question["choices"])
    if question["kind"] == "multi":
        return serializers.ListField(
            child=serializers.ChoiceField(choices=choices),
            required=False,
            default=list,
            max_length=len(choices),
            help_text=help_text,
        )
    if question.get("required"):
        return serializers.ChoiceField(choices=choices, help_text=help_text)
    return serializers.ChoiceField(
        choices=choices, required=False, allow_blank=True, default="", help_text=help_text
    )


class AnswersSerializer(StrictSerializer):
    """Answers to the current questionnaire; a question left out answers "no" or "none"."""

    def get_fields(self):
        return {question["key"]: _answer_field(question) for question in QUESTIONS}


class ClassificationProposeSerializer(StrictSerializer):
    questionnaire_version = serializers.ChoiceField(
        choices=[QUESTIONNAIRE_VERSION], default=QUESTIONNAIRE_VERSION
    )
    answers = AnswersSerializer()


class ClassificationConfirmSerializer(StrictSerializer):
    revision = serializers.IntegerField(
        min_value=1,
        max_value=2_147_483_647,
        help_text="The number of the proposal you confirm (required, as the version of an "
        "edit is): a newer one answers 409.",
    )


class ClassificationReasonSerializer(serializers.Serializer):
    question = serializers.CharField()
    reason = serializers.CharField()


class ClassificationRevisionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    questionnaire_version = serializers.IntegerField()
    answers = serializers.JSONField()
    tier = serializers.ChoiceField(choices=Tier.choices)
    role = serializers.ChoiceField(choices=Role.choices)
    flags = serializers.ListField(child=serializers.ChoiceField(choices=Flag.choices))
    reasons = ClassificationReasonSerializer(many=True)
    obligations = serializers.ListField(child=serializers.CharField(), source="obligation_codes")
    state = serializers.CharField()
    classified_by = UserRefSerializer(allow_null=True)
    classified_at = serializers.DateTimeField()
    confirmed_by = UserRefSerializer(allow_null=True)
    confirmed_at = serializers.DateTimeField(allow_null=True)


class ObligationStatusSerializer(serializers.Serializer):
    code = serializers.CharField(source="obligation.code")
    article = serializers.CharField(source="obligation.article")
    article_url = serializers.CharField(source="obligation.article_url")
    title = serializers.CharField(source="obligation.title")
    applies_from = serializers.DateField(source="obligation.applies_from")
    applies_from_source = serializers.CharField(source="obligation.applies_from_source")
    checklist_item = serializers.IntegerField(source="item.pk", allow_null=True, default=None)
    state = serializers.SerializerMethodField(
        help_text="The item's state, or not_on_a_gate_yet until its stage's gate opens."
    )
    stage = serializers.CharField(source="gate.stage.key", allow_null=True, default=None)

    def get_state(self, row) -> str:
        return row["item"].state if row["item"] is not None else "not_on_a_gate_yet"


class ClassificationSerializer(serializers.Serializer):
    """An initiative's classification: the confirmed one, a proposal waiting, the history."""

    initiative = serializers.CharField()
    tier = serializers.ChoiceField(choices=Tier.choices, allow_null=True)
    next_review_on = serializers.DateField(allow_null=True)
    review_prompt = serializers.CharField(allow_blank=True)
    current = ClassificationRevisionSerializer(allow_null=True)
    proposal = ClassificationRevisionSerializer(allow_null=True)
    revisions = ClassificationRevisionSerializer(many=True)
    obligations = ObligationStatusSerializer(many=True)
