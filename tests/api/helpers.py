"""Helpers for the API tests: clients that authenticate with real API tokens."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apiauth.models import ApiToken


def token_client(user, scope: str = ApiToken.Scope.READ_WRITE, **token_fields) -> APIClient:
    """An API client that sends `Authorization: Bearer tg_…` for a fresh token of `user`."""
    _, secret = ApiToken.issue(user=user, name="test", scope=scope, **token_fields)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.token_secret = secret
    return client


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "errors"}, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict)
    for messages in body["errors"].values():
        assert isinstance(messages, list)
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture(autouse=True)
def _fresh_throttle_cache():
    # Throttle counters live in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()
