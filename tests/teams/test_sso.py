"""Single sign-on is off unless configured; when configured it mounts /oidc/ and its backend."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import NoReverseMatch, reverse

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
OIDC_ENV = {
    "OIDC_RP_CLIENT_ID": "tollgate",
    "OIDC_RP_CLIENT_SECRET": "s3cret",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://id.example.com/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": "https://id.example.com/token",
    "OIDC_OP_USER_ENDPOINT": "https://id.example.com/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": "https://id.example.com/jwks",
}


def test_single_sign_on_is_off_by_default():
    assert not settings.OIDC_ENABLED
    assert "teams.sso.SingleSignOnBackend" not in settings.AUTHENTICATION_BACKENDS
    with pytest.raises(NoReverseMatch):
        reverse("oidc_authentication_init")


@pytest.mark.slow  # starts a second Python interpreter
def test_single_sign_on_turns_on_with_its_environment():
    # Settings are read once per process, so a fresh interpreter reads the variables.
    script = (
        "import django; django.setup();"
        "from django.conf import settings; from django.urls import reverse;"
        "from django.test import Client;"
        "assert 'teams.sso.SingleSignOnBackend' in settings.AUTHENTICATION_BACKENDS;"
        "page = Client().get('/accounts/login/').content.decode();"
        "assert 'Sign in with single sign-on' in page, page;"
        "print(reverse('oidc_authentication_init'))"
    )
    env = {**os.environ, **OIDC_ENV, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("/oidc/authenticate/")


@pytest.mark.django_db
def test_sso_matches_people_by_verified_email(settings):
    for name, value in OIDC_ENV.items():
        setattr(settings, name, value)
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    from teams.sso import SingleSignOnBackend, sso_username

    person = UserFactory(username="ada", email="ada@example.com")
    backend = SingleSignOnBackend()
    verified = {"email": "ADA@example.com", "email_verified": True}
    assert list(backend.filter_users_by_claims(verified)) == [person]
    unverified = {"email": "ada@example.com", "email_verified": False}
    assert not backend.filter_users_by_claims(unverified).exists()
    # A provider that says nothing about verification does not link the account.
    assert not backend.filter_users_by_claims({"email": "ada@example.com"}).exists()
    assert sso_username(" Ada@Example.com ") == "ada@example.com"
