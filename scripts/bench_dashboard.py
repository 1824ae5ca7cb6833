"""Time the dashboard with the test Client: median and p95 server time, and query count.

DEBUG=false DATABASE_URL=postgres://... .venv/bin/python scripts/bench_dashboard.py \
    [--requests 20] [--user USERNAME]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from teams.roles import PortfolioRole  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--user", default="")
    parser.add_argument("--path", default="/dashboard/")
    args = parser.parse_args()
    users = get_user_model().objects
    user = (
        users.get(username=args.user)
        if args.user
        else users.filter(groups__name=PortfolioRole.EXECUTIVE).order_by("pk").first()
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    client.get(args.path)  # warm up: templates, connection
    timings = []
    queries = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - started) * 1000, sql))

    with connection.execute_wrapper(record):
        started = time.perf_counter()
        response = client.get(args.path)
        total = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.status_code
    for _ in range(args.requests):
        started = time.perf_counter()
        response = client.get(args.path)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
    print(
        f"{connection.vendor} {args.path} as {user.username}: "
        f"median {statistics.median(timings):.0f} ms, p95 {p95:.0f} ms, "
        f"{len(queries)} queries, {len(response.content) // 1024} KiB"
    )
    database = sum(ms for ms, _ in queries)
    print(f"  one request: {total:.0f} ms, of which {database:.0f} ms in the database")
    for ms, sql in sorted(queries, key=lambda q: -q[0])[:8]:
        print(f"  {ms:7.1f} ms  {sql[:150]}")


if __name__ == "__main__":
    main()
