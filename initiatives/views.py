import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gates.forms import ChecklistItemForm, GatekeeperForm, GateRuleForm, VoteForm
from gates.services import (
    initiative_resume,
    initiative_start,
    measurement_record,
    target_create,
)
from initiatives import selectors
from initiatives.exceptions import InvalidState, StaleEdit
from initiatives.forms import (
    ALL_STATUSES,
    BoardFilterForm,
    BusinessCaseForm,
    InitiativeForm,
    MeasurementForm,
    MembershipForm,
    TargetForm,
)
from initiatives.models import Framework, Initiative, Membership, Target
from initiatives.policy import Action, can
from initiatives.services import (
    business_case_update,
    initiative_update,
    membership_add,
    membership_remove,
)
from teams.models import Team
from teams.roles import StageRole

logger = logging.getLogger(__name__)

INITIATIVE_FORM_FIELDS = ["name", "summary", "problem", "team", "owner", "sponsor"]


def _database_health() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("Health check: database unreachable", exc_info=True)
        # The class name only: the message may carry host names or credentials.
        return {"ok": False, "vendor": connection.vendor, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor}


def _broker_health() -> dict:
    url = settings.REDIS_URL
    if not url:
        # No broker configured: tasks run in-process, so there is nothing to check.
        return {"ok": None, "url_configured": False}
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except Exception as exc:
        logger.warning("Health check: broker unreachable", exc_info=True)
        return {"ok": False, "url_configured": True, "error": type(exc).__name__}
    finally:
        client.close()
    return {"ok": True, "url_configured": True}


_ITEM_STATES = {
    "done": "ticked “{subject}” done",
    "not_applicable": "marked “{subject}” not applicable",
    "open": "reopened “{subject}”",
}
_DECISIONS = {
    "go": "Go",
    "conditional_go": "Conditional go",
    "hold": "Hold",
    "recycle": "Recycle",
    "stop": "Stop",
}


def _describe_in_words(activity) -> str | None:
    """The entries people read most, as people say them; None for the general rule."""
    subject = activity.object_repr
    if activity.verb == "item.changed" and activity.field == "state":
        phrase = _ITEM_STATES.get(activity.after)
        return phrase.format(subject=subject) if phrase else None
    if activity.verb == "gate.decided":
        decision = _DECISIONS.get(activity.after, activity.after)
        reason = f": “{activity.message}”" if activity.message else ""
        return f"decided {decision} on the {subject.split(' ', 1)[-1]}{reason}"
    if activity.verb == "gate.voted":
        decision = _DECISIONS.get(activity.after, activity.after)
        reason = f": “{activity.message}”" if activity.message else ""
        return f"voted {decision.lower()}{reason}"
    if activity.verb == "gate.review_requested":
        return f"asked for a review of the {subject.split(' ', 1)[-1]}"
    return None


def _describe_activity(activity) -> str:
    """One readable line for the timeline, from the entry's message or its verb."""
    in_words = _describe_in_words(activity)
    if in_words:
        return in_words
    if activity.message:
        return activity.message
    subject = activity.object_repr
    if activity.field:
        field = activity.field.replace("_", " ")
        if _is_short(activity.before) and _is_short(activity.after):
            before, after = activity.before or "—", activity.after or "—"
            return f"changed {field} of {subject}: {before} → {after}"
        return f"changed {field} of {subject}"
    noun, _, action = activity.verb.partition(".")
    if not action:
        return f"{activity.verb} {subject}"
    return f"{action.replace('_', ' ')} {noun.replace('_', ' ')} {subject}"


def _is_short(value) -> bool:
    return value is None or (isinstance(value, str | int | float) and len(str(value)) <= 40)


@never_cache
@require_GET
def healthz(request):
    """Liveness for load balancers: 503 only when the database is down.

    A broker outage delays reminders and webhooks but the web app keeps
    serving, so it reports "degraded" with a 200.
    """
    database = _database_health()
    broker = _broker_health()
    healthy = database["ok"] and broker["ok"] is not False
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "database": database, "broker": broker},
        status=200 if database["ok"] else 503,
    )


# --- Access -----------------------------------------------------------------------------


def get_initiative_for_user(user, key: str, action: Action | None = None) -> Initiative:
    """The initiative for a page: 404 for those who cannot see it, 403 for readers who act."""
    initiative = selectors.initiative_for_page(user, key)
    if initiative is None:
        raise Http404("No such initiative.")
    if action is not None and not can(user, action, initiative):
        raise PermissionDenied
    return initiative


def template_for(request, template: str, name: str) -> str:
    """The page, or its named partial for an HTMX request (not boosted, not a history restore)."""
    htmx = request.htmx
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        return f"{template}#{name}"
    return template


# --- The portfolio board ------------------------------------------------------------------


def _board_filters(request):
    user = request.user
    frameworks = selectors.board_frameworks(user)
    visible = Initiative.objects.visible_to(user)
    teams = Team.objects.filter(initiatives__in=visible).distinct().order_by("name")
    owners = (
        get_user_model()
        .objects.filter(owned_initiatives__in=visible)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
    form = BoardFilterForm(request.GET, frameworks=frameworks, teams=teams, owners=owners)
    form.is_valid()
    slug = form.value("framework")
    framework = next((f for f in frameworks if f.slug == slug), None)
    if framework is None and slug:
        framework = Framework.objects.filter(slug=slug).first()
    if framework is None:
        framework = next((f for f in frameworks if f.is_default), None) or (
            frameworks[0] if len(frameworks) == 1 else Framework.default()
        )
    status = form.value("status", Initiative.Status.ACTIVE)
    filters = selectors.BoardFilters(
        framework=framework,
        team=form.value("team"),
        owner=form.value("owner"),
        status="" if status == ALL_STATUSES else status,
        query=form.value("q").strip(),
        overdue=bool(form.value("overdue", False)),
        stalled=bool(form.value("stalled", False)),
    )
    return form, frameworks, filters


def _positive_int(value, default: int = 1, maximum: int = 1000) -> int:
    try:
        return min(max(int(value), 1), maximum)
    except (TypeError, ValueError):
        return default


@login_required
@require_GET
def board(request):
    """The portfolio board: one column per stage of the chosen framework."""
    form, frameworks, filters = _board_filters(request)
    page_size = settings.TOLLGATE_BOARD_PAGE_SIZE
    page = _positive_int(request.GET.get("page"))
    stages = list(filters.framework.stages.order_by("order")) if filters.framework else []
    shown_stage = next((stage for stage in stages if stage.key == request.GET.get("show")), None)
    template = "initiatives/board.html"
    htmx = request.htmx
    if shown_stage is not None and htmx and not htmx.history_restore_request:
        # "Show more" appends one page of one column.
        cards, has_more = selectors.column_page(
            user=request.user, filters=filters, stage=shown_stage, page=page, page_size=page_size
        )
        context = {"stage": shown_stage, "cards": cards, "has_more": has_more, "page": page}
        return render(request, f"{template}#column-page", context)
    columns = selectors.board_columns(
        user=request.user,
        filters=filters,
        stages=stages,
        page_size=page_size,
        expanded_stage=shown_stage,
        expanded_pages=page,
    )
    context = {
        "form": form,
        "frameworks": frameworks,
        "filters": filters,
        "columns": columns,
        "total": sum(column.total for column in columns),
        "page_size": page_size,
        "can_create": can(request.user, Action.CREATE),
    }
    return render(request, template_for(request, template, "board"), context)


# --- The initiative page ------------------------------------------------------------------


SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 120, 28, 3


def _sparkline(target) -> dict | None:
    """Coordinates of a small SVG line of the target's recent values, with its threshold."""
    values = [value for _, value in target.series]
    if not values:
        return None
    low = min([*values, target.threshold])
    high = max([*values, target.threshold])
    span = (high - low) or 1.0
    step = (SPARK_WIDTH - 2 * SPARK_PAD) / max(len(values) - 1, 1)

    def y(value: float) -> float:
        return round(
            SPARK_HEIGHT - SPARK_PAD - (value - low) / span * (SPARK_HEIGHT - 2 * SPARK_PAD), 1
        )

    points = [(round(SPARK_PAD + index * step, 1), y(value)) for index, value in enumerate(values)]
    return {
        "points": " ".join(f"{x},{y_}" for x, y_ in points),
        "last": points[-1],
        "threshold_y": y(target.threshold),
        "width": SPARK_WIDTH,
        "height": SPARK_HEIGHT,
        "count": len(values),
    }


def _describe_all(activities) -> None:
    for activity in activities:
        activity.description = _describe_activity(activity)


def _stage_steps(initiative, transitions) -> list[dict]:
    """Every stage of the framework with when the initiative entered it (if it did)."""
    entered = {}
    for transition in transitions:
        entered[transition.to_stage_id] = transition
    steps = []
    for stage in initiative.framework.stages.all():
        if stage.order < initiative.stage.order:
            position = "past"
        elif stage.pk == initiative.stage_id:
            position = "current"
        else:
            position = "future"
        steps.append({"stage": stage, "position": position, "transition": entered.get(stage.pk)})
    return steps


def initiative_page_context(request, initiative, **forms) -> dict:
    """Everything the initiative page shows; the gate views reuse it to show form errors."""
    user = request.user
    gate = selectors.current_gate(initiative)
    memberships = list(initiative.memberships.all())
    transitions = selectors.stage_timeline(initiative)
    activities, has_older = selectors.activity_page(initiative, 1)
    _describe_all(activities)
    targets = selectors.targets_with_series(initiative)
    for target in targets:
        target.sparkline = _sparkline(target)
    role_labels = dict(StageRole.choices)
    can_edit_checklist = can(user, Action.EDIT_CHECKLIST, initiative)
    context = {
        "initiative": initiative,
        "gate": gate,
        "business_case": getattr(initiative, "business_case", None),
        "memberships": memberships,
        "composition_gap": [
            role_labels.get(role, role) for role in initiative.composition_gap(memberships)
        ],
        "steps": _stage_steps(initiative, transitions),
        "transitions": transitions,
        "decisions": selectors.gate_decisions(initiative),
        "targets": targets,
        "activities": activities,
        "has_older": has_older,
        "activity_page": 1,
        "can_edit": can(user, Action.EDIT, initiative),
        "can_edit_checklist": can_edit_checklist,
        "can_measure": can(user, Action.RECORD_MEASUREMENT, initiative),
        "measurement_form": MeasurementForm(),
    }
    if gate is not None:
        items = list(gate.items.all())
        cleared = sum(1 for item in items if item.required and item.is_cleared)
        required = sum(1 for item in items if item.required)
        open_required = required - cleared
        votes = list(gate.votes.select_related("voter").filter(round=gate.review_round))
        has_voted = any(vote.voter_id == user.pk for vote in votes)
        may_vote = (
            gate.state == gate.State.IN_REVIEW and not has_voted and can(user, Action.VOTE, gate)
        )
        if can_edit_checklist and gate.is_pending:
            for item in items:
                item.form = ChecklistItemForm.for_item(item)
        context.update(
            {
                "items": items,
                "readiness": (cleared, required),
                "open_required": open_required,
                "votes": votes,
                "may_vote": may_vote,
                "vote_form": forms.get("vote_form") or (VoteForm() if may_vote else None),
                "can_request_review": gate.state == gate.State.OPEN
                and initiative.status == Initiative.Status.ACTIVE
                and can(user, Action.REQUEST_REVIEW, initiative),
                "can_manage_gatekeepers": gate.is_pending
                and can(user, Action.MANAGE_GATEKEEPERS, gate),
            }
        )
        if context["can_manage_gatekeepers"]:
            context["gatekeeper_form"] = forms.get("gatekeeper_form") or GatekeeperForm(gate=gate)
            context["rule_form"] = forms.get("rule_form") or GateRuleForm(
                initial={"rule": gate.rule}
            )
    return context


@login_required
@require_GET
def initiative_detail(request, key):
    initiative = get_initiative_for_user(request.user, key)
    context = initiative_page_context(request, initiative)
    return render(request, "initiatives/detail.html", context)


@login_required
@require_GET
def initiative_activity(request, key):
    """Older entries of the activity timeline; HTMX appends them below the newer ones."""
    initiative = get_initiative_for_user(request.user, key)
    page = _positive_int(request.GET.get("page"))
    activities, has_older = selectors.activity_page(initiative, page)
    _describe_all(activities)
    context = {
        "initiative": initiative,
        "activities": activities,
        "has_older": has_older,
        "activity_page": page,
    }
    template = "initiatives/activity.html"
    return render(request, template_for(request, template, "activity-page"), context)


# --- Creating and editing -------------------------------------------------------------------


def apply_service_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError next to the form's fields (or on top when unknown)."""
    if hasattr(error, "error_dict"):
        for field_name, errors in error.message_dict.items():
            form.add_error(field_name if field_name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _form_page(request, form, *, title, initiative=None, submit="Save", intro=""):
    context = {
        "form": form,
        "title": title,
        "initiative": initiative,
        "submit": submit,
        "intro": intro,
    }
    return render(request, "initiatives/form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def initiative_create(request):
    if not can(request.user, Action.CREATE):
        raise PermissionDenied
    form = InitiativeForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            initiative = initiative_start(
                actor=request.user,
                name=data["name"],
                summary=data["summary"],
                problem=data["problem"],
                team=data["team"],
                owner=data["owner"],
                sponsor=data["sponsor"],
                framework=data["framework"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"{initiative.key} started in {initiative.stage.name}.")
            return redirect(initiative)
    return _form_page(
        request,
        form,
        title="Start an initiative",
        submit="Start initiative",
        intro="It starts in the first stage of its framework, with that stage's exit gate open.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def initiative_edit(request, key):
    initiative = get_initiative_for_user(request.user, key, Action.EDIT)
    version = initiative.version
    form = InitiativeForm(request.POST or None, instance=initiative)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in INITIATIVE_FORM_FIELDS}
        try:
            initiative = initiative_update(
                initiative=initiative,
                actor=request.user,
                expected_version=_positive_int(request.POST.get("version"), version, 10**9),
                **fields,
            )
        except StaleEdit:
            form.add_error(
                None,
                "Somebody changed this initiative since you opened the form. "
                "Reload the page to see their change, then edit again.",
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect(initiative)
    form.version = version
    return _form_page(request, form, title=f"Edit {initiative.key}", initiative=initiative)


@login_required
@require_http_methods(["GET", "POST"])
def business_case_edit(request, key):
    initiative = get_initiative_for_user(request.user, key, Action.EDIT)
    case = getattr(initiative, "business_case", None)
    form = BusinessCaseForm(request.POST or None, instance=case)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        expected_revision = fields.pop("revision")
        try:
            business_case_update(
                initiative=initiative,
                actor=request.user,
                expected_revision=expected_revision,
                **fields,
            )
        except StaleEdit as conflict:
            # Show the figures as they are now (and their revision), with the reason on top.
            fresh = BusinessCaseForm(instance=conflict.current)
            form = BusinessCaseForm(
                {name: fresh[name].value() for name in fresh.fields}, instance=conflict.current
            )
            form.is_valid()
            form.add_error(None, conflict.message)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Business case saved; the previous figures are kept.")
            return redirect(initiative)
    return _form_page(
        request,
        form,
        title=f"Business case of {initiative.key}",
        initiative=initiative,
        intro="Every save keeps a revision: who changed which figure, and when.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def target_add(request, key):
    initiative = get_initiative_for_user(request.user, key, Action.EDIT)
    form = TargetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            target_create(
                initiative=initiative,
                actor=request.user,
                metric_key=data["metric_key"],
                threshold=data["threshold"],
                comparator=data["comparator"] or None,
                category=data["category"] or None,
                unit=data["unit"] or None,
                description=data["description"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Target {data['metric_key']} added to the production bar.")
            return redirect(f"{initiative.get_absolute_url()}#production-bar")
    return _form_page(
        request,
        form,
        title=f"Add a production-bar target to {initiative.key}",
        initiative=initiative,
        submit="Add target",
        intro="Checklist items that name this metric will follow its measurements.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def measurement_add(request, key, target_id):
    initiative = get_initiative_for_user(request.user, key)
    target = get_object_or_404(Target, pk=target_id, initiative=initiative)
    if not can(request.user, Action.RECORD_MEASUREMENT, initiative):
        raise PermissionDenied
    form = MeasurementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            measurement_record(
                target=target,
                value=form.cleaned_data["value"],
                measured_at=form.cleaned_data["measured_at"],
                actor=request.user,
            )
        except ValidationError as error:
            # The service reports row errors as a list; they belong to the value or date.
            form.add_error(None, error.messages)
        else:
            messages.success(request, f"Recorded {form.cleaned_data['value']:g} for {target}.")
            return redirect(f"{initiative.get_absolute_url()}#target-{target.pk}")
    return _form_page(
        request,
        form,
        title=f"Record a measurement of {target.metric_key}",
        initiative=initiative,
        submit="Record",
        intro=f"Target: {target}. Latest: "
        + (f"{target.latest_value:g}" if target.latest_value is not None else "none yet")
        + ".",
    )


@login_required
@require_http_methods(["GET", "POST"])
def membership_add_view(request, key):
    """Put a person on the initiative's team in a stage role."""
    initiative = get_initiative_for_user(request.user, key, Action.EDIT)
    form = MembershipForm(request.POST or None, initiative=initiative)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            membership_add(
                initiative=initiative,
                actor=request.user,
                user=data["user"],
                stage_role=data["stage_role"],
                allocation_percent=data["allocation_percent"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"{data['user']} joined the team of {initiative.key}.")
            return redirect(initiative)
    return _form_page(
        request,
        form,
        title=f"Add a person to {initiative.key}",
        initiative=initiative,
        submit="Add to the team",
        intro="The roles the current and next stage recommend are listed on the initiative page.",
    )


@login_required
@require_POST
def membership_remove_view(request, key, membership_id):
    """Take a person off the initiative's team."""
    initiative = get_initiative_for_user(request.user, key, Action.EDIT)
    membership = get_object_or_404(Membership, pk=membership_id, initiative=initiative)
    membership_remove(membership=membership, actor=request.user)
    messages.success(request, f"{membership.user} left the team of {initiative.key}.")
    return redirect(initiative)


@login_required
@require_POST
def initiative_resume_view(request, key):
    """Take an initiative off hold; its gate reopens with a new due date."""
    initiative = get_initiative_for_user(request.user, key, Action.EDIT)
    try:
        initiative_resume(initiative=initiative, actor=request.user)
    except InvalidState as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{initiative.key} is active again; its gate is open.")
    return redirect(initiative)
