"""API tokens: scope, expiry, revocation, throttling and the profile page."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apiauth.models import ApiToken, token_hash
from tests.api.helpers import _fresh_throttle_cache, assert_error_shape, token_client  # noqa: F401

pytestmark = pytest.mark.django_db


def test_only_the_hash_is_stored(owner):
    token, secret = ApiToken.issue(user=owner, name="ci")
    assert secret.startswith("tg_")
    assert token.secret_hash == token_hash(secret) and secret not in token.secret_hash
    assert secret.startswith(token.prefix)


def test_a_token_acts_as_its_user(initiative, owner, outsider):
    assert token_client(owner).get(f"/api/v1/initiatives/{initiative.key}/").status_code == 200
    assert token_client(outsider).get(f"/api/v1/initiatives/{initiative.key}/").status_code == 404


def test_read_scope_refuses_writes(initiative, owner):
    client = token_client(owner, scope=ApiToken.Scope.READ)
    assert client.get("/api/v1/initiatives/").status_code == 200
    response = client.patch(f"/api/v1/initiatives/{initiative.key}/", {"name": "x"}, format="json")
    assert_error_shape(response, 403, "permission_denied")


def test_expired_token_is_401(owner):
    client = token_client(owner, expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get("/api/v1/initiatives/")
    body = assert_error_shape(response, 401, "authentication_failed")
    assert "expired" in body["message"]


def test_revoked_token_is_401(owner):
    client = token_client(owner)
    assert client.get("/api/v1/initiatives/").status_code == 200
    ApiToken.objects.get(user=owner).revoke()
    assert_error_shape(client.get("/api/v1/initiatives/"), 401, "authentication_failed")


def test_unknown_and_malformed_tokens_are_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer tg_nope")
    assert_error_shape(client.get("/api/v1/initiatives/"), 401)
    client.credentials(HTTP_AUTHORIZATION="Bearer something else")
    assert_error_shape(client.get("/api/v1/initiatives/"), 401)


def test_inactive_user_token_is_401(owner):
    client = token_client(owner)
    owner.is_active = False
    owner.save()
    assert_error_shape(client.get("/api/v1/initiatives/"), 401)


def test_last_used_is_recorded(owner):
    client = token_client(owner)
    client.get("/api/v1/")
    assert ApiToken.objects.get(user=owner).last_used_at is not None


def test_token_clients_are_throttled_with_retry_after(owner, settings):
    settings.TOLLGATE_API_TOKEN_RATE = "3/minute"
    client = token_client(owner)
    for _ in range(3):
        assert client.get("/api/v1/").status_code == 200
    response = client.get("/api/v1/")
    assert_error_shape(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    # Browser sessions are not throttled by the token rate.
    session = APIClient()
    session.force_login(owner)
    for _ in range(5):
        assert session.get("/api/v1/").status_code == 200


def test_session_users_can_use_the_api_with_csrf(initiative, owner):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get(f"/api/v1/initiatives/{initiative.key}/").status_code == 200
    response = client.patch(f"/api/v1/initiatives/{initiative.key}/", {"name": "x"}, format="json")
    assert_error_shape(response, 403)


def test_profile_page_creates_shows_once_and_revokes(client, owner):
    client.force_login(owner)
    assert client.get("/account/tokens/").status_code == 200
    response = client.post(
        "/account/tokens/",
        {"name": "Evaluation pipeline", "scope": "read_write", "expires_in": "30"},
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=owner)
    secret = response.context["secret"]
    assert secret.startswith("tg_") and token.secret_hash == token_hash(secret)
    assert secret in response.content.decode()
    listing = client.get("/account/tokens/").content.decode()
    assert "Evaluation pipeline" in listing and secret not in listing
    assert token.scope == "read_write" and token.expires_at is not None

    response = client.post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_profile_page_validates_and_guards(client, owner, outsider):
    client.force_login(owner)
    response = client.post("/account/tokens/", {"name": "", "scope": "admin"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()
    token, _ = ApiToken.issue(user=outsider, name="theirs")
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert client.get(f"/account/tokens/{token.pk}/revoke/").status_code == 405


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("name", {"name": "n" * 101, "scope": "read", "expires_in": "30"}),
        ("scope", {"name": "ok", "scope": "admin", "expires_in": "30"}),
        ("expires_in", {"name": "ok", "scope": "read", "expires_in": "forever"}),
    ],
)
def test_a_token_field_out_of_bounds_is_an_error_next_to_it(client, owner, field, data):
    # A 101-character name was cut to 100 without a word; the expiry error was never shown.
    client.force_login(owner)
    response = client.post("/account/tokens/", data)
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not ApiToken.objects.exists()


def test_profile_page_needs_login(client):
    response = client.get("/account/tokens/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_admin_issues_a_token_for_a_service_account(client, owner):
    from django.contrib.auth import get_user_model

    superuser = get_user_model().objects.create_superuser(
        "root", "root@example.com", "pw-long-enough"
    )
    client.force_login(superuser)
    response = client.post(
        "/admin/apiauth/apitoken/add/",
        {"user": owner.pk, "name": "BI export", "scope": "read"},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(name="BI export")
    messages = [str(m) for m in response.context["messages"]]
    secret = next(m.split(": ")[-1] for m in messages if "tg_" in m)
    assert token.secret_hash == token_hash(secret)


def test_a_viewer_is_offered_only_a_read_token(client, viewer, owner):
    client.force_login(viewer)
    page = client.get("/account/tokens/").content.decode()
    assert 'value="read"' in page
    assert 'value="read_write"' not in page
    refused = client.post("/account/tokens/", {"name": "x", "scope": "read_write"})
    assert refused.status_code == 400
    client.force_login(owner)
    assert 'value="read_write"' in client.get("/account/tokens/").content.decode()
