"""Gate pages: editing checklist items in place, asking for review, voting, gatekeepers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.htmx import (
    apply_service_errors,
    is_partial_request,
    render_page_or_partial,
    vary_on_htmx,
)
from core.web import person_name
from gates.forms import ChecklistItemForm, GatekeeperForm, GateRuleForm, VoteForm
from gates.models import ChecklistItem, Gate, GateDecision, Gatekeeper
from gates.selectors import gates_awaiting
from gates.services import (
    checklist_item_update,
    gate_request_review,
    gate_rule_set,
    gate_vote,
    gatekeeper_add,
    gatekeeper_remove,
)
from initiatives.exceptions import AlreadyDecided, InvalidState, StaleEdit
from initiatives.pages import initiative_page_context
from initiatives.policy import Action, InitiativeAccess, get_for_user
from initiatives.selectors import initiatives_for_page
from teams.policy import DECIDER_ROLES
from teams.roles import has_role

ITEM_TEMPLATE = "gates/item.html"


ITEMS = ChecklistItem.objects.select_related("gate__initiative", "gate__stage", "updated_by")
GATES = Gate.objects.select_related("initiative", "stage")


def _item_context(access: InitiativeAccess, item: ChecklistItem, form=None, **extra) -> dict:
    gate = item.gate
    may_edit = gate.is_pending and access.can_edit_checklist
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


def _initiative_page(request, gate: Gate, access: InitiativeAccess, **forms):
    """The initiative page again, with a gate form's errors."""
    initiative = initiatives_for_page().get(pk=gate.initiative_id)
    context = initiative_page_context(request, initiative, access, **forms)
    return render(request, "initiatives/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def item_update(request, pk: int):
    """One checklist item: GET shows it on its own page, POST saves one small change."""
    item, access = get_for_user(request.user, ITEMS, pk=pk)
    if request.method == "GET":
        return render(request, ITEM_TEMPLATE, _item_context(access, item))
    if not access.can_edit_checklist:
        raise PermissionDenied
    form = ChecklistItemForm.for_item(item, data=request.POST)
    extra = {}
    if form.is_valid():
        data = form.cleaned_data
        try:
            saved = checklist_item_update(
                item=item,
                actor=request.user,
                state=data["state"],
                na_reason=data["na_reason"],
                evidence_url=data["evidence_url"],
                note=data["note"],
                expected_version=data["version"],
            )
        except StaleEdit as conflict:
            item = ITEMS.get(pk=conflict.current.pk)
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
            # The saved row, with the gate as read above (a checklist edit leaves it alone).
            saved.gate = item.gate
            if saved.updated_by_id == item.updated_by_id:
                saved.updated_by = item.updated_by
            item, form = saved, None
            extra["saved"] = True
            if not is_partial_request(request):
                messages.success(request, "Checklist item saved.")
                return vary_on_htmx(
                    redirect(f"{item.gate.initiative.get_absolute_url()}#item-{item.pk}")
                )
    context = _item_context(access, item, form, **extra)
    # A partial request gets the item and, out of band, the readiness bar.
    return render_page_or_partial(request, ITEM_TEMPLATE, "item-response", context)


@login_required
@require_POST
def review_request(request, pk: int):
    gate, _ = get_for_user(request.user, GATES, action=Action.REQUEST_REVIEW, pk=pk)
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
    gate, access = get_for_user(request.user, GATES, action=Action.VOTE, pk=pk)
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
            # The override box stays as the person left it; a missing justification shows
            # its field with the error whether the box is ticked or not.
            apply_service_errors(form, error)
        else:
            decision = GateDecision.objects.filter(gate=gate, round=gate.review_round).first()
            if decision is not None:
                messages.success(request, f"Decided: {decision.get_decision_display()}.")
            else:
                messages.success(request, "Vote recorded; waiting for the other gatekeepers.")
            return redirect(f"{initiative.get_absolute_url()}#gate")
    return _initiative_page(request, gate, access, vote_form=form)


@login_required
@require_POST
def gatekeeper_create(request, pk: int):
    gate, access = get_for_user(request.user, GATES, action=Action.MANAGE_GATEKEEPERS, pk=pk)
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
    return _initiative_page(request, gate, access, gatekeeper_form=form)


@login_required
@require_POST
def gatekeeper_delete(request, pk: int, user_id: int):
    gate, _access = get_for_user(request.user, GATES, action=Action.MANAGE_GATEKEEPERS, pk=pk)
    keeper = get_object_or_404(
        Gatekeeper.objects.select_related("user"), gate=gate, user_id=user_id
    )
    try:
        gatekeeper_remove(gate=gate, user=keeper.user, actor=request.user)
    except InvalidState as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{person_name(keeper.user)} is no longer a gatekeeper.")
    return redirect(f"{gate.initiative.get_absolute_url()}#gate")


@login_required
@require_POST
def rule_update(request, pk: int):
    gate, access = get_for_user(request.user, GATES, action=Action.MANAGE_GATEKEEPERS, pk=pk)
    form = GateRuleForm(request.POST)
    if form.is_valid():
        try:
            gate = gate_rule_set(gate=gate, rule=form.cleaned_data["rule"], actor=request.user)
        except InvalidState as error:
            messages.error(request, error.message)
        else:
            # The rule as saved, not as the page had it before.
            verb = "decides" if gate.rule == Gate.Rule.ANY else "decide"
            messages.success(request, f"Rule: {gate.get_rule_display().lower()} {verb}.")
        return redirect(f"{gate.initiative.get_absolute_url()}#gate")
    return _initiative_page(request, gate, access, rule_form=form)


@login_required
@require_GET
def awaiting(request):
    """Gates in review that wait for the current user's vote."""
    gates = list(gates_awaiting(request.user))
    template = "gates/awaiting.html"
    return render_page_or_partial(request, template, "awaiting-list", {"gates": gates})


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
