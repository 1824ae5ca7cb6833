"""Work that must not run inside a web request, for the embedded default without a broker.

With `REDIS_URL`, Celery workers do this work. Without it Celery runs tasks in the calling
process, which would put a slow receiver's seconds into somebody's request; instead the task
runs here, on a small pool of threads of the same process, after the change committed. The
pool is created at first use; work in flight when the process stops is lost (the broker
keeps it across restarts).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait

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
    """Wait until the work submitted so far is done; False if `timeout` passed first."""
    with _lock:
        pending = list(_pending)
    _, not_done = futures_wait(pending, timeout=timeout)
    return not not_done
