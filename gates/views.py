"""Gate pages: editing checklist items in place, asking for review, voting, gatekeepers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.htmx import apply_service_errors, template_for
from gates.forms import ChecklistItemForm, GatekeeperForm, GateRuleForm, VoteForm
from gates.models import ChecklistItem, Gate, GateDecision
from gates.selectors import gates_awaiting
from gates.services import (
    checklist_item_update,
    gate_request_review,
    gate_rule_set,
    gate_vote,
    gatekeeper_add,
)
from initiatives.exceptions import AlreadyDecided, InvalidState, StaleEdit
from initiatives.pages import initiative_page_context
from initiatives.policy import Action, can
from initiatives.selectors import initiative_for_page
from teams.policy import DECIDER_ROLES
from teams.roles import has_role

ITEM_TEMPLATE = "gates/item.html"


def _readable(user, initiative) -> None:
    """404 unless the user may see the initiative (outsiders learn nothing)."""
    if not can(user, Action.VIEW, initiative):
        raise Http404("No such item.")


def _get_item(user, pk: int) -> ChecklistItem:
    item = (
        ChecklistItem.objects.select_related("gate__initiative", "gate__stage", "updated_by")
        .filter(pk=pk)
        .first()
    )
    if item is None:
        raise Http404("No such item.")
    _readable(user, item.gate.initiative)
    return item


def _get_gate(user, pk: int, action: Action) -> Gate:
    gate = Gate.objects.select_related("initiative", "stage").filter(pk=pk).first()
    if gate is None:
        raise Http404("No such gate.")
    _readable(user, gate.initiative)
    if not can(user, action, gate if action == Action.VOTE else gate.initiative):
        raise PermissionDenied
    return gate


def _item_context(user, item: ChecklistItem, form=None, **extra) -> dict:
    gate = item.gate
    may_edit = gate.is_pending and can(user, Action.EDIT_CHECKLIST, item)
    if may_edit and form is None:
        form = ChecklistItemForm.for_item(item)
    item.form = form if may_edit else None
    cleared, required = gate.readiness_counts()
    return {
        "item": item,
        "gate": gate,
        "initiative": gate.initiative,
        "readiness": (cleared, required),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def item_update(request, pk: int):
    """One checklist item: GET shows it on its own page, POST saves one small change."""
    item = _get_item(request.user, pk)
    if request.method == "GET":
        return render(request, ITEM_TEMPLATE, _item_context(request.user, item))
    if not can(request.user, Action.EDIT_CHECKLIST, item):
        raise PermissionDenied
    form = ChecklistItemForm.for_item(item, data=request.POST)
    extra = {}
    if form.is_valid():
        data = form.cleaned_data
        try:
            item = checklist_item_update(
                item=item,
                actor=request.user,
                state=data["state"],
                na_reason=data["na_reason"],
                evidence_url=data["evidence_url"],
                note=data["note"],
                expected_version=data["version"],
            )
        except StaleEdit as conflict:
            item = _get_item(request.user, conflict.current.pk)
            form = None  # show the item as it is now, with its new version
            extra["conflict"] = conflict.message
            extra["conflict_by"] = item.updated_by
        except InvalidState as error:
            item.gate.refresh_from_db()
            form = None
            extra["refused"] = error.message
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            item = _get_item(request.user, item.pk)
            form = None
            extra["saved"] = True
            if not request.htmx:
                messages.success(request, "Checklist item saved.")
                return redirect(f"{item.gate.initiative.get_absolute_url()}#item-{item.pk}")
    context = _item_context(request.user, item, form, **extra)
    if request.htmx:
        # The item, and the readiness bar out of band.
        return render(request, f"{ITEM_TEMPLATE}#item-response", context)
    return render(request, ITEM_TEMPLATE, context)


@login_required
@require_POST
def review_request(request, pk: int):
    gate = _get_gate(request.user, pk, Action.REQUEST_REVIEW)
    try:
        gate_request_review(gate=gate, actor=request.user)
    except InvalidState as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Review requested: the gatekeepers have been asked to decide.")
    return redirect(f"{gate.initiative.get_absolute_url()}#gate")


@login_required
@require_POST
def vote(request, pk: int):
    """A gatekeeper's vote. Errors come back next to the fields on the initiative page."""
    gate = _get_gate(request.user, pk, Action.VOTE)
    initiative = gate.initiative
    form = VoteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            gate = gate_vote(
                gate=gate,
                actor=request.user,
                decision=data["decision"],
                rationale=data["rationale"],
                override_justification=data["override_justification"],
            )
        except AlreadyDecided as error:
            messages.error(request, f"Not recorded: this gate is already decided. {error.message}")
            return redirect(f"{initiative.get_absolute_url()}#gate")
        except InvalidState as error:
            messages.error(request, error.message)
            return redirect(f"{initiative.get_absolute_url()}#gate")
        except ValidationError as error:
            apply_service_errors(form, error)
            if "override_justification" in form.errors:
                # Show the override box checked, so the justification field is visible.
                form.data = form.data.copy()
                form.data["override"] = "on"
        else:
            decision = GateDecision.objects.filter(gate=gate, round=gate.review_round).first()
            if decision is not None:
                messages.success(request, f"Decided: {decision.get_decision_display()}.")
            else:
                messages.success(request, "Vote recorded; waiting for the other gatekeepers.")
            return redirect(f"{initiative.get_absolute_url()}#gate")
    page = initiative_for_page(request.user, initiative.key)
    context = initiative_page_context(request, page, vote_form=form)
    return render(request, "initiatives/detail.html", context)


@login_required
@require_POST
def gatekeeper_create(request, pk: int):
    gate = _get_gate(request.user, pk, Action.MANAGE_GATEKEEPERS)
    form = GatekeeperForm(request.POST, gate=gate)
    if form.is_valid():
        try:
            gatekeeper_add(gate=gate, user=form.cleaned_data["user"], actor=request.user)
        except InvalidState as error:
            messages.error(request, error.message)
        else:
            user = form.cleaned_data["user"]
            messages.success(request, f"{user.get_full_name() or user} is now a gatekeeper.")
        return redirect(f"{gate.initiative.get_absolute_url()}#gate")
    page = initiative_for_page(request.user, gate.initiative.key)
    context = initiative_page_context(request, page, gatekeeper_form=form)
    return render(request, "initiatives/detail.html", context)


@login_required
@require_POST
def rule_update(request, pk: int):
    gate = _get_gate(request.user, pk, Action.MANAGE_GATEKEEPERS)
    form = GateRuleForm(request.POST)
    if form.is_valid():
        try:
            gate_rule_set(gate=gate, rule=form.cleaned_data["rule"], actor=request.user)
        except InvalidState as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Rule: {gate.get_rule_display().lower()} decides.")
        return redirect(f"{gate.initiative.get_absolute_url()}#gate")
    page = initiative_for_page(request.user, gate.initiative.key)
    context = initiative_page_context(request, page, rule_form=form)
    return render(request, "initiatives/detail.html", context)


@login_required
@require_GET
def awaiting(request):
    """Gates in review that wait for the current user's vote."""
    gates = list(gates_awaiting(request.user))
    template = "gates/awaiting.html"
    return render(request, template_for(request, template, "awaiting-list"), {"gates": gates})


@login_required
@require_GET
def awaiting_count(request):
    """The nav link with its count; fetched by htmx after the page loads."""
    user = request.user
    count = Gate.objects.awaiting_vote_from(user).count()
    if not count and not has_role(user, DECIDER_ROLES):
        return HttpResponse("")  # nobody asks this user to decide: the link goes away
    # The link is loaded into another page: that page's address says whether it is current.
    current = request.htmx.current_url_abs_path if request.htmx else ""
    context = {"awaiting_count": count, "is_current": current == reverse("gates:awaiting")}
    return render(request, "gates/awaiting.html#nav-link", context)
