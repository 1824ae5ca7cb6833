"""Test settings: fast hashing, in-memory email, tasks in-process unless REDIS_URL is set."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-insecure-key")

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The test client speaks to "testserver"; browser tests to 127.0.0.1.
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# Unit tests run tasks in-process; the real-worker tests start their own worker.
CELERY_TASK_ALWAYS_EAGER = env.bool("TOLLGATE_TEST_EAGER", default=True)  # noqa: F405
if not CELERY_TASK_ALWAYS_EAGER:
    # A real worker started by a test writes its mail where that test can read it.
    EMAIL_BACKEND = env("EMAIL_BACKEND", default=EMAIL_BACKEND)  # noqa: F405
    EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=None)  # noqa: F405
# The tests start the embedded beat themselves (tests/test_embedded_beat.py), never on import.
TOLLGATE_EMBEDDED_BEAT = False
# Without a broker, work is handed to a background thread (core.background.dispatch); a
# test's data lives in a transaction no other thread sees, so tests run it in the calling
# thread instead. tests/api/test_webhooks.py and tests/test_background.py check the
# background path with committed data.
TOLLGATE_BACKGROUND_INLINE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "evidence": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
}
# Without Redis, one process's memory: the database cache would add its own queries to
# every page's count, and the counts are tests. (tests/conftest.py clears it per test.)
if not REDIS_URL:  # noqa: F405
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
