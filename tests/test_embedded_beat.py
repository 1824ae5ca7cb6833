"""Without a broker, the development server runs the beat schedule itself (core.beat)."""

from __future__ import annotations

import datetime
import time

import pytest
from django.core import mail
from django.utils import timezone

from config.celery import app
from core import beat
from gates.services import gate_reschedule
from notifications.models import Kind, Notification


@pytest.mark.parametrize(
    ("argv", "environ", "started"),
    [
        (["manage.py", "runserver", "127.0.0.1:8000"], {"RUN_MAIN": "true"}, True),
        (["manage.py", "runserver", "--noreload"], {}, True),
        # The autoreloader's parent only watches the files; its child serves.
        (["manage.py", "runserver"], {}, False),
        (["manage.py", "migrate"], {"RUN_MAIN": "true"}, False),
        (["/usr/bin/gunicorn", "config.wsgi"], {}, False),
        (["pytest"], {}, False),
    ],
)
def test_only_the_process_serving_runserver_starts_the_beat(settings, argv, environ, started):
    settings.TOLLGATE_EMBEDDED_BEAT = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert beat.should_start(argv, environ) is started


def test_a_broker_or_the_setting_keeps_the_embedded_beat_off(settings):
    serving = (["manage.py", "runserver"], {"RUN_MAIN": "true"})
    settings.TOLLGATE_EMBEDDED_BEAT = True
    settings.CELERY_TASK_ALWAYS_EAGER = False  # REDIS_URL: `celery beat` schedules
    assert beat.should_start(*serving) is False
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.TOLLGATE_EMBEDDED_BEAT = False
    assert beat.should_start(*serving) is False


@pytest.fixture
def short_schedule():
    """The reminder scan every fifth of a second instead of every hour."""
    saved = app.conf.beat_schedule
    app.conf.beat_schedule = {
        "reminder-scan": {"task": "notifications.tasks.reminder_scan_task", "schedule": 0.2}
    }
    yield
    beat.stop()
    app.conf.beat_schedule = saved


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_schedule_runs_the_reminder_scan_in_process(short_schedule, gate, owner, admin_user):
    gate_reschedule(
        gate=gate, due_on=timezone.localdate() - datetime.timedelta(days=2), actor=admin_user
    )

    thread = beat.start(app, max_interval=0.1)
    assert beat.start(app) is thread  # once per process
    deadline = time.monotonic() + 15
    while (
        time.monotonic() < deadline and not Notification.objects.filter(kind=Kind.OVERDUE).exists()
    ):
        time.sleep(0.1)

    assert Notification.objects.filter(kind=Kind.OVERDUE, recipient=owner).exists()
    assert any("overdue" in message.subject.lower() for message in mail.outbox)
    beat.stop()
    assert not thread.is_alive()
