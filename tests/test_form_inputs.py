"""Form inputs that reached a column or a calculation they do not fit, now refused by the form."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from initiatives.models import Initiative, Measurement
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db


def test_sign_in_with_a_username_longer_than_the_column_is_a_form_error(db):
    # The lockout wrote the 256 characters to its 255-character column: 500.
    response = Client().post("/accounts/login/", {"username": "u" * 256, "password": "x"})
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()


def test_sign_in_still_works(db):
    get_user_model().objects.create_user("someone", password="s3cret-pass")
    response = Client().post("/accounts/login/", {"username": "someone", "password": "s3cret-pass"})
    assert response.status_code == 302


def _edit(client, initiative, version):
    data = {
        "name": "Overwritten",
        "summary": initiative.summary,
        "problem": initiative.problem,
        "team": initiative.team_id,
        "owner": initiative.owner_id,
        "sponsor": initiative.sponsor_id,
    }
    if version is not None:
        data["version"] = version
    return client.post(reverse("initiatives:edit", args=[initiative.key]), data)


@pytest.mark.parametrize("version", [None, "", "abc", "1e309", "-1", "99999999999"])
def test_an_edit_without_a_valid_version_is_refused(client, owner, initiative, version):
    # A missing or unreadable version saved over whatever was current.
    client.force_login(owner)
    response = _edit(client, initiative, version)
    assert response.status_code == 200
    assert "out of date" in response.content.decode()
    assert Initiative.objects.get(pk=initiative.pk).name != "Overwritten"


def test_an_edit_with_the_current_version_saves(client, owner, initiative):
    client.force_login(owner)
    assert _edit(client, initiative, initiative.version).status_code == 302
    assert Initiative.objects.get(pk=initiative.pk).name == "Overwritten"


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Los_Angeles", "Pacific/Kiritimati"])
@pytest.mark.parametrize("moment", ["0001-01-01T00:00", "1899-12-31T23:59", "9999-12-31T23:59"])
def test_a_measurement_far_from_today_is_refused_by_the_form(
    client, owner, initiative, settings, zone, moment
):
    # 0001-01-01 was accepted; the initiative page and its brief answered 500 for good.
    settings.TIME_ZONE = zone
    target = TargetFactory(initiative=initiative, metric_key="accuracy", threshold=80)
    client.force_login(owner)
    url = reverse("initiatives:measurement-add", args=[initiative.key, target.pk])
    response = client.post(url, {"value": "85", "measured_at": moment})
    assert response.status_code == 200
    assert "Give a date between 1900-01-01 and 2200-12-31" in response.content.decode()
    assert not Measurement.objects.filter(target=target).exists()
    assert client.get(initiative.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("value", ["1.79e308", "-1.79e308", "1e16"])
def test_a_measurement_beyond_the_float_limit_is_refused_by_the_form(
    client, owner, initiative, value
):
    target = TargetFactory(initiative=initiative, metric_key="accuracy", threshold=80)
    client.force_login(owner)
    url = reverse("initiatives:measurement-add", args=[initiative.key, target.pk])
    response = client.post(url, {"value": value})
    assert response.status_code == 200 and 'id="id_value_error"' in response.content.decode()
    assert not Measurement.objects.filter(target=target).exists()


LONG_PASSWORD = "Aa1!" * 1025  # 4,100 characters, past PASSWORD_MAX_LENGTH


def _reset_link(user) -> str:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("password_reset_confirm", args=[uid, token])


def test_a_new_password_past_the_limit_is_refused_at_reset(settings):
    user = get_user_model().objects.create_user("resetting", password="old-pass-123")
    client = Client()
    # The link redirects to a URL without the token, which the form is posted to.
    form_url = client.get(_reset_link(user)).url
    response = client.post(
        form_url, {"new_password1": LONG_PASSWORD, "new_password2": LONG_PASSWORD}
    )
    assert response.status_code == 200
    assert f"at most {settings.PASSWORD_MAX_LENGTH} characters" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("old-pass-123")


def test_a_new_password_within_the_limit_is_taken_at_reset():
    user = get_user_model().objects.create_user("resetting", password="old-pass-123")
    client = Client()
    form_url = client.get(_reset_link(user)).url
    new = "Quiet-harbour-7-lanterns"
    response = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("/accounts/password_change/", ("new_password1", "new_password2")),
        ("/admin/password_change/", ("new_password1", "new_password2")),
    ],
)
def test_a_new_password_past_the_limit_is_refused_on_change(url, fields, settings):
    user = get_user_model().objects.create_user(
        "changing", password="old-pass-123", is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(user)
    data = {"old_password": "old-pass-123", **dict.fromkeys(fields, LONG_PASSWORD)}
    response = client.post(url, data)
    assert response.status_code == 200
    assert f"at most {settings.PASSWORD_MAX_LENGTH} characters" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("old-pass-123")


def test_the_admin_refuses_a_new_password_past_the_limit_for_somebody(settings):
    admin = get_user_model().objects.create_superuser("boss", password="boss-pass-123")
    other = get_user_model().objects.create_user("other", password="old-pass-123")
    client = Client()
    client.force_login(admin)
    url = reverse("admin:auth_user_password_change", args=[other.pk])
    data = {"password1": LONG_PASSWORD, "password2": LONG_PASSWORD, "usable_password": "true"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert f"at most {settings.PASSWORD_MAX_LENGTH} characters" in response.content.decode()
    other.refresh_from_db()
    assert other.check_password("old-pass-123")
    added = client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newcomer",
            "password1": LONG_PASSWORD,
            "password2": LONG_PASSWORD,
            "usable_password": "true",
        },
    )
    assert added.status_code == 200
    assert not get_user_model().objects.filter(username="newcomer").exists()
