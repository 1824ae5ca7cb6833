"""Sign-in hardening: lockout, CSP, password reset by email and invitations."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from teams.roles import PortfolioRole
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
NEW_PASSWORD = "a-long-new-secret-2026"


def _sign_in(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _link_in(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


# --- Lockout ------------------------------------------------------------------------


def test_five_bad_passwords_lock_the_account_even_for_the_right_password(client, viewer):
    for attempt in range(4):
        response = _sign_in(client, "viewer", f"wrong-{attempt}")
        assert response.status_code == 200  # the form again, with its error
    response = _sign_in(client, "viewer", "wrong-again")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "15 minutes" in response.content.decode()

    response = _sign_in(client, "viewer", DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert not _signed_in(client)


def test_lockout_of_one_account_leaves_the_others_alone(client, viewer, owner):
    for attempt in range(5):
        _sign_in(client, "viewer", f"wrong-{attempt}")
    response = _sign_in(client, "pm", DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert _signed_in(client)


def test_a_good_sign_in_resets_the_count(client, viewer):
    for attempt in range(4):
        _sign_in(client, "viewer", f"wrong-{attempt}")
    assert _sign_in(client, "viewer", DEFAULT_PASSWORD).status_code == 302
    client.logout()
    for attempt in range(4):
        _sign_in(client, "viewer", f"wrong-{attempt}")
    assert _sign_in(client, "viewer", DEFAULT_PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, viewer, time_machine):
    time_machine.move_to("2026-03-02 09:00:00+00:00", tick=False)
    for attempt in range(5):
        _sign_in(client, "viewer", f"wrong-{attempt}")
    time_machine.move_to("2026-03-02 09:16:00+00:00", tick=False)
    assert _sign_in(client, "viewer", DEFAULT_PASSWORD).status_code == 302


def test_test_client_login_without_a_request_still_works(client, viewer):
    # The test client authenticates without a request; the throttle lets it through.
    assert client.login(username="viewer", password=DEFAULT_PASSWORD)


# --- Content-Security-Policy ---------------------------------------------------------


@pytest.mark.parametrize(
    "url_name", ["initiatives:list", "teams:list", "teams:people", "login", "password_reset"]
)
def test_pages_carry_a_strict_content_security_policy(client, viewer, url_name):
    client.force_login(viewer)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


# --- Password reset ------------------------------------------------------------------


def test_login_page_links_to_password_reset(client):
    assert reverse("password_reset") in client.get(LOGIN).content.decode()


def test_password_reset_by_email(client, viewer):
    response = client.post(reverse("password_reset"), {"email": viewer.email})
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [viewer.email]
    assert mail.outbox[0].subject == "Reset your Tollgate password"

    response = client.get(_link_in(mail.outbox[0]))
    # Django swaps the token for a session marker and redirects to set-password.
    assert response.status_code == 302
    set_password = response.url
    page = client.get(set_password)
    assert page.context["validlink"]
    response = client.post(
        set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.url == reverse("password_reset_complete")
    assert _sign_in(client, "viewer", NEW_PASSWORD).status_code == 302


def test_password_reset_for_an_unknown_address_sends_nothing_but_looks_the_same(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []


def test_password_reset_is_throttled_per_address_without_telling_who_exists(client, viewer):
    """35 requests for one address send at most TOLLGATE_PASSWORD_RESET_RATE emails, from
    one client or from many; an address without an account gets the same answers."""
    answers = set()
    for number in range(35):
        address = {"REMOTE_ADDR": f"198.51.100.{number}"} if number % 2 else {}
        response = client.post(reverse("password_reset"), {"email": viewer.email}, **address)
        answers.add((response.status_code, response.url))
    assert len(mail.outbox) == 3
    for _ in range(35):
        response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
        answers.add((response.status_code, response.url))
    assert answers == {(302, reverse("password_reset_done"))}
    assert len(mail.outbox) == 3


def test_password_reset_is_throttled_per_client(client, settings):
    settings.TOLLGATE_PASSWORD_RESET_CLIENT_RATE = "5/hour"
    people = [UserFactory(email=f"person{n}@example.com") for n in range(8)]
    for person in people:
        response = client.post(reverse("password_reset"), {"email": person.email})
        assert response.url == reverse("password_reset_done")
    assert len(mail.outbox) == 5
    # Another client is not held back by the first one.
    client.post(reverse("password_reset"), {"email": people[-1].email}, REMOTE_ADDR="203.0.113.9")
    assert len(mail.outbox) == 6


def test_password_reset_refuses_a_weak_password(client, viewer):
    client.post(reverse("password_reset"), {"email": viewer.email})
    set_password = client.get(_link_in(mail.outbox[0])).url
    response = client.post(set_password, {"new_password1": "12345", "new_password2": "12345"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_a_used_reset_link_is_dead(client, viewer):
    client.post(reverse("password_reset"), {"email": viewer.email})
    link = _link_in(mail.outbox[0])
    set_password = client.get(link).url
    client.post(set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    response = client.get(link, follow=True)
    assert not response.context["validlink"]
    assert "already been used or has expired" in response.content.decode()


# --- Invitations ---------------------------------------------------------------------

INVITE = reverse("teams:invite")


def _invite(client, **extra):
    data = {
        "username": "newbie",
        "email": "newbie@example.com",
        "first_name": "Nia",
        "last_name": "Newbie",
        "roles": [PortfolioRole.CONTRIBUTOR],
    }
    data.update(extra)
    return client.post(INVITE, data)


def test_admin_invites_a_user_who_sets_a_password_and_signs_in(
    client, admin_user, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client)
    assert response.status_code == 302
    user = get_user_model().objects.get(username="newbie")
    assert not user.has_usable_password()
    assert set(user.groups.values_list("name", flat=True)) == {PortfolioRole.CONTRIBUTOR}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["newbie@example.com"]
    assert "newbie" in mail.outbox[0].body

    client.logout()
    set_password = client.get(_link_in(mail.outbox[0])).url
    response = client.post(
        set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.url == reverse("password_reset_complete")
    assert _sign_in(client, "newbie", NEW_PASSWORD).status_code == 302


def test_an_invitation_needs_an_email_address(client, admin_user):
    client.force_login(admin_user)
    response = _invite(client, email="")
    assert response.status_code == 422
    assert "email" in response.context["form"].errors
    assert not get_user_model().objects.filter(username="newbie").exists()
    assert mail.outbox == []


def test_an_invitation_refuses_a_taken_username_or_address(client, admin_user, viewer):
    client.force_login(admin_user)
    assert _invite(client, username="viewer").status_code == 422
    assert _invite(client, email=viewer.email.upper()).status_code == 422


@pytest.mark.parametrize("persona", ["viewer", "owner", "executive", "outsider"])
def test_only_admins_invite(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(INVITE).status_code == 403
    assert _invite(client).status_code == 403
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_anonymous_invite_goes_to_login(client):
    assert client.get(INVITE).status_code == 302


def test_admin_action_sends_a_set_password_link(client, django_capture_on_commit_callbacks):
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    invited = UserFactory(username="late", email="late@example.com")
    client.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:auth_user_changelist"),
            {"action": "send_invitations", "_selected_action": [invited.pk]},
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["late@example.com"]]


def test_the_admin_sign_in_is_throttled_too(client, admin_user):
    url = reverse("admin:login")
    for attempt in range(5):
        response = client.post(url, {"username": "admin", "password": f"wrong-{attempt}"})
    assert response.status_code == 429
    response = client.post(url, {"username": "admin", "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert not _signed_in(client)
