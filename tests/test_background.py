"""Nothing is sent inside a web request, even without a broker.

Without REDIS_URL Celery runs tasks in the calling process; core.background.dispatch hands
them to a background thread instead. With a mail server that is slow and refuses the first
attempt, the page answers at once and the email still arrives (on the retry).
These tests use committed data: the background thread has its own database connection.
"""

from __future__ import annotations

import smtplib
import threading
import time

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from core import background
from notifications.models import Notification
from tests.api.helpers import _fresh_throttle_cache, token_client  # noqa: F401
from tests.factories import UserFactory

SLOW_SECONDS = 1.5
PROMPT_SECONDS = 1.0


class SlowFlakyBackend(EmailBackend):
    """Takes its time on every attempt and drops the connection on the first."""

    attempts = 0
    lock = threading.Lock()

    def send_messages(self, messages):
        time.sleep(SLOW_SECONDS)
        with SlowFlakyBackend.lock:
            SlowFlakyBackend.attempts += 1
            first = SlowFlakyBackend.attempts == 1
        if first:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def slow_mail(settings):
    settings.EMAIL_BACKEND = "tests.test_background.SlowFlakyBackend"
    settings.TOLLGATE_BACKGROUND_INLINE = False  # what every deployment without a broker does
    SlowFlakyBackend.attempts = 0
    mail.outbox = []
    yield
    assert background.wait(timeout=60)


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def _delivered(to: str):
    assert background.wait(timeout=60)
    return [message for message in mail.outbox if to in message.to]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_password_reset_email_is_sent_outside_the_request(client, slow_mail):
    UserFactory(username="forgetful", email="forgetful@example.com")
    response, took = _timed(
        lambda: client.post("/accounts/password_reset/", {"email": "forgetful@example.com"})
    )
    assert response.status_code == 302
    assert took < PROMPT_SECONDS, f"the reset page took {took:.1f} s with a slow mail server"
    [message] = _delivered("forgetful@example.com")
    assert "/accounts/reset/" in message.body
    assert SlowFlakyBackend.attempts == 2  # the first was refused and retried


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_invitation_email_is_sent_outside_the_request(client, admin_user, slow_mail):
    client.force_login(admin_user)
    response, took = _timed(
        lambda: client.post(
            "/people/invite/", {"username": "newcomer", "email": "newcomer@example.com"}
        )
    )
    assert response.status_code == 302
    assert took < PROMPT_SECONDS, f"the invitation took {took:.1f} s with a slow mail server"
    [message] = _delivered("newcomer@example.com")
    assert "/accounts/reset/" in message.body


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_notices_are_made_and_emailed_outside_the_request(gate, owner, executive, slow_mail):
    # Slow but not refusing: a refused notification waits for the next scan (its own tests).
    SlowFlakyBackend.attempts = 1
    response, took = _timed(
        lambda: token_client(owner).post(f"/api/v1/gates/{gate.pk}/request-review/")
    )
    assert response.status_code == 200
    assert took < PROMPT_SECONDS, f"request-review took {took:.1f} s with a slow mail server"
    assert background.wait(timeout=60)
    notices = Notification.objects.filter(recipient=executive)
    assert notices.exists()
    assert {notice.state for notice in notices} == {Notification.State.SENT}
    assert _delivered(executive.email)
