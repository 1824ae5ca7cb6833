"""Sending: retries with backoff, failure after the last attempt, re-drive, the digest."""

from __future__ import annotations

import datetime
import smtplib
import threading

import pytest
import time_machine
from django.core import mail
from django.core.checks import run_checks
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from kombu.exceptions import OperationalError

from config.celery import app as celery_app
from gates.services import gate_request_review, gate_vote, measurement_record
from notifications import tasks
from notifications.models import Kind, Notification, NotificationPreference
from notifications.services import digest_send, notifications_retry_failed, reminder_scan
from tests.factories import InitiativeFactory, MembershipFactory, TargetFactory
from tests.notifications.helpers import at

pytestmark = pytest.mark.django_db


class FlakyBackend(BaseEmailBackend):
    """An SMTP stand-in that drops the connection `failures_left` times, then delivers."""

    failures_left = 0
    delivered: list = []

    def send_messages(self, messages):
        if FlakyBackend.failures_left > 0:
            FlakyBackend.failures_left -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        FlakyBackend.delivered.extend(messages)
        return len(messages)


@pytest.fixture
def flaky_smtp(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.delivered = []
    FlakyBackend.failures_left = 0
    return FlakyBackend


@pytest.fixture
def retries_in_process():
    """Let in-process tasks retry as a worker would.

    With eager propagation on (the test default), Celery raises a retry at the
    caller instead of running it; switching it off makes each retry run at once.
    """
    previous = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def due_tomorrow(gate, owner, settings):
    """One reminder to the owner: the gate is due tomorrow (and nothing else fires)."""
    settings.TOLLGATE_REMINDERS = {**settings.TOLLGATE_REMINDERS, "quiet_after_days": 1000}
    return at(gate.due_on - datetime.timedelta(days=1))


def test_send_task_retries_with_exponential_backoff():
    task = tasks.notification_send_task
    assert smtplib.SMTPException in task.autoretry_for
    assert task.retry_backoff == tasks.SEND_RETRY_BACKOFF
    assert task.retry_backoff_max == tasks.SEND_RETRY_BACKOFF_MAX
    assert task.max_retries >= 4


def test_smtp_failure_is_retried_then_succeeds(
    flaky_smtp, retries_in_process, due_tomorrow, django_capture_on_commit_callbacks
):
    flaky_smtp.failures_left = 2
    with (
        time_machine.travel(due_tomorrow, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        reminder_scan()

    notification = Notification.objects.get()
    assert notification.state == Notification.State.SENT
    assert notification.attempts == 3
    assert notification.last_error == ""
    assert len(flaky_smtp.delivered) == 1


def test_after_the_last_attempt_the_notification_is_marked_failed(
    flaky_smtp, retries_in_process, due_tomorrow, django_capture_on_commit_callbacks
):
    flaky_smtp.failures_left = 100
    with (
        time_machine.travel(due_tomorrow, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        reminder_scan()

    notification = Notification.objects.get()
    assert notification.state == Notification.State.FAILED
    assert notification.attempts == 5
    assert "SMTPServerDisconnected" in notification.last_error
    assert flaky_smtp.delivered == []


def test_sending_a_notification_twice_emails_it_once(
    due_tomorrow, django_capture_on_commit_callbacks
):
    with time_machine.travel(due_tomorrow, tick=False):
        reminder_scan(enqueue=False)
    notification = Notification.objects.get()
    assert tasks.notification_send_task.delay(notification.pk).get() == "sent"
    assert tasks.notification_send_task.delay(notification.pk).get() is None
    assert len(mail.outbox) == 1


def test_a_broker_outage_leaves_notifications_pending_for_the_next_scan(
    due_tomorrow, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(tasks.notifications_send_task, "delay", broker_down)
        with (
            time_machine.travel(due_tomorrow, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            reminder_scan()
    assert Notification.objects.get().state == Notification.State.PENDING

    # A scan soon after leaves it alone (its task may still be on its way)...
    with (
        time_machine.travel(due_tomorrow + datetime.timedelta(minutes=5), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert reminder_scan().redriven == 0
    # ...a later one puts it back on the queue, and it is sent once.
    with (
        time_machine.travel(due_tomorrow + datetime.timedelta(hours=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert reminder_scan().redriven == 1
    assert Notification.objects.get().state == Notification.State.SENT
    assert len(mail.outbox) == 1


def test_without_a_worker_a_failed_send_waits_for_the_next_scan(
    flaky_smtp, due_tomorrow, django_capture_on_commit_callbacks
):
    flaky_smtp.failures_left = 1
    with (
        time_machine.travel(due_tomorrow, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        reminder_scan()
    notification = Notification.objects.get()
    assert (notification.state, notification.attempts) == (Notification.State.PENDING, 1)

    with (
        time_machine.travel(due_tomorrow + datetime.timedelta(hours=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        reminder_scan()
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == (Notification.State.SENT, 2)


def test_a_failed_notification_can_be_sent_again_from_the_admin(
    flaky_smtp, retries_in_process, due_tomorrow, django_capture_on_commit_callbacks
):
    flaky_smtp.failures_left = 5
    with (
        time_machine.travel(due_tomorrow, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        reminder_scan()
    assert Notification.objects.get().state == Notification.State.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        assert notifications_retry_failed(queryset=Notification.objects.all()) == 1
    notification = Notification.objects.get()
    assert (notification.state, notification.attempts) == (Notification.State.SENT, 1)


def test_start_up_check_refuses_a_backoff_longer_than_the_visibility_timeout(settings):
    assert [m.id for m in run_checks() if m.id.startswith("notifications.")] == []
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
    assert "notifications.E001" in [m.id for m in run_checks()]


# --- The weekly digest -------------------------------------------------------------------


@pytest.fixture
def eventful_week(initiative, gate, owner, executive, admin_user):
    """A week with a go decision (a stage change) and a missed target."""
    target = TargetFactory(initiative=initiative, metric_key="latency_p95_ms", threshold=800)
    measurement_record(target=target, value=1200, actor=owner)
    gate = gate_request_review(gate=gate, actor=owner)
    gate_vote(
        gate=gate,
        actor=executive,
        decision="go",
        rationale="Accuracy is good enough for an MVP.",
        override_justification="The remaining items are paperwork.",
    )
    return initiative


def run_digest(django_capture_on_commit_callbacks, moment=None):
    with django_capture_on_commit_callbacks(execute=True):
        if moment is None:
            return digest_send()
        with time_machine.travel(moment, tick=False):
            return digest_send()


def test_digest_goes_to_executives_and_portfolio_admins(
    eventful_week, outsider, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://tollgate.example.com"
    run_digest(django_capture_on_commit_callbacks)

    assert sorted(m.to[0] for m in mail.outbox) == ["admin@example.com", "exec@example.com"]
    message = mail.outbox[0]
    link = f"https://tollgate.example.com/initiatives/{eventful_week.key}/"
    assert "Proof of concept -> MVP" in message.body
    assert "Go by" in message.body
    assert "Latency (p95)" in message.body and "latency_p95_ms" not in message.body
    assert link in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and link in html


def test_digest_is_sent_once_a_week(eventful_week, django_capture_on_commit_callbacks):
    run_digest(django_capture_on_commit_callbacks)
    again = run_digest(django_capture_on_commit_callbacks)
    assert again.created == 0
    assert len(mail.outbox) == 2


def test_digest_opt_out_keeps_it_out_of_the_mailbox(
    eventful_week, admin_user, django_capture_on_commit_callbacks
):
    NotificationPreference.objects.create(user=admin_user, email_digest=False)
    run_digest(django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["exec@example.com"]]
    skipped = Notification.objects.get(recipient=admin_user, kind=Kind.DIGEST)
    assert skipped.state == Notification.State.SKIPPED


def test_digest_lists_stalled_and_newly_overdue_initiatives(
    initiative, executive, django_capture_on_commit_callbacks
):
    # Past both the gate's due date and the stage's 8-week maximum.
    run_digest(django_capture_on_commit_callbacks, at(initiative.stalls_on + datetime.timedelta(3)))
    body = mail.outbox[0].body
    assert "NEWLY OVERDUE GATES (1)" in body
    assert "STALLED INITIATIVES (1)" in body
    assert initiative.key in body


# --- Two scanners at once (PostgreSQL) ----------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_scanners_at_once_create_and_send_each_reminder_once(team, owner, executive):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks and ON CONFLICT")
    for _ in range(5):
        initiative = InitiativeFactory(team=team, owner=owner, sponsor=executive)
        MembershipFactory(initiative=initiative)
    moment = at(initiative.gate_due_on + datetime.timedelta(days=7))
    start = threading.Barrier(2)
    results, errors = [], []

    def scanner():
        try:
            start.wait(timeout=10)
            results.append(reminder_scan(now=moment))
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=scanner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == [] and len(results) == 2
    # Per initiative: overdue to the owner and the member, an escalation to the
    # sponsor, and (weeks without activity) a nudge to the owner.
    notifications = Notification.objects.all()
    assert notifications.count() == 5 * 4
    assert sum(result.created for result in results) == 20
    assert notifications.filter(state=Notification.State.SENT).count() == 20
    assert len(mail.outbox) == 20
