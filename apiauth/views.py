"""The profile page where people create, list and revoke their own API tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from apiauth.forms import TokenForm
from apiauth.models import ApiToken


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    """List the user's tokens; POST creates one and shows its secret once."""
    secret = None
    form = TokenForm(request.POST or None, user=request.user)
    if form.is_valid():
        _, secret = ApiToken.issue(
            user=request.user,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            expires_at=form.expires_at(),
        )
        form = TokenForm(user=request.user)
    tokens = ApiToken.objects.filter(user=request.user)
    return render(
        request,
        "apiauth/tokens.html",
        {"tokens": tokens, "secret": secret, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    token.revoke()
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("apiauth:tokens")
