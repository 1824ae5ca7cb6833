"""The in-app inbox: a paginated list, mark one read, mark all read."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.htmx import is_partial_request, render_page_or_partial, vary_on_htmx
from notifications.forms import DeliveryPreferencesForm
from notifications.models import (
    CHOOSABLE_KINDS,
    Delivery,
    DeliveryPreference,
    Kind,
    Notification,
    NotificationPreference,
)
from notifications.services import (
    REMINDER_KINDS,
    delivery_preferences_set,
    notification_mark_read,
    notification_preference_set,
    notifications_mark_all_read,
)

PAGE_SIZE = 25
TEMPLATE = "notifications/inbox.html"


def _back(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:inbox")


def _inbox_context(request) -> dict:
    notifications = Notification.objects.for_inbox(request.user)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    preference = _preference(request.user)
    return {
        "page": page,
        "unread_count": Notification.objects.filter(recipient=request.user).unread().count(),
        "preference": preference,
        "deliveries": _deliveries(request.user, preference),
        "delivery_choices": Delivery.choices,
    }


def _deliveries(user, preference: NotificationPreference, errors=None) -> list[dict]:
    """Each kind a person may choose for, with their choice (or what it is by default) and
    the error of a refused POST, if any."""
    errors = errors or {}
    chosen = dict(DeliveryPreference.objects.filter(user=user).values_list("kind", "delivery"))
    rows = []
    for kind in CHOOSABLE_KINDS:
        if kind in chosen:
            current = chosen[kind]
        elif kind == Kind.DIGEST:
            current = Delivery.NOW if preference.email_digest else Delivery.OFF
        elif kind in REMINDER_KINDS:
            current = Delivery.NOW if preference.email_reminders else Delivery.OFF
        else:
            current = Delivery.NOW
        rows.append(
            {
                "kind": kind,
                "label": Kind(kind).label,
                "current": current,
                "errors": errors.get(f"delivery_{kind}", []),
            }
        )
    return rows


def _preference(user) -> NotificationPreference:
    # Nobody has a row until they change something: the defaults are "everything".
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(
        user=user
    )


@login_required
@require_GET
def inbox(request):
    return render_page_or_partial(request, TEMPLATE, "inbox-list", _inbox_context(request))


@require_GET
def bell(request):
    """The nav bell with the unread count: loaded by htmx after the page."""
    if not request.user.is_authenticated:
        # A session that expired meanwhile: keep the plain link rather than
        # swapping a login page into the navigation.
        return HttpResponse(status=204)
    # The bell is loaded into another page: that page's address says whether it is current.
    current = request.htmx.current_url_abs_path if request.htmx else ""
    context = {
        "unread_count": Notification.objects.filter(recipient=request.user).unread().count(),
        "is_current": (current or "").startswith(reverse("notifications:inbox")),
        # The bell asks again every few live-page intervals (30 s by default).
        "poll_seconds": settings.TOLLGATE_LIVE_POLL_SECONDS * 3,
    }
    return render(request, "notifications/bell.html", context)


@login_required
@require_POST
def notification_read(request, pk: int):
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notification_mark_read(notification=notification)
    if is_partial_request(request):
        context = {
            "notification": notification,
            "unread_count": Notification.objects.filter(recipient=request.user).unread().count(),
            "item_bell_oob": True,
        }
        return vary_on_htmx(render(request, f"{TEMPLATE}#inbox-item", context))
    return vary_on_htmx(_back(request))


@login_required
@require_POST
def notifications_read_all(request):
    notifications_mark_all_read(user=request.user)
    if is_partial_request(request):
        context = {**_inbox_context(request), "bell_oob": True}
        return vary_on_htmx(render(request, f"{TEMPLATE}#inbox-list", context))
    return vary_on_htmx(_back(request))


@login_required
@require_POST
def preferences_update(request):
    form = DeliveryPreferencesForm(request.POST)
    if not form.is_valid():
        preference = _preference(request.user)
        context = {
            "preference": preference,
            "deliveries": _deliveries(request.user, preference, form.errors),
            "delivery_choices": Delivery.choices,
            "preferences_invalid": True,
        }
        if is_partial_request(request):
            return vary_on_htmx(render(request, f"{TEMPLATE}#preferences", context, status=400))
        return vary_on_htmx(
            render(request, TEMPLATE, {**_inbox_context(request), **context}, status=400)
        )
    if deliveries := form.deliveries():
        delivery_preferences_set(user=request.user, deliveries=deliveries)
        preference = _preference(request.user)
    else:
        # The two switches of earlier versions of this form (and of scripts using it).
        preference = notification_preference_set(
            user=request.user,
            email_digest=form.cleaned_data["email_digest"],
            email_reminders=form.cleaned_data["email_reminders"],
        )
    if is_partial_request(request):
        context = {
            "preference": preference,
            "deliveries": _deliveries(request.user, preference),
            "delivery_choices": Delivery.choices,
            "saved": True,
        }
        return vary_on_htmx(render(request, f"{TEMPLATE}#preferences", context))
    return vary_on_htmx(_back(request))
