"""Limits hold across processes: two worker processes, configured as a deployment is (the
database cache without REDIS_URL, Redis with it), share the API throttle, the password
reset counts and the sign-in lockout. Each process is a separate Python interpreter, as
two gunicorn workers are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

WORKER = r"""
import json, sys, types
import django
django.setup()
from django.test import Client
from apiauth.models import ApiToken
from apiauth.throttling import TokenRateThrottle
from core.limits import hit

job, count = sys.argv[1], int(sys.argv[2])
if job == "throttle":
    token = ApiToken(secret_hash="f" * 64)  # never saved: the throttle reads only the hash
    request = types.SimpleNamespace(auth=token)
    passed = sum(TokenRateThrottle().allow_request(request, None) for _ in range(count))
elif job == "reset":
    passed = sum(hit("password-reset-address", "someone", "3/hour") for _ in range(count))
else:
    client = Client(REMOTE_ADDR="192.0.2.7")
    answers = [
        client.post("/accounts/login/", {"username": "pm", "password": "wrong"}).status_code
        for _ in range(count)
    ]
    passed = answers
print(json.dumps(passed))
"""


def _environment(tmp_path: Path, redis_url: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "PYTEST"))
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",  # a deployment's cache, not the tests'
        SECRET_KEY="shared-limits-test",
        ALLOWED_HOSTS="testserver",
        DATABASE_URL=f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        REDIS_URL=redis_url,
        TOLLGATE_API_TOKEN_RATE="20/hour",
        AXES_FAILURE_LIMIT="5",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        PYTHONPATH=str(ROOT),
    )
    return environment


def _run(environment, *args) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _two_workers(environment, job: str, each: int) -> list[int]:
    """Start two processes at once, each making `each` attempts; what each let through."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, job, str(each)],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    passed = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-3000:]
        passed.append(json.loads(out.strip().splitlines()[-1]))
    return passed


BACKENDS = ["database"] + (["redis"] if os.environ.get("REDIS_URL") else [])


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_two_processes_share_throttles_resets_and_lockouts(tmp_path, backend):
    environment = _environment(tmp_path, os.environ["REDIS_URL"] if backend == "redis" else "")
    _run(environment, "manage.py", "migrate", "--noinput", "-v", "0")
    _run(environment, "manage.py", "createcachetable")
    if backend == "redis":
        _run(
            environment,
            "-c",
            "import django; django.setup(); from django.core.cache import cache; cache.clear()",
        )
    # 15 requests per worker at 20 an hour: 20 pass in all, not 30.
    assert sum(_two_workers(environment, "throttle", 15)) == 20
    # Three reset emails an hour for an address, whichever worker the requests reach.
    assert sum(_two_workers(environment, "reset", 3)) == 3
    # Five failed sign-ins lock the username out for the address, across workers: the two
    # processes send four each; counted apart, all eight would show the form again (200).
    answers = [status for worker in _two_workers(environment, "login", 4) for status in worker]
    assert answers.count(200) in (4, 5) and answers.count(429) >= 3, answers


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the count in Redis")
def test_a_count_in_redis_expires_after_its_window():
    """The count is made and incremented in one round trip; made, it expires after its
    window (and a minute), so the counts of ended windows do not pile up in Redis."""
    from django.core.cache import caches

    from core.limits import hit

    assert [hit("expiry-check", "someone", "2/hour") for _ in range(3)] == [True, True, False]
    client = caches["default"]._cache.get_client()
    names = client.keys("*limit:expiry-check:*")
    assert names
    assert all(3600 < client.ttl(name) <= 3660 for name in names)
