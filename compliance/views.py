"""The classification page of an initiative, confirming a proposal, and the panel on the
initiative page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods, require_POST

from compliance import selectors
from compliance.classifier import QUESTIONS
from compliance.forms import ConfirmForm, QuestionnaireForm
from compliance.models import Tier
from compliance.policy import may_confirm
from compliance.services import classification_confirm, classification_propose
from core.htmx import apply_service_errors
from initiatives import selectors as initiative_selectors
from initiatives.exceptions import ServiceError
from initiatives.policy import Action, get_for_user

QUESTION_LABELS = {question["key"]: question["label"] for question in QUESTIONS}


def _initiative(request, key: str, action: Action | None = None):
    return get_for_user(
        request.user, initiative_selectors.initiatives_for_page(), action=action, key=key
    )


def panel_context(request, initiative, access) -> dict:
    page = selectors.classification_page(initiative)
    return {
        "initiative": initiative,
        "classification": page.current,
        "proposal": page.proposal,
        "revisions": page.revisions,
        "obligations": page.obligations,
        "can_classify": access.can_edit,
        "can_confirm": may_confirm(request.user),
        "question_labels": QUESTION_LABELS,
        "tiers": Tier,
    }


def render_classification_panel(request, initiative, access) -> str:
    """The panel as HTML, for the initiative page's template tag."""
    context = panel_context(request, initiative, access)
    return render_to_string("compliance/panel.html", context, request=request)


@login_required
@require_http_methods(["GET", "POST"])
def classification(request, key):
    """The questionnaire (for those who edit the initiative) and the classification's history."""
    initiative, access = _initiative(request, key)
    page = selectors.classification_page(initiative)
    latest = page.revisions[0] if page.revisions else None
    form = QuestionnaireForm(initial=latest.answers if latest else None)
    if request.method == "POST":
        if not access.can_edit:
            raise PermissionDenied("Only those who edit the initiative classify it.")
        form = QuestionnaireForm(request.POST)
        if form.is_valid():
            try:
                classification_propose(
                    initiative=initiative, actor=request.user, answers=form.answers()
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    "Classification proposed. A portfolio admin or the compliance role "
                    "confirms it; its obligations then join the gates.",
                )
                return redirect(f"{initiative.get_absolute_url()}#classification")
    context = panel_context(request, initiative, access)
    context.update(form=form, can_classify=access.can_edit)
    return render(request, "compliance/classification.html", context)


@login_required
@require_POST
def classification_confirm_view(request, key):
    """Confirm the proposal waiting (portfolio admins and the compliance role)."""
    initiative, _ = _initiative(request, key)
    if not may_confirm(request.user):
        raise PermissionDenied("Only a portfolio admin or the compliance role confirms.")
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["revision"][0])
        return redirect(f"{initiative.get_absolute_url()}#classification")
    try:
        confirmed = classification_confirm(
            initiative=initiative,
            actor=request.user,
            revision_number=form.cleaned_data["revision"],
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Classification confirmed: {confirmed.get_tier_display()}.")
    return redirect(f"{initiative.get_absolute_url()}#classification")
