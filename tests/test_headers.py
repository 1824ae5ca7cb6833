"""Every answer sends a Permissions-Policy; every answer for one person (signed-in pages,
CSV exports, the API) sends `Cache-Control: private, no-store`. Pages and operations are
discovered from the URL conf and the schema, as the access matrix walks them."""

from __future__ import annotations

import pytest

from tests import test_access_matrix as matrix
from tests.test_access_matrix import (
    PAGES,
    api_client,
    operation_url,
    page_routes,
    page_url,
    schema_operations,
)

pytestmark = pytest.mark.django_db

world = matrix.world  # one of each object a URL names
PRIVATE = "private, no-store"


def _problems(url: str, response, *, private: bool) -> list[str]:
    problems = []
    if "camera=()" not in response.get("Permissions-Policy", ""):
        problems.append(f"{url}: no Permissions-Policy")
    if private and response.get("Cache-Control") != PRIVATE:
        problems.append(f"{url}: Cache-Control {response.get('Cache-Control')!r}")
    return problems


def test_every_signed_in_page_and_export_is_private(client, admin_user, world):
    client.force_login(admin_user)
    checked, problems = [], []
    for name, route in page_routes().items():
        if name not in PAGES or "GET" not in PAGES[name]:
            continue
        url = page_url(name, route, world)
        response = client.get(url)
        checked.append((url, response["Content-Type"]))
        problems += _problems(url, response, private=True)
    assert any(kind.startswith("text/csv") for _, kind in checked)  # the exports are walked
    assert len(checked) > 20
    assert problems == []


def test_every_api_operation_is_private(request, world):
    client = api_client(request, "admin_user")
    problems, checked = [], 0
    for operation in schema_operations():
        method, path = operation.split(" ", 1)
        if method != "GET":
            continue
        url = operation_url(path, world)
        problems += _problems(url, client.get(url, {"stage": world["stage"]}), private=True)
        checked += 1
    # Refusals and unknown paths too, signed in or not.
    for url in ("/api/v1/no-such-thing/", "/api/v1/initiatives/"):
        problems += _problems(url, client.get(url), private=True)
        problems += _problems(url, matrix.APIClient().get(url), private=True)
    assert checked > 10
    assert problems == []


def test_public_answers_carry_the_permissions_policy(client):
    for url in ("/accounts/login/", "/healthz", "/static/js/htmx-errors.js"):
        response = client.get(url)
        assert _problems(url, response, private=False) == []
    # A refusal before sign-in carries it as well.
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "camera=()" in response["Permissions-Policy"]
