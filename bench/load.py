"""Load test: 50 Locust users for 60 s against gunicorn on 127.0.0.1, production settings.

    .venv/bin/python -m bench.load [--users 50] [--duration 60] [--initiatives 10000]

Copies the benchmark database (bench/run.py prepares it) to a throwaway
`bench_load`, so the writes of the test (checklist edits, gate decisions) never
touch the data the benchmark reuses. Runs gunicorn (config/gunicorn.py, as the
Dockerfile does) with bench/settings.py and a private Redis on port 6391 as broker,
then Locust headless; always stops both and drops the copy. Loopback only.
Writes bench/results/load.md (and Locust's CSV files) and checks the targets:
p99 < 500 ms, no request over 1 s, zero errors.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.run import (
    DEFAULT_URL,
    RESULTS,
    ROOT,
    _connect,
    _database_name,
    _with_database,
    machine,
    prepare_database,
)

PORT = 8765
REDIS_PORT = 6391
LOAD_DATABASE = "bench_load"


def clone_database(source_url: str) -> str:
    """A fresh copy of the benchmark database for the test to write to."""
    target_url = _with_database(source_url, LOAD_DATABASE)
    with _connect(_with_database(source_url, "postgres")) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{LOAD_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{LOAD_DATABASE}" TEMPLATE "{_database_name(source_url)}"')
    return target_url


def drop_database(url: str) -> None:
    with _connect(_with_database(url, "postgres")) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{LOAD_DATABASE}" WITH (FORCE)')


def write_fixtures(path: Path) -> None:
    """Sessions, CSRF tokens, ids and an API token, made in this process for the Locust users."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client

    from apiauth.models import ApiToken
    from gates.models import ChecklistItem, Gate
    from initiatives.models import Framework, Initiative
    from teams.roles import PortfolioRole

    User = get_user_model()

    def session(user) -> str:
        client = Client()
        client.force_login(user)
        return client.cookies["sessionid"].value

    admin, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    executive = User.objects.filter(groups__name=PortfolioRole.EXECUTIVE).order_by("pk").first()
    framework = Framework.objects.get(is_default=True)
    active = Initiative.objects.filter(framework=framework, status=Initiative.Status.ACTIVE)
    editors = []
    for owner in User.objects.filter(groups__name=PortfolioRole.PRODUCT_MANAGER).order_by("pk"):
        items = list(
            ChecklistItem.objects.filter(
                gate__initiative__owner=owner,
                gate__initiative__status=Initiative.Status.ACTIVE,
                gate__state=Gate.State.OPEN,
                target__isnull=True,
            ).values_list("pk", flat=True)[:200]
        )
        if items:
            editors.append(
                {"session": session(owner), "csrf": _get_new_csrf_string(), "items": items}
            )
    voters = []
    for sponsor in User.objects.filter(groups__name=PortfolioRole.EXECUTIVE).order_by("pk"):
        gates = list(
            Gate.objects.filter(
                state=Gate.State.IN_REVIEW,
                gatekeepers__user=sponsor,
                initiative__status=Initiative.Status.ACTIVE,
            ).values_list("pk", flat=True)
        )
        if gates:
            voters.append(
                {"session": session(sponsor), "csrf": _get_new_csrf_string(), "gates": gates}
            )
    ApiToken.objects.filter(user=admin, name="bench-load").delete()
    _, token = ApiToken.issue(user=admin, name="bench-load", scope=ApiToken.Scope.READ)
    fixtures = {
        "reader_session": session(executive),
        "teams": sorted({slug for slug in active.values_list("team__slug", flat=True)}),
        "initiative_keys": list(active.order_by("?").values_list("key", flat=True)[:500]),
        "editors": editors,
        "voters": voters,
        "token": token,
        "api_pages": max(1, Initiative.objects.count() // 100),
    }
    path.write_text(json.dumps(fixtures))
    from django.db import connections

    connections.close_all()


def warm_up(fixtures_path: Path) -> None:
    """A few requests per page first, so every worker has its imports and templates loaded."""
    fixtures = json.loads(fixtures_path.read_text())
    base = f"http://127.0.0.1:{PORT}"
    pages = ["/", "/dashboard/", f"/initiatives/{fixtures['initiative_keys'][0]}/"]
    for _ in range(4):
        for path in pages:
            request = urllib.request.Request(
                base + path, headers={"Cookie": f"sessionid={fixtures['reader_session']}"}
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
        request = urllib.request.Request(
            base + "/api/v1/initiatives/?page_size=100",
            headers={"Authorization": f"Bearer {fixtures['token']}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} did not answer within {seconds:.0f} s")
        time.sleep(0.5)


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def summarise(prefix: Path, args, info: dict) -> str:
    with open(f"{prefix}_stats.csv") as stats_file:
        rows = list(csv.DictReader(stats_file))
    failures_by_status: dict[str, int] = {}
    failures_path = Path(f"{prefix}_failures.csv")
    if failures_path.exists():
        with open(failures_path) as failures_file:
            for row in csv.DictReader(failures_file):
                error = row["Error"]
                failures_by_status[error] = failures_by_status.get(error, 0) + int(
                    row["Occurrences"]
                )
    lines = [
        f"# Load test — {info['when']}",
        "",
        f"{args.users} users (spawn rate 10/s) for {args.duration} s against gunicorn "
        f"(config/gunicorn.py, as in the Dockerfile) on 127.0.0.1 with production settings, "
        f"database a copy of "
        f"{info['initiatives']:,} initiatives. Machine: {info['cpus']} CPUs, load average at "
        f"start {info['load']}; Locust, gunicorn and PostgreSQL share the machine.",
        "",
        "| Request | count | failures | median ms | p95 ms | p99 ms | max ms | req/s |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    aggregate = None
    for row in rows:
        if row["Name"] == "Aggregated":
            aggregate = row
        lines.append(
            f"| {row['Name']} | {row['Request Count']} | {row['Failure Count']} "
            f"| {row['50%']} | {row['95%']} | {row['99%']} "
            f"| {float(row['Max Response Time']):.0f} | {float(row['Requests/s']):.1f} |"
        )
    if aggregate is None:
        return "\n".join([*lines, "", "No aggregate row: Locust recorded nothing."]) + "\n"
    p99 = float(aggregate["99%"])
    slowest = float(aggregate["Max Response Time"])
    failures = int(aggregate["Failure Count"])
    lines += [
        "",
        "## Targets",
        "",
        f"- {'MET   ' if p99 < 500 else 'MISSED'} p99 < 500 ms: {p99:.0f} ms",
        f"- {'MET   ' if slowest <= 1000 else 'MISSED'} no request over 1 s: slowest "
        f"{slowest:.0f} ms",
        f"- {'MET   ' if failures == 0 else 'MISSED'} zero errors: {failures} of "
        f"{aggregate['Request Count']}",
    ]
    for error, count in sorted(failures_by_status.items()):
        lines.append(f"  - {count} × {error}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--initiatives", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60)
    args = parser.parse_args()

    info = {**machine(), "initiatives": args.initiatives}
    info["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(prepare_database(args.database_url, args.initiatives, 10 * args.initiatives))
    RESULTS.mkdir(parents=True, exist_ok=True)
    fixtures = RESULTS / "load-fixtures.json"
    prefix = RESULTS / "load"
    load_url = clone_database(args.database_url)
    env = {
        **os.environ,
        "DATABASE_URL": load_url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "LOAD_FIXTURES": str(fixtures),
    }
    redis = web = None
    try:
        os.environ.update({key: env[key] for key in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")})
        write_fixtures(fixtures)
        redis_dir = Path("/tmp/bench-load-redis")
        redis_dir.mkdir(exist_ok=True)
        redis = subprocess.Popen(
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
                str(redis_dir),
            ],
            stdout=subprocess.DEVNULL,
        )
        web = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi:application",
                f"--bind=127.0.0.1:{PORT}",
                "--config=config/gunicorn.py",
            ],
            cwd=ROOT,
            env=env,
        )
        wait_for(f"http://127.0.0.1:{PORT}/healthz", 30)
        warm_up(fixtures)
        subprocess.run(
            [
                str(Path(sys.executable).parent / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                f"--users={args.users}",
                "--spawn-rate=10",
                f"--run-time={args.duration}s",
                f"--host=http://127.0.0.1:{PORT}",
                f"--csv={prefix}",
                "--only-summary",
                "--stop-timeout=5",
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=env,
            timeout=args.duration + 120,
            check=False,
        )
    finally:
        stop(web)
        stop(redis)
        drop_database(args.database_url)
        fixtures.unlink(missing_ok=True)
    text = summarise(prefix, args, info)
    (RESULTS / "load.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
