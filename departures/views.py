"""The departures pages: what a person holds, and handing it all to a successor at once."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core.formatting import counted
from core.htmx import apply_service_errors
from departures.forms import DepartureForm, PersonChoiceForm
from departures.selectors import holdings_of, people_who_left_holding_something
from departures.services import departure_complete
from initiatives.exceptions import ServiceError
from teams.policy import is_admin


def _admin_only(request) -> None:
    if not is_admin(request.user):
        raise PermissionDenied


@login_required
@require_GET
def departure_list(request):
    _admin_only(request)
    chooser = PersonChoiceForm(request.GET or None)
    if request.GET and chooser.is_valid():
        return redirect("departures:person", pk=chooser.cleaned_data["person"].pk)
    return render(
        request,
        "departures/list.html",
        {"chooser": chooser, "left": people_who_left_holding_something()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def departure_person(request, pk):
    _admin_only(request)
    person = get_object_or_404(get_user_model(), pk=pk)
    form = DepartureForm(request.POST or None, person=person)
    if request.method == "POST" and form.is_valid():
        try:
            held = departure_complete(
                person=person, successor=form.cleaned_data["successor"], actor=request.user
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        except ServiceError as error:
            form.add_error(None, error.message)
        else:
            successor = form.cleaned_data["successor"]
            messages.success(
                request,
                f"{person} is deactivated"
                + (f"; {successor} took on {counted(held.count, 'thing')}." if successor else "."),
            )
            return redirect("departures:person", pk=person.pk)
    return render(
        request,
        "departures/person.html",
        {"person": person, "held": holdings_of(person), "form": form},
    )
