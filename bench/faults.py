"""Fault tests: the broker, a Celery worker, SMTP and PostgreSQL failing while Tollgate works.

    .venv/bin/python -m bench.faults [--with-postgres]

Runs against its own database (`bench_faults`, 200 generated initiatives), its own
Redis (127.0.0.1:6390), its own gunicorn (127.0.0.1:8766, reaching PostgreSQL
through a TCP proxy on 5499 that can be cut), Celery worker and fake SMTP server
(127.0.0.1:2526), so the shared Redis and PostgreSQL keep running. Only
`--with-postgres` stops the shared PostgreSQL cluster, for 5 s, and always
starts it again. Every reminder is checked against what the SMTP server got:
lost = a notification marked sent that never arrived, or one still pending at
the end; duplicated = one notification that arrived more than once.

Scenarios:
1. redis-down: a burst of page, API and webhook-producing requests while the
   broker is stopped, and a reminder scan during the outage; after Redis comes
   back, the next scan re-drives the pending reminders and a worker sends them.
2. worker-killed: a worker is SIGKILLed while it sends a scan's reminders;
   a new worker and the re-drive finish the job.
3. smtp-failing: every send is refused; each re-drive retries until the
   attempts run out and the notifications are marked failed; "retry failed"
   then sends them once SMTP is back.
4. database-unreachable: the proxy drops the web app's database connections and
   refuses new ones for 5 s; requests must get a clear 503, never a 500.
5. postgres-stopped (only with --with-postgres): the same with the real server
   stopped.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import fakesmtp, tcpproxy
from bench.run import DEFAULT_URL, RESULTS, ROOT, _with_database, prepare_database

REDIS_PORT = 6390
WEB_PORT = 8766
SMTP_PORT = 2526
PROXY_PORT = 5499  # the web app reaches PostgreSQL through bench/tcpproxy.py
FAULTS_DATABASE = "bench_faults"
FAULTS_INITIATIVES = 200
REDRIVE = datetime.timedelta(minutes=16)  # past redrive_after_minutes (15)
VENV_BIN = Path(sys.executable).parent


def _pg_version() -> str:
    return sorted(os.listdir("/etc/postgresql"))[-1]


def pg_stop() -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", _pg_version(), "main", "stop", "-m", "fast"],
        check=True,
    )


def pg_start() -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", _pg_version(), "main", "start"],
        check=False,
    )


class Services:
    """The processes this harness starts (and only those), each stopped by its own id."""

    def __init__(self, env: dict, web_env: dict):
        self.env = env
        self.web_env = web_env
        self.redis: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None

    def start_redis(self) -> None:
        directory = Path("/tmp/bench-faults-redis")
        directory.mkdir(exist_ok=True)
        self.redis = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(REDIS_PORT),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(directory),
            ],
            stdout=subprocess.DEVNULL,
        )
        _wait_port(REDIS_PORT)

    def stop_redis(self) -> None:
        _stop(self.redis)
        self.redis = None

    def start_web(self) -> None:
        self.web = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "config.wsgi:application",
                f"--bind=127.0.0.1:{WEB_PORT}",
                "--config=config/gunicorn.py",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=self.web_env,
        )
        _wait_http(f"http://127.0.0.1:{WEB_PORT}/healthz")

    def start_worker(self) -> None:
        # Its own session, so a SIGKILL reaches the pool processes too.
        self.worker = subprocess.Popen(
            [
                str(VENV_BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel=WARNING",
                "--concurrency=2",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
        )

    def kill_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait()
        self.worker = None

    def stop_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill_worker()
        self.worker = None

    def stop_all(self) -> None:
        self.stop_worker()
        _stop(self.web)
        self.stop_redis()


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_port(port: int, seconds: float = 10) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def _wait_http(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


# --- Requests -----------------------------------------------------------------------------


class Burst:
    """Requests from a few threads until stopped; records (name, status, ms, during outage)."""

    def __init__(self, requests: list[tuple[str, urllib.request.Request]], threads: int = 4):
        self.requests = requests
        self.threads = threads
        self.records: list[tuple[str, int, float, bool]] = []
        self.outage = threading.Event()
        self._stop = threading.Event()
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def _loop(self, offset: int) -> None:
        index = offset
        while not self._stop.is_set():
            name, request = self.requests[index % len(self.requests)]
            index += 1
            during = self.outage.is_set()
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                status = 0  # no answer at all
            self.records.append((name, status, (time.perf_counter() - started) * 1000, during))

    def __enter__(self) -> Burst:
        self._pool = concurrent.futures.ThreadPoolExecutor(self.threads)
        for offset in range(self.threads):
            self._pool.submit(self._loop, offset)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True)

    def summary(self, *, during: bool) -> dict:
        rows = [record for record in self.records if record[3] == during]
        statuses = Counter(f"{name} {status}" for name, status, _, _ in rows)
        slowest = max((ms for _, _, ms, _ in rows), default=0)
        slowest_by_request: dict[str, int] = {}
        for name, _, ms, _ in rows:
            slowest_by_request[name] = max(slowest_by_request.get(name, 0), round(ms))
        return {
            "slowest_by_request": slowest_by_request,
            "requests": len(rows),
            "5xx": sum(1 for _, status, _, _ in rows if status >= 500),
            "500": sum(1 for _, status, _, _ in rows if status >= 500 and status != 503),
            "no_answer": sum(1 for _, status, _, _ in rows if status == 0),
            "slowest_ms": round(slowest),
            "statuses": dict(sorted(statuses.items())),
        }


def _requests(fixtures: dict) -> list[tuple[str, urllib.request.Request]]:
    base = f"http://127.0.0.1:{WEB_PORT}"
    cookie = {"Cookie": f"sessionid={fixtures['session']}"}
    bearer = {"Authorization": f"Bearer {fixtures['token']}", "Content-Type": "application/json"}
    missing = json.dumps({"measurements": fixtures["missing_measurements"]}).encode()
    meeting = json.dumps({"measurements": fixtures["meeting_measurements"]}).encode()
    return [
        ("board", urllib.request.Request(base + "/", headers=cookie)),
        (
            "initiative",
            urllib.request.Request(f"{base}/initiatives/{fixtures['key']}/", headers=cookie),
        ),
        ("healthz", urllib.request.Request(base + "/healthz")),
        ("api list", urllib.request.Request(base + "/api/v1/initiatives/", headers=bearer)),
        (
            "api ingest missed (webhook)",
            urllib.request.Request(
                base + "/api/v1/measurements/", data=missing, headers=bearer, method="POST"
            ),
        ),
        (
            "api ingest met",
            urllib.request.Request(
                base + "/api/v1/measurements/", data=meeting, headers=bearer, method="POST"
            ),
        ),
    ]


# --- Checking the reminders ---------------------------------------------------------------


def reminders_check(mailbox: fakesmtp.Mailbox, *, since_id: int) -> dict:
    """Every notification since `since_id` against what the SMTP server received."""
    from notifications.models import Notification

    rows = list(
        Notification.objects.filter(pk__gt=since_id)
        .select_related("recipient")
        .values_list("state", "recipient__email", "subject", "attempts")
    )
    with mailbox.lock:
        arrived = Counter(mailbox.received)
    states = Counter(state for state, _, _, _ in rows)
    sent = Counter(
        (email_address, subject) for state, email_address, subject, _ in rows if state == "sent"
    )
    lost = sum(max(0, count - arrived[key]) for key, count in sent.items())
    duplicated = sum(max(0, arrived[key] - count) for key, count in sent.items())
    return {
        "notifications": len(rows),
        "states": dict(states),
        "emails_received": sum(arrived.values()),
        "lost": lost + states.get("pending", 0),
        "duplicated": duplicated,
        "max_attempts": max((attempts for *_, attempts in rows), default=0),
    }


def wait_drained(seconds: float = 120) -> bool:
    from notifications.models import Notification

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not Notification.objects.filter(state="pending").exists():
            return True
        time.sleep(0.5)
    return False


def last_notification_id() -> int:
    from notifications.models import Notification

    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def reset_notifications() -> None:
    from notifications.models import Notification

    Notification.objects.all().delete()


def fixtures() -> dict:
    """A session, an API token, a webhook on target.missed, and a batch that misses targets."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from apiauth.models import ApiToken, Webhook
    from initiatives.models import Initiative, Target

    User = get_user_model()
    admin, _ = User.objects.get_or_create(
        username="bench-admin",
        defaults={"is_staff": True, "is_superuser": True, "email": "bench-admin@bench.example"},
    )
    client = Client()
    client.force_login(admin)
    ApiToken.objects.filter(user=admin, name="bench-faults").delete()
    _, token = ApiToken.issue(user=admin, name="bench-faults", scope=ApiToken.Scope.READ_WRITE)
    Webhook.objects.get_or_create(
        name="bench-faults",
        defaults={
            "url": "http://127.0.0.1:9/hook",
            "secret": "bench",
            "events": ["target.missed", "gate.decided"],
        },
    )
    targets = list(Target.objects.filter(comparator=">=").order_by("pk")[:5])
    key = Initiative.objects.filter(status="active").order_by("key").values_list("key", flat=True)
    return {
        "session": client.cookies["sessionid"].value,
        "token": token,
        "key": key.first(),
        # Far below, then far above a ">=" threshold: each flip to missed queues a webhook.
        "missing_measurements": [{"target": t.pk, "value": -1e6} for t in targets],
        "meeting_measurements": [{"target": t.pk, "value": 1e9} for t in targets],
    }


# --- Scenarios ----------------------------------------------------------------------------


def redis_down(services: Services, mailbox, data: dict) -> dict:
    from notifications.services import reminder_scan

    reset_notifications()
    mailbox.clear()
    mailbox.mode = "ok"
    since = last_notification_id()
    requests = _requests(data)
    with Burst(requests) as burst:
        time.sleep(2)
        services.stop_redis()
        burst.outage.set()
        outage_started = time.monotonic()
        scan = reminder_scan()  # enqueueing fails; the rows stay pending
        pending_after_scan = len(scan.to_send)
        time.sleep(max(0, 5 - (time.monotonic() - outage_started)))
        burst.outage.clear()
        services.start_redis()
        time.sleep(2)
    healthz = [r for r in burst.records if r[0] == "healthz" and r[3]]
    services.start_worker()
    redriven = reminder_scan(now=datetime.datetime.now(tz=datetime.UTC) + REDRIVE)
    drained = wait_drained()
    return {
        "before": burst.summary(during=False),
        "during_outage": burst.summary(during=True),
        "healthz_during_outage": sorted({status for _, status, _, _ in healthz}),
        "reminders_created_during_outage": scan.created,
        "left_pending_by_outage": pending_after_scan,
        "redriven_after_redis_returned": redriven.redriven,
        "drained": drained,
        "check": reminders_check(mailbox, since_id=since),
    }


def worker_killed(services: Services, mailbox, data: dict) -> dict:
    from notifications.services import reminder_scan
    from notifications.tasks import reminder_scan_task

    reset_notifications()
    mailbox.clear()
    mailbox.mode = "slow"
    since = last_notification_id()
    if services.worker is None:
        services.start_worker()
    reminder_scan_task.delay()
    deadline = time.monotonic() + 30
    while len(mailbox.received) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    services.kill_worker()
    received_before_kill = len(mailbox.received)
    time.sleep(1)
    services.start_worker()
    mailbox.mode = "ok"
    time.sleep(5)  # the new worker takes what was still queued
    redriven = reminder_scan(now=datetime.datetime.now(tz=datetime.UTC) + REDRIVE)
    drained = wait_drained()
    return {
        "emails_before_kill": received_before_kill,
        "redriven_after_restart": redriven.redriven,
        "drained": drained,
        "check": reminders_check(mailbox, since_id=since),
    }


def smtp_failing(services: Services, mailbox, data: dict) -> dict:
    from notifications.models import Notification
    from notifications.services import (
        notifications_retry_failed,
        notifications_send_now,
        reminder_defaults,
        reminder_scan,
    )

    reset_notifications()
    mailbox.clear()
    mailbox.mode = "fail"
    since = last_notification_id()
    now = datetime.datetime.now(tz=datetime.UTC)
    first = reminder_scan(now=now, enqueue=False)
    rounds = [notifications_send_now(ids=first.to_send)]
    max_attempts = reminder_defaults()["max_send_attempts"]
    for round_number in range(1, max_attempts):
        again = reminder_scan(now=now + round_number * REDRIVE, enqueue=False)
        rounds.append(notifications_send_now(ids=again.to_send))
    failed = reminders_check(mailbox, since_id=since)
    refused = mailbox.refused
    mailbox.mode = "ok"
    if services.worker is None:
        services.start_worker()
    retried = notifications_retry_failed(queryset=Notification.objects.filter(pk__gt=since))
    drained = wait_drained()
    return {
        "created": first.created,
        "send_rounds": rounds,
        "refused_by_smtp": refused,
        "after_failing_rounds": failed,
        "retried_by_admin_action": retried,
        "drained": drained,
        "check": reminders_check(mailbox, since_id=since),
    }


def _database_outage(data: dict, stop, start) -> dict:
    requests = [r for r in _requests(data) if not r[0].startswith("api ingest")]
    with Burst(requests, threads=3) as burst:
        time.sleep(2)
        try:
            burst.outage.set()
            stop()
            time.sleep(5)
        finally:
            start()
            burst.outage.clear()
        time.sleep(5)
    return {
        "before_and_after": burst.summary(during=False),
        "during_outage": burst.summary(during=True),
    }


def database_unreachable(proxy: tcpproxy.Proxy, data: dict) -> dict:
    """The web app's connections to PostgreSQL cut for 5 s (the shared server keeps running)."""
    return _database_outage(data, proxy.cut, proxy.start)


def postgres_stopped(data: dict) -> dict:
    """The shared PostgreSQL cluster stopped for 5 s, then started again."""
    return _database_outage(data, pg_stop, pg_start)


def report(results: dict, started: str) -> str:
    lines = [f"# Fault tests — {started}", ""]
    for name, result in results.items():
        lines += [f"## {name}", "", "```json", json.dumps(result, indent=2, default=str), "```", ""]
    lines += ["## Verdicts", ""]
    for name, result in results.items():
        check = result.get("check") if isinstance(result, dict) else None
        if check:
            ok = check["lost"] == 0 and check["duplicated"] == 0 and result.get("drained", True)
            lines.append(
                f"- {'MET   ' if ok else 'MISSED'} {name}: {check['lost']} lost, "
                f"{check['duplicated']} duplicated of {check['notifications']} reminders"
            )
        failing = result.get("after_failing_rounds") if isinstance(result, dict) else None
        if failing:
            all_failed = failing["states"].get("failed", 0) == failing["notifications"]
            lines.append(
                f"- {'MET   ' if all_failed else 'MISSED'} {name}: after the failing rounds "
                f"{failing['states']} with at most {failing['max_attempts']} attempts"
            )
        outage = result.get("during_outage") if isinstance(result, dict) else None
        if outage:
            around = result.get("before_and_after") or result.get("before") or {}
            errors = outage["500"] + around.get("500", 0)
            lines.append(
                f"- {'MET   ' if errors == 0 else 'MISSED'} {name}: {errors} responses 500 "
                f"(5xx other than 503), {outage['requests']} requests during the outage "
                f"(statuses {outage['statuses']})"
            )
        if isinstance(result, dict) and "error" in result:
            lines.append(f"- ERROR  {name}: {result['error']}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument(
        "--with-postgres",
        action="store_true",
        help="also stop the shared PostgreSQL for a few seconds (disturbs everyone using it)",
    )
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="scenarios to run: redis-down worker-killed smtp-failing database-unreachable "
        "postgres-stopped (the last one only with --with-postgres)",
    )
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    url = _with_database(args.database_url, FAULTS_DATABASE)
    print(prepare_database(url, FAULTS_INITIATIVES, 10 * FAULTS_INITIATIVES))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "EMAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}",
        "LOG_LEVEL": "ERROR",
    }
    os.environ.update(env)
    import django

    django.setup()
    parts = urlsplit(url)
    user = parts.username or "root"
    web_url = urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{PROXY_PORT}"))
    proxy = tcpproxy.Proxy(PROXY_PORT, parts.port or 5432)
    proxy.start()
    mailbox, smtp = fakesmtp.start(SMTP_PORT)
    services = Services(env, {**env, "DATABASE_URL": web_url})
    results: dict = {}
    scenarios = {
        "redis-down": lambda data: redis_down(services, mailbox, data),
        "worker-killed": lambda data: worker_killed(services, mailbox, data),
        "smtp-failing": lambda data: smtp_failing(services, mailbox, data),
        "database-unreachable": lambda data: database_unreachable(proxy, data),
    }
    if args.with_postgres:
        scenarios["postgres-stopped"] = postgres_stopped
    else:
        results["postgres-stopped"] = {"skipped": "run with --with-postgres"}
    try:
        services.start_redis()
        services.start_web()
        data = fixtures()
        for name, scenario in scenarios.items():
            if args.only and name not in args.only:
                continue
            print(f"Scenario {name}", file=sys.stderr)
            try:
                results[name] = scenario(data)
            except Exception as error:  # report it and go on with the next scenario
                results[name] = {"error": f"{type(error).__name__}: {error}"}
            if services.redis is None:
                services.start_redis()
    finally:
        services.stop_all()
        smtp.shutdown()
        proxy.cut()
        if args.with_postgres:
            pg_start()
    text = report(results, started)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "faults.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
