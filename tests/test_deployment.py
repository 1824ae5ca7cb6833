"""How the shipped container serves: gunicorn's settings and the production database
connection, as the Dockerfile and config/gunicorn.py give them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _dockerfile_command() -> list[str]:
    line = next(
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD")
    )
    return json.loads(line.removeprefix("CMD"))


def test_the_container_and_the_benchmark_start_gunicorn_from_one_file():
    from bench import run
    from config import gunicorn

    command = _dockerfile_command()
    assert command[command.index("-c") + 1] == "config/gunicorn.py"
    # Threaded workers keep reporting to the master while a response streams.
    assert gunicorn.worker_class == "gthread" and gunicorn.threads >= 2
    assert (gunicorn.workers, gunicorn.timeout) == (run.WORKERS, run.WORKER_TIMEOUT)
    source = (ROOT / "bench" / "run.py").read_text()
    assert '"--config=config/gunicorn.py"' in source


def _settings_read(env: dict[str, str], expression: str) -> str:
    """`expression` over django.conf.settings, printed by a fresh process with `env`."""
    code = f"import django; from django.conf import settings; django.setup(); print({expression})"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


def test_production_keeps_database_connections_between_requests():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "tollgate.example.com",
        "DATABASE_URL": "postgres://tollgate@db:5432/tollgate",
    }
    env.pop("CONN_MAX_AGE", None)
    database = "settings.DATABASES['default']"
    read = _settings_read(env, f"{database}['CONN_MAX_AGE'], {database}['CONN_HEALTH_CHECKS']")
    max_age, health_checks = read.split()[-2:]
    assert int(max_age) > 0 and health_checks == "True"


def _dev_email(**extra) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.dev", **extra})
    env.pop("REDIS_URL", None)
    return _settings_read(env, "settings.EMAIL_BACKEND, getattr(settings, 'EMAIL_FILE_PATH', '')")


def test_make_run_keeps_its_email_as_files_not_on_the_console():
    # The demo's first reminder scan printed some 2,300 lines before the app's address.
    assert _dev_email() == f"django.core.mail.backends.filebased.EmailBackend {ROOT / 'mail'}"
    chosen = _dev_email(EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend")
    assert chosen.startswith("django.core.mail.backends.console.EmailBackend")


def slow_stream(environ, start_response):
    """A WSGI app whose response streams for longer than the worker timeout under test."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    for _ in range(16):
        time.sleep(0.5)
        yield b"x" * 1024


@pytest.mark.slow
def test_a_response_streaming_longer_than_the_worker_timeout_arrives_whole():
    """gates.csv at 50,000 initiatives streams for longer than `timeout`: a sync worker
    was killed mid-file; the shipped worker class must let it finish."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "tests.test_deployment:slow_stream",
            "--config=config/gunicorn.py",
            f"--bind=127.0.0.1:{port}",
            "--workers=1",
            "--timeout=2",  # the 8 s response outlives it
            "--access-logfile=/dev/null",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
                    body = response.read()
                break
            except (ConnectionError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert len(body) == 16 * 1024
    finally:
        server.terminate()
        server.wait(timeout=20)
