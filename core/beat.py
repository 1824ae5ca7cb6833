"""The schedule of the embedded default: Celery's own beat, on a thread of the development server.

With `REDIS_URL`, `celery beat` (`make beat`) hands CELERY_BEAT_SCHEDULE to the workers. Without
it there is no broker and nothing else to start, so `manage.py runserver` (and so `make run`)
runs Celery's embedded beat service on a thread of its serving process: the same schedule, the
same tasks, run in that thread (tasks are eager without a broker). The schedule is kept in
memory: after a restart the next run of each entry is its next time on the clock.

Only the process that serves runserver's requests starts it, never the autoreloader's parent,
never gunicorn or a worker, never the tests; TOLLGATE_EMBEDDED_BEAT=false turns it off.
"""

from __future__ import annotations

import logging
import os
import threading

from celery import beat
from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

_started: threading.Thread | None = None
_lock = threading.Lock()


class EmbeddedScheduler(beat.Scheduler):
    """Celery's in-memory scheduler; the beat thread gives its database connections back
    after each task, as a worker does."""

    def setup_schedule(self):
        # What a worker does at start (on this thread, after the app registry is built):
        # import every app's tasks module, so each entry finds its task in this process
        # instead of being sent to a broker that is not there.
        self.app.autodiscover_tasks(force=True)
        super().setup_schedule()

    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        try:
            return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
        finally:
            connections.close_all()


def should_start(argv: list[str], environ: dict[str, str] | os._Environ) -> bool:
    """True in the process that serves `manage.py runserver`, without a broker, unless off."""
    if not getattr(settings, "TOLLGATE_EMBEDDED_BEAT", False):
        return False
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        return False  # a broker: `celery beat` schedules for the workers
    if len(argv) < 2 or argv[1] != "runserver":
        return False
    # Under the autoreloader the parent only watches files; its child serves (RUN_MAIN).
    return environ.get("RUN_MAIN") == "true" or "--noreload" in argv


def start(app, max_interval: float = 1.0) -> threading.Thread:
    """Start Celery's embedded beat on a daemon thread (once per process); return the thread."""
    global _started
    with _lock:
        if _started is None or not _started.is_alive():
            _started = beat.EmbeddedService(
                app, thread=True, scheduler_cls=EmbeddedScheduler, max_interval=max_interval
            )
            _started.start()
            logger.info("Embedded beat started: %s", ", ".join(sorted(app.conf.beat_schedule)))
        return _started


def stop() -> None:
    """Stop the embedded beat if it runs (and wait for its thread)."""
    global _started
    with _lock:
        if _started is not None:
            _started.stop()
            _started.join(timeout=10)
            _started = None
