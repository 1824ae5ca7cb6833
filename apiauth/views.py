"""The profile page where people create, list and revoke their own API tokens."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from apiauth.models import ApiToken
from teams.policy import may_write

EXPIRY_CHOICES = {"30": 30, "90": 90, "365": 365, "never": None}


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    """List the user's tokens; POST creates one and shows its secret once."""
    secret = None
    errors = {}
    # A token never does more than its person may: no read-and-write token for a viewer.
    scopes = (
        ApiToken.Scope.choices
        if may_write(request.user)
        else [(ApiToken.Scope.READ.value, ApiToken.Scope.READ.label)]
    )
    if request.method == "POST":
        name = request.POST.get("name", "").strip()[:100]
        scope = request.POST.get("scope", ApiToken.Scope.READ)
        expiry = request.POST.get("expires_in", "90")
        if not name:
            errors["name"] = "Give the token a name, e.g. the integration that uses it."
        if scope not in dict(scopes):
            errors["scope"] = "Choose one of: " + ", ".join(str(label) for _, label in scopes) + "."
        if expiry not in EXPIRY_CHOICES:
            errors["expires_in"] = "Choose an expiry."
        if not errors:
            days = EXPIRY_CHOICES[expiry]
            expires_at = timezone.now() + datetime.timedelta(days=days) if days else None
            _, secret = ApiToken.issue(
                user=request.user, name=name, scope=scope, expires_at=expires_at
            )
    tokens = ApiToken.objects.filter(user=request.user)
    return render(
        request,
        "apiauth/tokens.html",
        {
            "tokens": tokens,
            "secret": secret,
            "errors": errors,
            "scopes": scopes,
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token.revoke()
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("apiauth:tokens")
