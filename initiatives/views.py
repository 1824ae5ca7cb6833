from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@login_required
@require_GET
def initiative_list(request):
    return render(request, "initiatives/list.html", {})


@login_required
@require_GET
def initiative_detail(request, key):
    return render(request, "initiatives/detail.html", {})
