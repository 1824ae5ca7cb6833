"""The in-app inbox: a paginated list, mark one read, mark all read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.htmx import is_partial_request, render_page_or_partial, vary_on_htmx
from notifications.models import Notification, NotificationPreference
from notifications.services import (
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
    return {
        "page": page,
        "unread_count": Notification.objects.filter(recipient=request.user).unread().count(),
        "preference": _preference(request.user),
    }


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
    preference = notification_preference_set(
        user=request.user,
        email_digest=request.POST.get("email_digest") == "on",
        email_reminders=request.POST.get("email_reminders") == "on",
    )
    if is_partial_request(request):
        context = {"preference": preference, "saved": True}
        return vary_on_htmx(render(request, f"{TEMPLATE}#preferences", context))
    return vary_on_htmx(_back(request))
