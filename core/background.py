"""Work that must not run inside a web request, for the embedded default without a broker.

With `REDIS_URL`, Celery workers do this work. Without it Celery runs tasks in the calling
process, which would put a slow receiver's or mail server's seconds into somebody's
request; instead the task runs here, on a small pool of threads of the same process, after
the change committed. The pool is created at first use; work in flight when the process
stops is lost (the broker keeps it across restarts).

`dispatch(task, ...)` is the one way a request hands off work (webhook deliveries, notices,
notification emails, password-reset and invitation emails): to a Celery worker when there
is a broker, to this pool when there is not. `TOLLGATE_BACKGROUND_INLINE` runs it in the
calling thread instead, for tests whose data lives in a transaction no other thread sees.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

THREADS = 2
_executor: ThreadPoolExecutor | None = None
_pending: set[Future] = set()
_lock = threading.Lock()


def _run(function, args, kwargs) -> None:
    try:
        function(*args, **kwargs)
    except Exception:
        logger.exception("Background work %s failed", getattr(function, "__name__", function))
    finally:
        connections.close_all()  # this thread's own connections


def submit(function, *args, **kwargs) -> Future:
    """Run `function(*args, **kwargs)` on a background thread; never raises its errors."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(THREADS, thread_name_prefix="tollgate-background")
        future = _executor.submit(_run, function, args, kwargs)
        _pending.add(future)
    future.add_done_callback(_forget)
    return future


def _forget(future: Future) -> None:
    with _lock:
        _pending.discard(future)


def wait(timeout: float | None = None) -> bool:
    """Wait until the work submitted so far, and the work it submitted in turn (notices
    queue their emails), is done; False if `timeout` passed first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with _lock:
            pending = list(_pending)
        if not pending:
            return True
        left = None if deadline is None else max(deadline - time.monotonic(), 0)
        _, not_done = futures_wait(pending, timeout=left)
        if not_done:
            return False


def dispatch(task, *args, **kwargs) -> None:
    """Run the Celery `task` with these arguments, never inside the current web request.

    With a broker it is queued for a worker; without one it runs on the background pool
    (or, with TOLLGATE_BACKGROUND_INLINE, right here, as Celery's eager mode would).
    Call it after commit (`transaction.on_commit`), so the work sees the committed rows.
    """
    eager = task.app.conf.task_always_eager
    if not eager or getattr(settings, "TOLLGATE_BACKGROUND_INLINE", False):
        task.delay(*args, **kwargs)  # to the broker, or (eager, inline) right here
    else:
        submit(task.apply, args=args, kwargs=kwargs, throw=False)
