"""/healthz: JSON for load balancers and compose healthchecks."""

import os

import pytest
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db


def test_reports_database_ok_without_a_broker(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"] == {"ok": None, "url_configured": False}


def test_needs_no_login_and_is_never_cached(client, settings):
    settings.REDIS_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_broker_down_is_degraded_but_still_serving(client, settings):
    # Nothing listens on port 1 of the loopback address.
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["broker"]["ok"] is False


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a real Redis (REDIS_URL)")
def test_real_broker_is_reported_ok(client, settings):
    settings.REDIS_URL = os.environ["REDIS_URL"]
    body = client.get("/healthz").json()
    assert body["broker"]["ok"] is True
    assert body["status"] == "ok"


def test_database_down_gives_503(client, settings, monkeypatch):
    settings.REDIS_URL = ""

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    # Stand-in for a stopped database server: every new cursor fails.
    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"]["ok"] is False
    assert "refused" not in response.content.decode()  # no error details leak


@pytest.mark.parametrize(("path", "is_json"), [("/", False), ("/api/v1/initiatives/", True)])
def test_pages_and_api_answer_503_while_the_database_is_down(
    client, settings, monkeypatch, owner, path, is_json
):
    client.force_login(owner)

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get(path)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    if is_json:
        assert response.json()["code"] == "service_unavailable"
    else:
        assert "Temporarily unavailable" in response.content.decode()


def test_the_site_icon_answers_at_the_root(client):
    """Admin pages (no icon link) ask for /favicon.ico; it must not be a 404."""
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content
