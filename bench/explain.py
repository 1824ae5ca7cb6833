"""EXPLAIN (ANALYZE, BUFFERS) of every statement a page runs, kept in bench/results/explain/.

    DATABASE_URL=postgres://…/bench_50k DJANGO_SETTINGS_MODULE=bench.settings \
        .venv/bin/python -m bench.explain NAME PATH [--jit both] [--htmx] [--persona manager]

Requests PATH in-process as an executive (or a product manager), records its SQL, then
runs each statement again under EXPLAIN ANALYZE — with JIT as the server has it and,
with --jit both, also with JIT off — and writes bench/results/explain/NAME-<database>.txt.
Only statements that take at least --min-ms are written out in full.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "explain"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name")
    parser.add_argument("path")
    parser.add_argument("--jit", choices=["server", "both"], default="both")
    parser.add_argument("--htmx", action="store_true")
    parser.add_argument("--persona", choices=["executive", "manager"], default="executive")
    parser.add_argument("--min-ms", type=float, default=1.0)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.agent import _people

    # No token: a harness run on the same database keeps the one it holds.
    _admin, executive, manager, _secret = _people(token=False)
    client = Client()
    client.force_login(executive if args.persona == "executive" else manager)
    headers = {"HTTP_HX_REQUEST": "true"} if args.htmx else {}
    client.get(args.path, **headers)
    from django.core.cache import cache

    # The statements that compute, not a cached copy: not beside a harness run.
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(args.path, **headers)
        if hasattr(response, "streaming_content"):
            for _ in response.streaming_content:
                pass
        elapsed = (time.perf_counter() - started) * 1000
    statements = [query["sql"] for query in captured.captured_queries]
    database = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'initiatives_initiative'")
        reltuples = cursor.fetchone()[0]
        cursor.execute("SHOW jit")
        server_jit = cursor.fetchone()[0]
    lines = [
        f"# {args.name}: GET {args.path}{' (HTMX)' if args.htmx else ''} as {args.persona}",
        f"# database {database} (initiatives reltuples {reltuples:.0f}), jit on the server: "
        f"{server_jit}; {len(statements)} statements, {elapsed:.0f} ms in-process",
        "",
    ]
    settings = ["on", "off"] if args.jit == "both" else [server_jit]
    for number, sql in enumerate(statements, 1):
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue  # transactions and the database cache's own writes
        plans = {}
        for jit in settings:
            with connection.cursor() as cursor:
                cursor.execute(f"SET jit = {jit}")
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, SETTINGS) {sql}")
                plans[jit] = "\n".join(row[0] for row in cursor.fetchall())
                cursor.execute("RESET jit")
        times = {jit: _execution_ms(plan) for jit, plan in plans.items()}
        summary = ", ".join(f"jit {jit}: {ms:.1f} ms" for jit, ms in times.items())
        lines.append(f"## Statement {number}: {summary}")
        lines.append("")
        lines.append(sql)
        lines.append("")
        if max(times.values()) >= args.min_ms:
            for jit, plan in plans.items():
                lines += [f"### jit = {jit}", "", plan, ""]
    RESULTS.mkdir(parents=True, exist_ok=True)
    output = RESULTS / f"{args.name}-{database}.txt"
    output.write_text("\n".join(lines) + "\n")
    print(f"{output}: {len(statements)} statements, {elapsed:.0f} ms", file=sys.stderr)


def _execution_ms(plan: str) -> float:
    for line in plan.splitlines():
        if line.strip().startswith("Execution Time:"):
            return float(line.split(":")[1].split()[0])
    return 0.0


if __name__ == "__main__":
    main()
