"""Portfolio import benchmark: a generated workbook of N initiative rows, imported and re-imported.

    DATABASE_URL=postgres://... .venv/bin/python -m bench.imports [--rows 10000] [--history 500]

Uses the database in DATABASE_URL (migrated; SQLite when unset), adds the demo's
people and teams if missing, writes an .xlsx workbook of `--rows` initiatives
(both frameworks, every stage but the last, business case, tags, three targets)
and imports it: reading, checking (the dry run) and writing are timed apart and
the queries counted. Then the same file again (a no-op), and `--history` more
initiatives with two decisions, checklist ticks and weekly readings each, whose
history is replayed through the gate services. Everything imported is deleted
at the end, so the database is left as it was.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import random
import sys
import time

SEED = 20261130


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()


def _workbook(rows: int, *, rng: random.Random, prefix: str) -> bytes:
    from openpyxl import Workbook

    from portfolio_import.columns import INITIATIVES

    today = datetime.date.today()
    teams = ["customer-operations", "finance", "risk-compliance", "supply-chain"]
    stages = {
        "ai-maturity": ["poc", "mvp", "production"],
        "phased-rollout": ["poc", "mvp-build", "pilot", "hardening"],
    }
    metrics = [
        "accuracy >= 90",
        "latency_p95_ms <= 800",
        "cost_per_task <= 0.02",
        "uptime >= 99.5",
        "task_success_rate >= 85",
    ]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Initiatives")
    sheet.append(INITIATIVES.column_names)
    for number in range(rows):
        framework = "phased-rollout" if number % 4 == 0 else "ai-maturity"
        entered = today - datetime.timedelta(days=rng.randint(1, 540))
        values = {
            "external_id": f"{prefix}-{number:05d}",
            "name": f"Use case {number:05d} {rng.choice(['triage', 'forecast', 'search'])}",
            "summary": "Generated for the import benchmark.",
            "team": rng.choice(teams),
            "owner": rng.choice(["pm", "pm2"]),
            "sponsor": rng.choice(["exec", "exec2"]),
            "framework": framework,
            "stage": rng.choice(stages[framework]),
            "stage_entered_on": entered,
            "maturity": rng.randint(0, 2),
            "tags": ", ".join(rng.sample(["nlp", "vision", "genai", "forecasting", "ocr"], 2)),
            "expected_annual_value": rng.randint(50, 2000) * 1000,
            "investment_to_date": rng.randint(10, 500) * 1000,
            "monthly_volume": rng.randint(100, 100_000),
            "targets": "; ".join(rng.sample(metrics, 3)),
        }
        sheet.append([values.get(name) for name in INITIATIVES.column_names])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _history_files(count: int, *, rng: random.Random, prefix: str):
    """CSV files: `count` initiatives that started 40 weeks ago, two decisions each."""
    from portfolio_import.reading import SourceFile
    from tests.portfolio_import.helpers import csv_file

    now = datetime.datetime.now(datetime.UTC)
    initiatives, history, checklist, measurements = [], [], [], []
    for number in range(count):
        ref = f"{prefix}-{number:05d}"
        start = now - datetime.timedelta(weeks=40, days=rng.randint(0, 60))
        go = start + datetime.timedelta(weeks=6)
        decided = go + datetime.timedelta(weeks=12)
        initiatives.append(
            {
                "external_id": ref,
                "name": f"History {number:05d}",
                "team": "finance",
                "owner": "pm2",
                "sponsor": "exec2",
                "targets": "accuracy >= 90; uptime >= 99.5",
            }
        )
        history.append(
            {
                "initiative": ref,
                "stage": "poc",
                "entered_on": start.isoformat(),
                "decision": "go",
                "decided_on": go.isoformat(),
            }
        )
        history.append(
            {
                "initiative": ref,
                "stage": "mvp",
                "decision": rng.choice(["go", "recycle", "hold"]),
                "decided_on": decided.isoformat(),
            }
        )
        checklist.append(
            {
                "initiative": ref,
                "stage": "poc",
                "item": "Data availability and quality confirmed for production",
                "state": "done",
                "updated_at": (go - datetime.timedelta(days=3)).isoformat(),
            }
        )
        for week in range(20):
            measurements.append(
                {
                    "initiative": ref,
                    "metric": "accuracy",
                    "value": round(80 + week * 0.6 + rng.random(), 2),
                    "measured_at": (start + datetime.timedelta(weeks=week, days=1)).isoformat(),
                }
            )
    files = [
        csv_file("initiatives.csv", initiatives),
        csv_file("history.csv", history),
        csv_file("checklist.csv", checklist),
        csv_file("measurements.csv", measurements),
    ]
    return [SourceFile(f.name, f.content) for f in files], (
        len(initiatives) + len(history) + len(checklist) + len(measurements)
    )


def _timed(label: str, function, results: list):
    """Run `function`; note its wall and CPU seconds and how many queries it sent."""
    from django.db import connection

    sent = 0

    def count(execute, sql, params, many, context):
        nonlocal sent
        sent += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started, cpu = time.perf_counter(), time.process_time()
        value = function()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    results.append((label, seconds, cpu, sent))
    return value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=500)
    args = parser.parse_args(argv)
    _setup()

    from django.db import connection

    from demo.seeding import demo_people, demo_teams
    from initiatives.models import Initiative
    from portfolio_import.models import ExternalReference
    from portfolio_import.planning import plan_import
    from portfolio_import.reading import SourceFile, read_files
    from portfolio_import.services import portfolio_import

    rng = random.Random(SEED)
    users = demo_people("tollgate-bench")
    demo_teams(users)
    admin = users["admin"]
    results: list = []
    prefix = f"BENCH{SEED}"

    content = _timed(
        "write the workbook (openpyxl, write-only)",
        lambda: _workbook(args.rows, rng=rng, prefix=prefix),
        results,
    )
    files = [SourceFile("portfolio.xlsx", content)]
    read = _timed(
        f"read {args.rows:,} rows (openpyxl, read-only)", lambda: read_files(files), results
    )
    _timed("check every row (plan)", lambda: plan_import(read.sheets), results)
    report = _timed(
        "import: read, check, write", lambda: portfolio_import(files=files, actor=admin), results
    )
    if not report.applied:
        print("\n".join(str(problem) for problem in report.problems[:20]))
        return 1
    again = _timed(
        "import the same file again (no-op)",
        lambda: portfolio_import(files=files, actor=admin),
        results,
    )
    assert not again.changes_anything, again.summary()
    history_rows = 0
    if args.history:
        history_files, history_rows = _history_files(args.history, rng=rng, prefix=f"{prefix}H")
        history = _timed(
            f"import {args.history:,} initiatives with history ({history_rows:,} rows)",
            lambda: portfolio_import(files=history_files, actor=admin),
            results,
        )
        if not history.applied:
            print("\n".join(str(problem) for problem in history.problems[:20]))
    created = Initiative.objects.filter(external_reference__external_id__startswith=prefix)
    ids = list(created.values_list("pk", flat=True))
    Initiative.objects.filter(pk__in=ids).delete()
    ExternalReference.objects.filter(external_id__startswith=prefix).delete()

    print(
        f"database: {connection.vendor}; rows: {args.rows:,} initiatives"
        + (f", history: {history_rows:,} rows" if history_rows else "")
    )
    print("| step | wall s | CPU s | queries |")
    print("| --- | ---: | ---: | ---: |")
    for label, seconds, cpu, queries in results:
        print(f"| {label} | {seconds:.1f} | {cpu:.1f} | {queries:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
