"""The questionnaire as a form: one field per question of the current version."""

from __future__ import annotations

from django import forms

from compliance.classifier import QUESTIONS
from core.forms import BoundedForm, VersionField

NONE_LABEL = {
    "prohibited_practice": "None of these",
    "annex_iii_area": "None of these areas",
    "essential_service_use": "Not an essential service, or none of these",
    "exception": "No exception applies",
}


class QuestionnaireForm(BoundedForm):
    """Answers to the questionnaire; `answers()` gives them in the classifier's shape."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for question in QUESTIONS:
            key, kind, label = question["key"], question["kind"], question["label"]
            if kind == "bool":
                field = forms.BooleanField(required=False, label=label)
            elif kind == "multi":
                field = forms.MultipleChoiceField(
                    required=False,
                    label=label,
                    choices=list(question["choices"].items()),
                    widget=forms.CheckboxSelectMultiple,
                )
            elif question.get("required"):
                field = forms.ChoiceField(
                    label=label,
                    choices=list(question["choices"].items()),
                    widget=forms.RadioSelect,
                )
            else:
                field = forms.ChoiceField(
                    required=False,
                    label=label,
                    choices=[("", NONE_LABEL.get(key, "None")), *question["choices"].items()],
                )
            self.fields[key] = field

    def answers(self) -> dict:
        return {question["key"]: self.cleaned_data[question["key"]] for question in QUESTIONS}


class ConfirmForm(BoundedForm):
    """The proposal the confirmer saw: required, so a newer one is never confirmed unseen."""

    revision = VersionField(min_value=1)
