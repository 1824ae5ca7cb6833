"""Settings for the benchmark, load and fault harness: production settings over loopback.

Production as deployed, with four differences that only suit a harness on one
machine: plain HTTP (no SSL redirect, no secure cookies), static files without
the collectstatic manifest, a per-token API rate high enough for a load test, and
a middleware that reports each request's query count in a response header.
"""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-insecure-key-not-for-production")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DATABASE_URL", "postgres://root@127.0.0.1:5432/bench_10k")
os.environ.setdefault("TOLLGATE_API_TOKEN_RATE", "10000000/hour")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("LOG_LEVEL", "WARNING")

from config.settings.prod import *  # noqa: F403

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]  # noqa: F405
# Servers of different sizes may share one Redis: keep their cached figures apart.
if "CACHES" in globals():
    CACHES["default"]["KEY_PREFIX"] = os.environ.get("BENCH_CACHE_PREFIX", "")  # noqa: F405
