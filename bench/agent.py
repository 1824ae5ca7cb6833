"""One process per benchmark database: fixtures for the HTTP client, then hand-written SQL on call.

    DATABASE_URL=... DJANGO_SETTINGS_MODULE=bench.settings python -m bench.agent

Prints one JSON line of fixtures (sessions, an API token, the subjects the scenarios
aim at), then reads baseline names from stdin, one a line, and answers each with the
milliseconds the hand-written SQL of that scenario took (query, fetch and render), so
the harness can interleave baselines with the HTTP requests of the same round.
"""

from __future__ import annotations

import json
import sys
import time


def _people(*, token: bool = True):
    """The admin, an executive, a product manager and (unless told not to) a fresh token,
    which replaces the admin's previous benchmark token."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from apiauth.models import ApiToken
    from teams.roles import PortfolioRole

    User = get_user_model()
    admin, _ = User.objects.get_or_create(
        username="bench-admin",
        defaults={"is_staff": True, "is_superuser": True, "email": "bench-admin@bench.example"},
    )
    executive = User.objects.filter(groups__name=PortfolioRole.EXECUTIVE).order_by("pk").first()
    if executive is None:
        executive, _ = User.objects.get_or_create(username="bench-exec-1")
        executive.groups.add(Group.objects.get(name=PortfolioRole.EXECUTIVE))
    manager = (
        User.objects.filter(groups__name=PortfolioRole.PRODUCT_MANAGER, is_active=True)
        .order_by("pk")
        .first()
    )
    secret = None
    if token:
        ApiToken.objects.filter(user=admin, name="bench").delete()
        _, secret = ApiToken.issue(user=admin, name="bench", scope=ApiToken.Scope.READ_WRITE)
    return admin, executive, manager, secret


def _session(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _subjects() -> dict:
    """The rows the scenarios aim at, chosen the same way in every database."""
    from django.db.models import Count

    from gates.models import Gate
    from initiatives.models import Framework, Initiative, Stage, Target

    framework = Framework.objects.get(is_default=True)
    active = Initiative.objects.filter(framework=framework, status=Initiative.Status.ACTIVE)
    team = (
        active.values("team__slug").annotate(n=Count("pk")).order_by("-n", "team__slug").first()
    )["team__slug"]
    open_gates = Gate.objects.filter(state=Gate.State.OPEN, initiative__in=active)
    initiative = (
        active.filter(pk__in=open_gates.values("initiative"))
        .annotate(target_count=Count("targets"))
        .order_by("-target_count", "key")
        .first()
    )
    # The target with the most measurements: the longest series the API pages through.
    target = (
        Target.objects.filter(initiative__in=active)
        .order_by("-latest_measured_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    first_stage = Stage.objects.filter(framework=framework).order_by("order").first()
    from core.bounds import UNIT_RANGES

    targets = list(Target.objects.order_by("pk").values_list("pk", "unit")[:100])
    return {
        "framework_id": framework.pk,
        "framework": framework.slug,
        "team": team,
        "initiative": initiative.key,
        "target": target,
        "stage": first_stage.key,
        "targets": [pk for pk, _ in targets],
        # The lowest and highest value each target's unit allows: far below and far above
        # any threshold, so that alternating batches flip every target.
        "target_extremes": [UNIT_RANGES.get(unit.strip(), (-1e9, 1e9)) for _, unit in targets],
    }


def baselines_for(subjects: dict) -> dict:
    from django.conf import settings

    from bench import baselines
    from core.versions import portfolio_changed

    page_size = settings.TOLLGATE_BOARD_PAGE_SIZE
    framework_id = subjects["framework_id"]
    return {
        "board_default": lambda: baselines.board(framework_id=framework_id, page_size=page_size),
        "board_team": lambda: baselines.board(
            framework_id=framework_id, team=subjects["team"], page_size=page_size
        ),
        "initiative_page": lambda: baselines.initiative_page(subjects["initiative"]),
        "dashboard": lambda: baselines.dashboard(framework_id=framework_id),
        "api_list": lambda: baselines.api_list(100),
        "series": lambda: baselines.series(subjects["target"], 100),
        # Not a baseline: moves the version on, as a committed change does, so that the
        # next request computes what is kept between changes.
        "portfolio_changed": portfolio_changed,
    }


def main() -> None:
    import django

    django.setup()
    from django.db import connection

    from initiatives.models import Initiative, Measurement

    _admin, executive, manager, secret = _people()
    subjects = _subjects()
    fixtures = {
        "database": connection.settings_dict["NAME"],
        "initiatives": Initiative.objects.count(),
        "measurements": Measurement.objects.count(),
        "executive_session": _session(executive),
        "manager_session": _session(manager) if manager else None,
        "token": secret,
        **subjects,
    }
    print(json.dumps(fixtures), flush=True)
    calls = baselines_for(subjects)
    for line in sys.stdin:
        name = line.strip()
        if not name:
            continue
        started = time.perf_counter()
        calls[name]()
        print(f"{(time.perf_counter() - started) * 1000:.3f}", flush=True)


if __name__ == "__main__":
    main()
