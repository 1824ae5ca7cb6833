"""One end-to-end run through Redis and a real Celery worker process."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app
from gates.models import Gate
from notifications.models import Notification
from notifications.services import reminder_scan

REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (a Redis broker)"),
]


def database_url() -> str:
    """The test database, as a URL the worker process can open."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def producer_on_redis():
    """Make this process publish tasks to Redis instead of running them in-process."""
    import redis

    redis.Redis.from_url(REDIS_URL).delete("celery")  # leftovers of an earlier run
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = previous


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_sends_the_reminder(gate, owner, tmp_path: Path, producer_on_redis):
    if connection.vendor != "postgresql":
        pytest.skip("the worker needs a database it can open; SQLite test databases are in memory")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    Gate.objects.filter(pk=gate.pk).update(due_on=tomorrow)
    gate.initiative.__class__.objects.filter(pk=gate.initiative_id).update(gate_due_on=tomorrow)

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TOLLGATE_TEST_EAGER": "false",
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path),
    }
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-c", "1"),
            *("--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"),
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(worker.stdout.readline, b"")))
    reader.start()
    try:
        # Start-up time varies with machine load; the 30 s below is for the delivery.
        started = time.monotonic() + 60
        while time.monotonic() < started and not any(b"ready." in line for line in output):
            assert worker.poll() is None, b"".join(output).decode(errors="replace")
            time.sleep(0.2)

        result = reminder_scan()
        assert result.created == 1 and len(result.to_send) == 1

        deadline = time.monotonic() + 30
        files = []
        while time.monotonic() < deadline and not files:
            files = list(tmp_path.iterdir())
            time.sleep(0.2)
        assert files, "the worker wrote no email within 30 s"
        email = files[0].read_text()
        assert "To: pm@example.com" in email
        assert f"{gate.initiative.key}: Proof of concept gate due in 1 day" in email

        notification = Notification.objects.get()
        while time.monotonic() < deadline and notification.state != Notification.State.SENT:
            time.sleep(0.2)
            notification.refresh_from_db()
        assert notification.state == Notification.State.SENT
        assert notification.attempts == 1
    except BaseException:
        stop(worker, reader)
        print(b"".join(output).decode(errors="replace")[-4000:])
        raise
    else:
        stop(worker, reader)


def stop(worker: subprocess.Popen, reader: threading.Thread) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
    reader.join(timeout=5)
