"""Benchmark harness: server time and query count of the main read and write paths.

    .venv/bin/python -m bench.run [--initiatives 10000] [--requests 30]

Works on PostgreSQL. Creates the benchmark database if it is missing, migrates
it and fills it with `generate_portfolio` (N initiatives, 10 * N measurements,
fixed seed) unless it already holds exactly that many; a second, small database
(10 initiatives) shows whether query counts stay constant as the portfolio grows.

Each scenario runs in-process through django.test.Client with production
settings (bench/settings.py): server time is the wall time around the call,
the query count comes from CaptureQueriesContext on a separate request. Writes
run inside a transaction that is rolled back (after running the on-commit
callbacks), so every request does the same work and the data set never drifts.
Each scenario is compared with a raw baseline measured in the same run
(bench/baselines.py). The table goes to stdout and bench/results/latest.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_URL = "postgres://root@127.0.0.1:5432/bench_harness"
SMALL_URL = "postgres://root@127.0.0.1:5432/bench_small"
SEED = 20260101
BATCH_SIZE = 1000
SMALL_BATCH_SIZE = 10


# --- Preparing the databases ----------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=5)


def _counts(url: str) -> tuple[int, int]:
    with _connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('initiatives_measurement')").fetchone()[0]
        if exists is None:
            return 0, 0
        initiatives = conn.execute("SELECT COUNT(*) FROM initiatives_initiative").fetchone()[0]
        measurements = conn.execute("SELECT COUNT(*) FROM initiatives_measurement").fetchone()[0]
        return initiatives, measurements


def _manage(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def prepare_database(url: str, initiatives: int, measurements: int) -> str:
    """Create, migrate and fill the database unless it already holds exactly this portfolio."""
    name = _database_name(url)
    maintenance = _with_database(url, "postgres")
    with _connect(maintenance) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    _manage(url, "migrate", "--noinput", "-v", "0")
    found = _counts(url)
    if found == (initiatives, measurements):
        return f"reused {name} ({initiatives} initiatives, {measurements} measurements)"
    if found[0]:
        # Only ever drop a database the harness owns.
        if not name.startswith("bench_"):
            raise SystemExit(f"{name} holds {found}, not the wanted size; refusing to drop it.")
        with _connect(maintenance) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        _manage(url, "migrate", "--noinput", "-v", "0")
    started = time.perf_counter()
    _manage(
        url,
        "generate_portfolio",
        f"--initiatives={initiatives}",
        f"--measurements={measurements}",
        f"--seed={SEED}",
    )
    return f"generated {name} in {time.perf_counter() - started:.0f} s"


# --- Measuring (runs in a child process per database) ----------------------------------------


@dataclass
class Figures:
    name: str
    median_ms: float
    p95_ms: float
    queries: int
    raw_median_ms: float | None = None
    raw_p95_ms: float | None = None
    status: int = 200
    note: str = ""
    statements: list[str] = field(default_factory=list)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _time(call: Callable, requests: int) -> list[float]:
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _rolled_back(call: Callable) -> Callable:
    """The call inside a transaction that runs its on-commit callbacks, then rolls back."""
    from django.db import transaction
    from django.test import TestCase

    def wrapped():
        with transaction.atomic():
            with TestCase.captureOnCommitCallbacks(execute=True):
                result = call()
            transaction.set_rollback(True)
        return result

    return wrapped


def measure(
    name: str,
    call: Callable,
    *,
    requests: int,
    raw: Callable | None = None,
    expect: int = 200,
    note: str = "",
) -> Figures:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = call()  # warm up: connection, templates, caches
    status = getattr(response, "status_code", 200)
    if status != expect:
        body = getattr(response, "content", b"")[:300]
        raise SystemExit(f"{name}: expected {expect}, got {status}: {body!r}")
    with CaptureQueriesContext(connection) as captured:
        call()
    # Read now: the next request's request_started signal clears the query log.
    queries = len(captured)
    statements = [query["sql"][:240] for query in captured.captured_queries]
    timings = _time(call, requests)
    figures = Figures(
        name=name,
        median_ms=statistics.median(timings),
        p95_ms=_p95(timings),
        queries=queries,
        statements=statements,
        status=status,
        note=note,
    )
    if raw is not None:
        raw()
        raw_timings = _time(raw, requests)
        figures.raw_median_ms = statistics.median(raw_timings)
        figures.raw_p95_ms = _p95(raw_timings)
    print(
        f"  {name:<38} median {figures.median_ms:7.1f} ms  p95 {figures.p95_ms:7.1f} ms  "
        f"{figures.queries:3d} queries",
        file=sys.stderr,
    )
    return figures


def _bench_people():
    """A portfolio admin (reads and writes everything) and an executive (reads everything)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from apiauth.models import ApiToken
    from teams.roles import PortfolioRole

    User = get_user_model()
    admin, _ = User.objects.get_or_create(
        username="bench-admin",
        defaults={"is_staff": True, "is_superuser": True, "email": "bench-admin@bench.example"},
    )
    executive = User.objects.filter(groups__name=PortfolioRole.EXECUTIVE).order_by("pk").first()
    if executive is None:
        executive, _ = User.objects.get_or_create(username="bench-exec-1")
        executive.groups.add(Group.objects.get(name=PortfolioRole.EXECUTIVE))
    ApiToken.objects.filter(user=admin, name="bench").delete()
    _, secret = ApiToken.issue(user=admin, name="bench", scope=ApiToken.Scope.READ_WRITE)
    return admin, executive, secret


def _subjects():
    """The rows the scenarios aim at, chosen the same way in every database."""
    from django.db.models import Count

    from gates.models import ChecklistItem, Gate
    from initiatives.models import Framework, Initiative, Target

    framework = Framework.objects.get(is_default=True)
    active = Initiative.objects.filter(framework=framework, status=Initiative.Status.ACTIVE)
    team = (
        active.values("team__slug").annotate(n=Count("pk")).order_by("-n", "team__slug").first()
    )["team__slug"]
    open_gates = Gate.objects.filter(state=Gate.State.OPEN, initiative__in=active)
    initiative = (
        active.filter(pk__in=open_gates.values("initiative"))
        .annotate(target_count=Count("targets"))
        .order_by("-target_count", "key")
        .first()
    )
    item = (
        ChecklistItem.objects.filter(
            gate__initiative=initiative,
            gate__stage=initiative.stage,
            state=ChecklistItem.State.OPEN,
            target__isnull=True,
        )
        .order_by("order")
        .first()
    )
    targets = list(Target.objects.order_by("pk").values_list("pk", flat=True)[:100])
    return framework, team, initiative, item, targets


def _batch(targets: list[int], size: int) -> list[tuple[int, float, datetime.datetime]]:
    now = datetime.datetime.now(tz=datetime.UTC).replace(microsecond=0)
    return [
        (targets[index % len(targets)], 50.0 + index % 7, now - datetime.timedelta(seconds=index))
        for index in range(size)
    ]


def run_scenarios(requests: int) -> dict:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from bench import baselines
    from initiatives.models import Initiative, Measurement
    from notifications.services import reminder_scan

    admin, executive, secret = _bench_people()
    framework, team, initiative, item, targets = _subjects()
    page_size = settings.TOLLGATE_BOARD_PAGE_SIZE
    browser = Client()
    browser.force_login(executive)
    editor = Client()
    editor.force_login(admin)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    board_filter = f"/?framework={framework.slug}&status=active&team={team}"

    def ingest(size: int, spread: int):
        rows = _batch(targets[:spread], size)
        body = {
            "measurements": [
                {"target": target, "value": value, "measured_at": at.isoformat()}
                for target, value, at in rows
            ]
        }
        return lambda: api.post("/api/v1/measurements/", body, content_type="application/json")

    item_post = {}
    if item is not None:
        prefix = f"item-{item.pk}"
        item_post = {
            f"{prefix}-state": "done",
            f"{prefix}-evidence_url": "https://wiki.bench.example/evidence",
            f"{prefix}-note": "Checked by the benchmark.",
            f"{prefix}-na_reason": "",
            f"{prefix}-version": item.version,
        }

    results = []
    results.append(
        measure(
            "board (default filters)",
            lambda: browser.get("/"),
            requests=requests,
            raw=lambda: baselines.board(framework_id=framework.pk, page_size=page_size),
        )
    )
    results.append(
        measure(
            "board (status + team filter)",
            lambda: browser.get(board_filter),
            requests=requests,
            raw=lambda: baselines.board(framework_id=framework.pk, team=team, page_size=page_size),
        )
    )
    results.append(
        measure(
            "board fragment (HTMX filter)",
            lambda: browser.get(board_filter, HTTP_HX_REQUEST="true"),
            requests=requests,
            raw=lambda: baselines.board(framework_id=framework.pk, team=team, page_size=page_size),
        )
    )
    results.append(
        measure(
            "initiative page",
            lambda: browser.get(f"/initiatives/{initiative.key}/"),
            requests=requests,
            raw=lambda: baselines.initiative_page(initiative.key),
        )
    )
    results.append(
        measure(
            "initiative activity fragment (HTMX)",
            lambda: browser.get(
                f"/initiatives/{initiative.key}/activity/?page=2", HTTP_HX_REQUEST="true"
            ),
            requests=requests,
        )
    )
    if item is not None:
        results.append(
            measure(
                "checklist item save (HTMX POST)",
                _rolled_back(
                    lambda: editor.post(f"/items/{item.pk}/", item_post, HTTP_HX_REQUEST="true")
                ),
                requests=requests,
                note="rolled back",
            )
        )
    results.append(
        measure(
            "dashboard",
            lambda: browser.get("/dashboard/"),
            requests=requests,
            raw=lambda: baselines.dashboard(framework_id=framework.pk),
        )
    )
    results.append(
        measure(
            "API initiative list (100)",
            lambda: api.get("/api/v1/initiatives/?page_size=100"),
            requests=requests,
            raw=lambda: baselines.api_list(100),
        )
    )
    # The same 10 targets for both sizes isolates the batch size; a third row spreads the
    # batch over 100 targets (about 25 initiatives), as a monitoring system would.
    for size, spread in ((SMALL_BATCH_SIZE, 10), (BATCH_SIZE, 10), (BATCH_SIZE, 100)):
        rows = _batch(targets[:spread], size)
        results.append(
            measure(
                f"API ingest {size} measurements, {spread} targets",
                _rolled_back(ingest(size, spread)),
                requests=requests,
                raw=lambda rows=rows: baselines.ingest(rows),
                expect=201,
                note="rolled back",
            )
        )
    results.append(
        measure(
            "reminder scan (service)",
            _rolled_back(lambda: reminder_scan(enqueue=False)),
            requests=requests,
            raw=baselines.reminder_rows,
            note="rolled back",
        )
    )
    return {
        "database": connection.settings_dict["NAME"],
        "initiatives": Initiative.objects.count(),
        "measurements": Measurement.objects.count(),
        "subjects": {"team": team, "initiative": initiative.key, "item": item and item.pk},
        "results": [asdict(figures) for figures in results],
    }


def measure_in_child(url: str, requests: int) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    out = subprocess.run(
        [sys.executable, "-m", "bench.run", "--child", f"--requests={requests}"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(out.stdout)


# --- Reporting --------------------------------------------------------------------------


def machine() -> dict:
    memory = ""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "?"
    return {
        "cpus": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "load": load,
    }


def _ratio(value: float, raw: float | None) -> str:
    return f"{value / raw:.1f}×" if raw else "–"


def report(big: dict, small: dict | None, info: dict) -> str:
    by_name = {row["name"]: row for row in small["results"]} if small else {}
    lines = [
        f"# Benchmark results — {info['when']}",
        "",
        f"{big['initiatives']:,} initiatives, {big['measurements']:,} measurements "
        f"(database `{big['database']}`); query counts also at "
        f"{small['initiatives'] if small else '–'} initiatives (`"
        f"{small['database'] if small else '–'}`). {info['requests']} timed requests per row "
        "after one warm-up.",
        "",
        f"Machine: {info['cpus']} CPUs, {info['memory']}, PostgreSQL {info['postgres']}, "
        f"Python {info['python']}, load average at start {info['load']}.",
        "",
        "| Scenario | median ms | p95 ms | queries | queries (small) | raw median ms "
        "| raw p95 ms | median ÷ raw | p95 ÷ raw |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in big["results"]:
        other = by_name.get(row["name"])
        raw_median = row["raw_median_ms"]
        raw_p95 = row["raw_p95_ms"]
        lines.append(
            f"| {row['name']}{' (' + row['note'] + ')' if row['note'] else ''} "
            f"| {row['median_ms']:.1f} | {row['p95_ms']:.1f} | {row['queries']} "
            f"| {other['queries'] if other else '–'} "
            f"| {f'{raw_median:.1f}' if raw_median else '–'} "
            f"| {f'{raw_p95:.1f}' if raw_p95 else '–'} "
            f"| {_ratio(row['median_ms'], raw_median)} | {_ratio(row['p95_ms'], raw_p95)} |"
        )
    lines += ["", *check_targets(big, small)]
    return "\n".join(lines) + "\n"


def query_listing(big: dict, small: dict | None) -> str:
    """Every statement of each scenario's counted request, to see where a count comes from."""
    lines = ["# Queries per scenario", ""]
    for result in (big, small):
        if result is None:
            continue
        lines += [f"## {result['database']} ({result['initiatives']:,} initiatives)", ""]
        for row in result["results"]:
            lines += [f"### {row['name']}: {row['queries']} queries", "", "```sql"]
            lines += row["statements"]
            lines += ["```", ""]
    return "\n".join(lines)


def check_targets(big: dict, small: dict | None) -> list[str]:
    """The speed targets from the issue, each marked met or missed with the figures."""
    rows = {row["name"]: row for row in big["results"]}
    small_rows = {row["name"]: row for row in small["results"]} if small else {}
    verdicts = []

    def verdict(label: str, met: bool, detail: str) -> None:
        verdicts.append(f"- {'MET   ' if met else 'MISSED'} {label}: {detail}")

    for name, row in rows.items():
        other = small_rows.get(name)
        constant = other is not None and other["queries"] == row["queries"]
        detail = f"{row['queries']} queries" + (
            f" at {big['initiatives']:,}, {other['queries']} at {small['initiatives']}"
            if other
            else ""
        )
        verdict(f"{name}: constant and ≤ 10 queries", constant and row["queries"] <= 10, detail)
    api = rows.get("API initiative list (100)")
    if api:
        verdict(
            "API list median ≤ 3× raw",
            api["median_ms"] <= 3 * api["raw_median_ms"],
            f"{api['median_ms']:.1f} ms vs raw {api['raw_median_ms']:.1f} ms "
            f"({_ratio(api['median_ms'], api['raw_median_ms'])})",
        )
        verdict(
            "API list p95 ≤ 4× raw",
            api["p95_ms"] <= 4 * api["raw_p95_ms"],
            f"{api['p95_ms']:.1f} ms vs raw {api['raw_p95_ms']:.1f} ms "
            f"({_ratio(api['p95_ms'], api['raw_p95_ms'])})",
        )
    for name in (
        "board (default filters)",
        "board (status + team filter)",
        "board fragment (HTMX filter)",
        "initiative page",
        "initiative activity fragment (HTMX)",
        "checklist item save (HTMX POST)",
    ):
        if name in rows:
            p95 = rows[name]["p95_ms"]
            verdict(f"{name} p95 < 150 ms", p95 < 150, f"{p95:.1f} ms")
    dash = rows.get("dashboard")
    if dash:
        verdict("dashboard p95 < 300 ms", dash["p95_ms"] < 300, f"{dash['p95_ms']:.1f} ms")
        verdict(
            "dashboard median ≤ 2× hand-written SQL of the same aggregates",
            dash["median_ms"] <= 2 * dash["raw_median_ms"],
            f"{dash['median_ms']:.1f} ms vs {dash['raw_median_ms']:.1f} ms "
            f"({_ratio(dash['median_ms'], dash['raw_median_ms'])})",
        )
    small_batch = rows.get(f"API ingest {SMALL_BATCH_SIZE} measurements, 10 targets")
    big_batch = rows.get(f"API ingest {BATCH_SIZE} measurements, 10 targets")
    spread = rows.get(f"API ingest {BATCH_SIZE} measurements, 100 targets")
    if small_batch and big_batch:
        verdict(
            f"{BATCH_SIZE}-measurement batch uses the same queries as {SMALL_BATCH_SIZE}",
            small_batch["queries"] == big_batch["queries"],
            f"{big_batch['queries']} vs {small_batch['queries']}",
        )
    if small_batch and spread:
        verdict(
            f"{BATCH_SIZE}-measurement batch over 100 targets uses the same queries as "
            f"{SMALL_BATCH_SIZE}",
            small_batch["queries"] == spread["queries"],
            f"{spread['queries']} vs {small_batch['queries']}",
        )
    return ["## Targets", "", *verdicts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--small-database-url", default=SMALL_URL)
    parser.add_argument("--initiatives", type=int, default=10_000)
    parser.add_argument("--small-initiatives", type=int, default=10)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.md")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        sys.path.insert(0, str(ROOT))
        json.dump(run_scenarios(args.requests), sys.stdout)
        return

    started = datetime.datetime.now(tz=datetime.UTC)
    info = {**machine(), "requests": args.requests, "when": f"{started:%Y-%m-%d %H:%M} UTC"}
    sizes = [(args.database_url, args.initiatives)]
    if args.small_initiatives:
        sizes.append((args.small_database_url, args.small_initiatives))
    for url, count in sizes:
        print(prepare_database(url, count, 10 * count), file=sys.stderr)
    with _connect(args.database_url) as conn:
        info["postgres"] = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    print(f"Measuring {_database_name(args.database_url)}", file=sys.stderr)
    big = measure_in_child(args.database_url, args.requests)
    small = None
    if args.small_initiatives:
        print(f"Measuring {_database_name(args.small_database_url)}", file=sys.stderr)
        small = measure_in_child(args.small_database_url, args.requests)
    text = report(big, small, info)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    (args.output.with_suffix(".json")).write_text(json.dumps({"big": big, "small": small}))
    (args.output.parent / "queries.md").write_text(query_listing(big, small))
    print(text)
    print(f"Written to {args.output.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
