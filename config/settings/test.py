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
CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
