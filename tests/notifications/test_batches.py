"""Sending in batches: one mail connection and one transaction per batch, each row once."""

from __future__ import annotations

import datetime
import smtplib
import threading

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as MemoryBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from notifications.services import (
    notifications_send_batch,
    notifications_send_now,
    reminder_scan,
)
from tests.factories import InitiativeFactory, MembershipFactory
from tests.notifications.helpers import at

pytestmark = pytest.mark.django_db


class CountingBackend(MemoryBackend):
    """The memory backend, counting connections opened and refusing chosen recipients."""

    opened = 0
    refuse: set[str] = set()

    def open(self):
        CountingBackend.opened += 1
        return True

    def send_messages(self, messages):
        for message in messages:
            if set(message.to) & CountingBackend.refuse:
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"no such user")})
        return super().send_messages(messages)


@pytest.fixture
def counting_smtp(settings):
    settings.EMAIL_BACKEND = f"{__name__}.CountingBackend"
    CountingBackend.opened = 0
    CountingBackend.refuse = set()
    return CountingBackend


def pending(count: int, team, owner, executive) -> list[int]:
    """`count` overdue initiatives' reminders created and left pending (no worker)."""
    initiatives = [
        InitiativeFactory(team=team, owner=owner, sponsor=executive) for _ in range(count)
    ]
    for initiative in initiatives:
        MembershipFactory(initiative=initiative)
    moment = at(initiatives[-1].gate_due_on + datetime.timedelta(days=2))
    with time_machine.travel(moment, tick=False):
        result = reminder_scan(enqueue=False)
    return result.to_send


def test_one_connection_per_batch_and_each_notification_once(
    counting_smtp, settings, team, owner, executive
):
    settings.TOLLGATE_NOTIFICATION_BATCH_SIZE = 4
    ids = pending(5, team, owner, executive)
    assert len(ids) > 8

    counts = notifications_send_now(ids=ids)

    assert counts == {"sent": len(ids), "failed": 0, "retry_later": 0}
    assert counting_smtp.opened == -(-len(ids) // 4)  # one per batch of four
    assert len(mail.outbox) == len(ids)
    assert notifications_send_now(ids=ids) == {"sent": 0, "failed": 0, "retry_later": 0}
    assert len(mail.outbox) == len(ids)


def test_a_batch_costs_the_same_queries_whatever_its_size(counting_smtp, team, owner, executive):
    small, large = pending(1, team, owner, executive), pending(6, team, owner, executive)
    large = [pk for pk in large if pk not in small]

    with CaptureQueriesContext(connection) as few:
        notifications_send_batch(notification_ids=small)
    with CaptureQueriesContext(connection) as many:
        notifications_send_batch(notification_ids=large)

    assert len(large) > 3 * len(small)
    assert len(many) == len(few)


def test_a_refused_recipient_stays_pending_while_the_rest_of_the_batch_is_sent(
    counting_smtp, team, owner, executive
):
    ids = pending(3, team, owner, executive)
    refused = Notification.objects.filter(pk__in=ids).exclude(recipient=owner).first()
    counting_smtp.refuse = {refused.recipient.email}
    expected_refused = Notification.objects.filter(pk__in=ids, recipient=refused.recipient).count()

    counts = notifications_send_batch(notification_ids=ids)

    assert counts == {
        "sent": len(ids) - expected_refused,
        "failed": 0,
        "retry_later": expected_refused,
    }
    refused.refresh_from_db()
    assert (refused.state, refused.attempts) == (Notification.State.PENDING, 1)
    assert "SMTPRecipientsRefused" in refused.last_error
    assert len(mail.outbox) == len(ids) - expected_refused


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_senders_of_the_same_batches_email_each_notification_once(
    counting_smtp, settings, team, owner, executive
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    settings.TOLLGATE_NOTIFICATION_BATCH_SIZE = 3
    ids = pending(6, team, owner, executive)
    start = threading.Barrier(2)
    errors = []

    def sender():
        try:
            start.wait(timeout=10)
            notifications_send_now(ids=ids)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    delivered = [message.to[0] + message.subject for message in mail.outbox]
    assert len(delivered) == len(ids)
    assert Notification.objects.filter(state=Notification.State.SENT).count() == len(ids)


def test_over_smtp_each_reminder_is_a_whole_message_of_its_own(settings, team, owner, executive):
    """The SMTP path builds the part a team shares once: every message still arrives as a
    complete MIME message with its own To, Date and Message-ID and both bodies."""
    from bench import fakesmtp

    mailbox, server = fakesmtp.start(0)
    mailbox.keep = True
    host, port = server.server_address
    del settings.EMAIL_BACKEND  # the old setting and MAILERS together: a deprecation warning
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": host, "port": port, "use_tls": False, "use_ssl": False},
        }
    }
    try:
        ids = pending(3, team, owner, executive)
        assert notifications_send_now(ids=ids)["sent"] == len(ids)
    finally:
        server.shutdown()
        server.server_close()

    sent = Notification.objects.filter(pk__in=ids).select_related("recipient")
    expected = sorted((n.recipient.email, n.subject, n.body_text.strip()) for n in sent)
    received = sorted(
        (
            str(message["To"]),
            str(message["Subject"]),
            message.get_body(("plain",)).get_content().replace("\r\n", "\n").strip(),
        )
        for message in mailbox.messages
    )
    assert received == expected
    assert len({message["Message-ID"] for message in mailbox.messages}) == len(ids)
    for message in mailbox.messages:
        assert message["Date"] is not None and message["From"] is not None
        assert message.get_content_type() == "multipart/alternative"
        html = message.get_body(("html",)).get_content()
        assert "http" in html
