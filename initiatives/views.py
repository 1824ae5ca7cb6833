from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.htmx import (
    apply_service_errors,
    is_partial_request,
    render_page_or_partial,
    vary_on_htmx,
)
from core.versions import portfolio_cached
from core.web import positive_int
from gates import selectors as gate_selectors
from gates.describing import describe_all
from gates.services import (
    initiative_resume,
    initiative_start,
    initiative_update,
    measurement_record,
    target_create,
)
from initiatives import selectors
from initiatives.exceptions import InvalidState, StaleEdit
from initiatives.filters import InitiativeFilters
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
from initiatives.pages import initiative_page_context
from initiatives.policy import Action, can, get_for_user, sight_key
from initiatives.services import business_case_update, membership_add, membership_remove

# --- Access -----------------------------------------------------------------------------


def _initiative(request, key: str, action: Action | None = None):
    """(initiative, access) for a page: 404 for those who cannot see it, 403 for readers who
    try `action`."""
    return get_for_user(request.user, selectors.initiatives_for_page(), action=action, key=key)


# --- The portfolio board ------------------------------------------------------------------


def _board_filters(request):
    user = request.user
    frameworks, teams, owners = selectors.board_choices(user)
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
    filters = InitiativeFilters(
        framework=framework,
        team=form.value("team"),
        owner=form.value("owner"),
        status="" if status == ALL_STATUSES else status,
        query=form.value("q").strip(),
        # The board's checkboxes narrow to the flagged ones, or leave the flag alone.
        overdue=True if form.value("overdue", False) else None,
        stalled=True if form.value("stalled", False) else None,
        ai_tier=form.value("ai_tier"),
    )
    return form, frameworks, filters


# A safety net only, as for the ranking: every change moves the portfolio version on.
BOARD_HTML_SECONDS = 15 * 60


@login_required
@require_GET
def board(request):
    """The portfolio board: one column per stage of the chosen framework."""
    form, frameworks, filters = _board_filters(request)
    page_size = settings.TOLLGATE_BOARD_PAGE_SIZE
    page = positive_int(request.GET.get("page"))
    template = "initiatives/board.html"
    shown_stage = None
    if show := request.GET.get("show"):
        if filters.framework:
            shown_stage = filters.framework.stages.filter(key=show[:60]).first()
        if shown_stage is None and is_partial_request(request):
            # "Show more" of a column that is not there: the whole board used to be
            # swapped into the column. A plain page load just shows the board.
            return vary_on_htmx(
                HttpResponse(
                    "That column is not on this board any more; reload the page.",
                    status=400,
                    content_type="text/plain; charset=utf-8",
                )
            )
    if shown_stage is not None and is_partial_request(request):
        # "Show more" appends one page of one column.
        cards, has_more = gate_selectors.column_page(
            user=request.user, filters=filters, stage=shown_stage, page=page, page_size=page_size
        )
        # The column's total rides along from the first page (`of`), for the button's
        # "(shown of total)" only: counting the column again on every page would cost a
        # query over the whole column.
        of = positive_int(request.GET.get("of"), default=0, maximum=10**9)
        context = {
            "stage": shown_stage,
            "cards": cards,
            "has_more": has_more,
            "page": page,
            "of": of,
            "shown": min(page * page_size, of),
        }
        return vary_on_htmx(render(request, f"{template}#column-page", context))
    context = {
        "form": form,
        "frameworks": frameworks,
        "filters": filters,
        "page_size": page_size,
        "can_create": can(request.user, Action.CREATE),
        "can_import": can(request.user, Action.IMPORT_PORTFOLIO),
    }

    def columns_html() -> str:
        stages = list(filters.framework.stages.order_by("order")) if filters.framework else []
        columns = gate_selectors.board_columns(
            user=request.user,
            filters=filters,
            stages=stages,
            page_size=page_size,
            expanded_stage=shown_stage,
            expanded_pages=page,
        )
        section = {**context, "columns": columns, "total": sum(c.total for c in columns)}
        return render_to_string(f"{template}#board", section, request=request)

    board_html = _board_html(request, filters, context, columns_html)
    if is_partial_request(request):
        return vary_on_htmx(HttpResponse(board_html))
    return vary_on_htmx(render(request, template, {**context, "board_html": board_html}))


def _board_html(request, filters, context, columns_html) -> str:
    """The board's columns as HTML, rendered once per version of the portfolio, day,
    query string and sight of the portfolio (`sight_key`), and then shared.

    Between two changes every executive's board is the same, and so is each product
    manager's own: the counts and ranking were already cached, but each request still
    computed the 80 shown cards' figures and rendered them, which is what 20 concurrent
    boards queued behind on two cores. The card figures (readiness, production bar,
    comments) all change through a service that writes the activity log, and so move
    the version on when they commit.
    """
    scope = (
        "board-html",
        sight_key(request.user),
        timezone.localdate(),
        filters.cache_key(),
        sorted(request.GET.lists()),
        context["page_size"],
        context["can_create"],
        context["can_import"],
    )
    html = portfolio_cached(scope, columns_html, BOARD_HTML_SECONDS)
    return mark_safe(html)


# --- The initiative page ------------------------------------------------------------------


@login_required
@require_GET
def initiative_detail(request, key):
    initiative, access = _initiative(request, key)
    context = initiative_page_context(request, initiative, access)
    return render(request, "initiatives/detail.html", context)


@login_required
@require_GET
def initiative_activity(request, key):
    """Older entries of the activity timeline; HTMX appends them below the newer ones."""
    initiative, _ = _initiative(request, key)
    page = positive_int(request.GET.get("page"))
    activities, has_older = selectors.activity_page(initiative, page)
    describe_all(activities)
    context = {
        "initiative": initiative,
        "activities": activities,
        "has_older": has_older,
        "activity_page": page,
    }
    template = "initiatives/activity.html"
    return render_page_or_partial(request, template, "activity-page", context)


# --- Creating and editing -------------------------------------------------------------------


def _form_page(request, form, *, title, initiative=None, submit="Save", intro=""):
    context = {
        "form": form,
        "title": title,
        "initiative": initiative,
        "submit": submit,
        "intro": intro,
    }
    return render(request, "initiatives/form.html", context)


def _keeps_sight_of(user, initiative) -> None:
    """The landing rule: a create or edit that would leave its author unable to see the
    initiative is refused (the caller rolls it back), so a successful save never ends on a
    404. Portfolio admins and readers of everything see every initiative."""
    if not can(user, Action.VIEW, initiative):
        raise ValidationError(
            {
                "owner": (
                    f"You would not see this initiative afterwards: you are not its owner "
                    f"and not on {initiative.team}. Make yourself the owner, choose a team "
                    f"you are on, or ask a portfolio admin."
                )
            }
        )


@login_required
@require_http_methods(["GET", "POST"])
def initiative_create(request):
    if not can(request.user, Action.CREATE):
        raise PermissionDenied
    form = InitiativeForm(request.POST or None, creating=True, creator=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
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
                _keeps_sight_of(request.user, initiative)
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
    initiative, _ = _initiative(request, key, Action.EDIT)
    form = InitiativeForm(request.POST or None, instance=initiative)
    if request.method == "POST" and form.is_valid():
        # The edit form holds a subset of Initiative.EDITABLE_FIELDS (no framework).
        fields = dict(form.cleaned_data)
        expected_version = fields.pop("version")
        try:
            with transaction.atomic():
                initiative = initiative_update(
                    initiative=initiative,
                    actor=request.user,
                    expected_version=expected_version,
                    **fields,
                )
                _keeps_sight_of(request.user, initiative)
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
    return _form_page(request, form, title=f"Edit {initiative.key}", initiative=initiative)


@login_required
@require_http_methods(["GET", "POST"])
def business_case_edit(request, key):
    initiative, _ = _initiative(request, key, Action.EDIT)
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
    initiative, _ = _initiative(request, key, Action.EDIT)
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
    initiative, access = _initiative(request, key)
    target = get_object_or_404(Target, pk=target_id, initiative=initiative)
    if not access.can_record_measurement:
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
    initiative, _ = _initiative(request, key, Action.EDIT)
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
    initiative, _ = _initiative(request, key, Action.EDIT)
    membership = get_object_or_404(Membership, pk=membership_id, initiative=initiative)
    membership_remove(membership=membership, actor=request.user)
    messages.success(request, f"{membership.user} left the team of {initiative.key}.")
    return redirect(initiative)


@login_required
@require_POST
def initiative_resume_view(request, key):
    """Take an initiative off hold; its gate reopens with a new due date."""
    initiative, _ = _initiative(request, key, Action.EDIT)
    try:
        initiative_resume(initiative=initiative, actor=request.user)
    except InvalidState as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{initiative.key} is active again; its gate is open.")
    return redirect(initiative)
