"""Benchmark harness: what users get from gunicorn at 10,000 and 50,000 initiatives.

    .venv/bin/python -m bench.run [--sizes 10000,50000] [--rounds 30] [--port 8760]

1. Databases (bench/databases.py): `<prefix>_10k` and `<prefix>_50k` are created,
   migrated and filled by `generate_portfolio` (10 measurements per initiative, fixed
   seed) unless they already hold exactly that, then VACUUM ANALYZE'd — the state
   autovacuum leaves them in. For the board, `<prefix>_10k_nostats` and
   `<prefix>_50k_nostats` are copies stripped of planner statistics: a database
   straight after a bulk load or a restore. With --huge-measurements, `<prefix>_10m`
   holds 10,000 initiatives and that many measurements.
2. Servers: one gunicorn per database, started as the Dockerfile starts it (the same
   config/gunicorn.py: 3 threaded workers, 30 s timeout, access log) with
   bench/settings.py (production settings over plain HTTP, plus a header carrying each
   request's query count), on consecutive ports from --port.
3. Rounds: each round requests every scenario once from every server, alternating
   which size goes first, and runs the scenario's hand-written SQL (bench/baselines.py)
   once in a process attached to the same database (bench/agent.py). Medians, the
   50k ÷ 10k ratio and the ratio to the hand-written SQL all come from the same run.
   The load average is sampled every round.
4. Exports (fewer rounds: they are long), 20 concurrent connections on the board with
   wrk, the shipped `send_reminders` command against a local SMTP sink on copies of
   the databases (first scan of the day, then a second scan), and sustained measurement
   ingestion through the API on a copy.

The table goes to stdout and bench/results/<label>.md (+ .json).
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import databases
from bench.databases import ROOT, connect, database_name, with_database
from config import gunicorn as GUNICORN  # the Dockerfile's gunicorn settings

RESULTS = ROOT / "bench" / "results"
DEFAULT_SERVER = "postgres://root@127.0.0.1:5432/postgres"
MEASUREMENTS_PER_INITIATIVE = 10
WORKERS = GUNICORN.workers  # as in the Dockerfile, which reads the same file
WORKER_TIMEOUT = GUNICORN.timeout

# Kept for bench/load.py and bench/faults.py.
DEFAULT_URL = "postgres://root@127.0.0.1:5432/bench_10k"
_connect = connect
_database_name = database_name
_with_database = with_database


def prepare_database(url: str, initiatives: int, measurements: int) -> str:
    databases.prepare(url, initiatives, measurements, log=_log)
    return f"{database_name(url)}: {initiatives} initiatives, {measurements} measurements"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def size_label(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}m"
    if count >= 1000 and count % 1000 == 0:
        return f"{count // 1000}k"
    return str(count)


# --- Scenarios ------------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    path: str
    baseline: str | None = None
    api: bool = False
    htmx: bool = False
    persona: str = "executive"
    kinds: tuple[str, ...] = ("analysed",)  # which servers it runs on
    export: bool = False
    # Move the portfolio version on before each request: the first reader after a change,
    # who gets nothing kept. Measured in rounds of their own, after the other pages, so
    # that no other scenario's kept figures are dropped by it.
    after_change: bool = False


BOARD_FILTER = "/?framework={framework}&status=active&team={team}"
SCENARIOS = [
    Scenario("board, default filters", "/", "board_default", kinds=("analysed", "nostats")),
    Scenario("board, status + team", BOARD_FILTER, "board_team", kinds=("analysed", "nostats")),
    Scenario(
        "board, HTMX fragment", BOARD_FILTER, "board_team", htmx=True, kinds=("analysed", "nostats")
    ),
    Scenario("board, next page of a column", "/?show={stage}&page=2", htmx=True),
    Scenario("board, as a product manager", "/", persona="manager", kinds=("analysed", "nostats")),
    Scenario("board, first after a change", "/", "board_default", after_change=True),
    Scenario(
        "board, as a product manager, first after a change",
        "/",
        persona="manager",
        after_change=True,
    ),
    Scenario(
        "initiative page",
        "/initiatives/{initiative}/",
        "initiative_page",
        kinds=("analysed", "huge"),
    ),
    Scenario("dashboard", "/dashboard/", "dashboard", kinds=("analysed", "huge")),
    Scenario("teams page", "/teams/"),
    Scenario("people page", "/people/"),
    Scenario(
        "API initiative list (100)", "/api/v1/initiatives/?page_size=100", "api_list", api=True
    ),
    Scenario(
        "API target series (100)",
        "/api/v1/targets/{target}/measurements/?page_size=100",
        "series",
        api=True,
        kinds=("analysed", "huge"),
    ),
    Scenario("portfolio.csv", "/dashboard/export/portfolio.csv", export=True),
    Scenario("gates.csv", "/dashboard/export/gates.csv", export=True),
]


# --- Servers --------------------------------------------------------------------------------


@dataclass
class Server:
    label: str  # "10k", "50k", "10k nostats", "10m"
    kind: str  # "analysed", "nostats", "huge", "writes"
    url: str
    port: int
    fixtures: dict = field(default_factory=dict)
    agent: subprocess.Popen | None = None
    web: subprocess.Popen | None = None

    def env(self) -> dict:
        return {
            **os.environ,
            "DATABASE_URL": self.url,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "BENCH_CACHE_PREFIX": f"bench-{database_name(self.url)}",
        }

    def start(self, *, with_agent: bool = True) -> None:
        if with_agent:
            self.agent = subprocess.Popen(
                [sys.executable, "-m", "bench.agent"],
                cwd=ROOT,
                env=self.env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            self.fixtures = json.loads(self.agent.stdout.readline())
        self.web = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi:application",
                "--config=config/gunicorn.py",  # as the Dockerfile starts it
                f"--bind=127.0.0.1:{self.port}",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.port, 60)

    def baseline(self, name: str) -> float:
        self.agent.stdin.write(name + "\n")
        self.agent.stdin.flush()
        return float(self.agent.stdout.readline())

    def stop(self) -> None:
        for process in (self.web, self.agent):
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def worker_peak_rss_mib(self) -> float:
        """The largest peak resident size among the gunicorn workers (VmHWM), in MiB."""
        if self.web is None:
            return 0.0
        peaks = []
        for pid in _children(self.web.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            found = re.search(r"VmHWM:\s+(\d+) kB", status)
            if found:
                peaks.append(int(found.group(1)) / 1024)
        return max(peaks, default=0.0)


def _children(pid: int) -> list[int]:
    try:
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except OSError:
        return []


def wait_for(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            status, _, _, _ = fetch(port, "/healthz", {}, timeout=5)
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"gunicorn on port {port} did not answer within {seconds:.0f} s")
        time.sleep(0.5)


def fetch(port: int, path: str, headers: dict, *, method="GET", body=None, timeout=90):
    """(status, milliseconds, response bytes, query count); raises on a cut stream."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        content = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        queries = response.getheader("X-Bench-Queries")
        return response.status, elapsed, content, int(queries) if queries else None
    finally:
        conn.close()


def headers_for(server: Server, scenario: Scenario) -> dict:
    headers = {"Host": "127.0.0.1"}
    if scenario.api:
        headers["Authorization"] = f"Bearer {server.fixtures['token']}"
    else:
        session = server.fixtures[f"{scenario.persona}_session"]
        headers["Cookie"] = f"sessionid={session}"
    if scenario.htmx:
        headers["HX-Request"] = "true"
    return headers


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


# --- Measuring ------------------------------------------------------------------------------


@dataclass
class Sample:
    times: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    queries: set = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    bytes: int = 0
    rows: int = 0
    peak_rss_mib: float = 0.0

    def summary(self) -> dict:
        return {
            "median_ms": statistics.median(self.times) if self.times else None,
            "p95_ms": _p95(self.times) if self.times else None,
            "baseline_median_ms": statistics.median(self.baseline) if self.baseline else None,
            "queries": sorted(self.queries),
            "errors": self.errors[:5],
            "error_count": len(self.errors),
            "count": len(self.times),
            "bytes": self.bytes,
            "rows": self.rows,
            "peak_rss_mib": round(self.peak_rss_mib, 1),
        }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def request_once(server: Server, scenario: Scenario, sample: Sample) -> None:
    path = scenario.path.format(**server.fixtures)
    try:
        status, elapsed, content, queries = fetch(server.port, path, headers_for(server, scenario))
    except (OSError, http.client.HTTPException) as exc:
        sample.errors.append(f"{type(exc).__name__}: {exc}"[:200])
        return
    if status != 200:
        sample.errors.append(f"HTTP {status}: {content[:120]!r}")
        return
    sample.times.append(elapsed)
    sample.bytes = len(content)
    if queries is not None:
        sample.queries.add(queries)
    if scenario.export:
        sample.rows = content.count(b"\n") - 1


def run_rounds(servers: list[Server], scenarios: list[Scenario], rounds: int, loads: list) -> dict:
    samples: dict[tuple[str, str], Sample] = {}
    for number in range(rounds):
        loads.append(load_average())
        order = servers if number % 2 == 0 else list(reversed(servers))
        for scenario in scenarios:
            for server in order:
                if server.kind not in scenario.kinds:
                    continue
                sample = samples.setdefault((scenario.name, server.label), Sample())
                if scenario.after_change:
                    server.baseline("portfolio_changed")
                request_once(server, scenario, sample)
                if scenario.baseline:
                    sample.baseline.append(server.baseline(scenario.baseline))
        _log(f"  round {number + 1}/{rounds} done, load {loads[-1]:.2f}")
    return samples


def run_exports(servers: list[Server], scenarios: list[Scenario], rounds: int, loads) -> dict:
    samples: dict[tuple[str, str], Sample] = {}
    analysed = [server for server in servers if server.kind == "analysed"]
    for number in range(rounds):
        loads.append(load_average())
        order = analysed if number % 2 == 0 else list(reversed(analysed))
        for scenario in scenarios:
            for server in order:
                sample = samples.setdefault((scenario.name, server.label), Sample())
                request_once(server, scenario, sample)
                sample.peak_rss_mib = max(sample.peak_rss_mib, server.worker_peak_rss_mib())
        _log(f"  export round {number + 1}/{rounds} done")
    return samples


WRK_SCRIPT = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
                 + summary.errors.status + summary.errors.timeout
  io.write(string.format("BENCH %d %d %.1f %.1f %.1f %.1f\\n", summary.requests, errors,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def run_wrk(server: Server, path: str, connections: int, seconds: int) -> dict:
    wrk = shutil.which("wrk")
    if wrk is None:
        return {"error": "wrk not installed (apt-get install wrk)"}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    load = load_average()
    out = subprocess.run(
        [
            wrk,
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout=60s",
            "-s",
            script.name,
            "-H",
            f"Cookie: sessionid={server.fixtures['executive_session']}",
            f"http://127.0.0.1:{server.port}{path}",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    os.unlink(script.name)
    found = re.search(r"BENCH (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)", out.stdout)
    if not found:
        return {"error": out.stdout[-300:] + out.stderr[-300:]}
    requests, errors = int(found.group(1)), int(found.group(2))
    return {
        "requests": requests,
        "errors": errors,
        "per_second": requests / seconds,
        "median_ms": float(found.group(3)),
        "p95_ms": float(found.group(4)),
        "p99_ms": float(found.group(5)),
        "max_ms": float(found.group(6)),
        "load": load,
    }


def run_reminders(url: str, label: str, port: int) -> dict:
    """The shipped command, twice, on a copy, against a local SMTP sink."""
    from bench import fakesmtp

    copy = databases.clone(url, f"{database_name(url)}_reminders")
    mailbox, server = fakesmtp.start(port)
    env = {"EMAIL_URL": f"smtp://127.0.0.1:{port}", "REDIS_URL": ""}
    result = {"label": label}
    try:
        for scan in ("first", "second"):
            mailbox.clear()
            load = load_average()
            started = time.perf_counter()
            out = databases.manage(copy, "send_reminders", env=env, capture_output=True, text=True)
            elapsed = time.perf_counter() - started
            with mailbox.lock:
                received = list(mailbox.received)
            result[scan] = {
                "seconds": elapsed,
                "received": len(received),
                "output": out.stdout.strip().splitlines()[-1:],
                "load": load,
            }
            _log(f"  send_reminders {label} {scan}: {elapsed:.1f} s, {len(received)} emails")
        with connect(copy) as conn:
            result["duplicates"] = conn.execute(
                "SELECT COUNT(*) - COUNT(DISTINCT dedupe_key) FROM notifications_notification"
            ).fetchone()[0]
    finally:
        server.shutdown()
        databases.drop(copy)
    return result


def run_ingest(url: str, port: int, seconds: int, threads: int) -> dict:
    """Batches of 1,000 measurements over 100 targets, from several clients at once, on a copy.

    Every batch flips every one of its targets (values alternate between the lowest and
    the highest its unit allows, far beyond any threshold), the costliest case for
    ingestion.
    """
    copy = databases.clone(url, f"{database_name(url)}_ingest")
    server = Server("ingest", "writes", copy, port)
    try:
        server.start()
        fixtures = server.fixtures
        targets = fixtures["targets"]
        extremes = fixtures["target_extremes"]
        headers = {
            "Authorization": f"Bearer {fixtures['token']}",
            "Content-Type": "application/json",
            "Host": "127.0.0.1",
        }

        def batch(size: int, spread: int, sequence: int) -> bytes:
            high = sequence % 2
            now = datetime.datetime.now(tz=datetime.UTC)
            rows = [
                {
                    "target": targets[index % spread],
                    "value": extremes[index % spread][high],
                    "measured_at": (now - datetime.timedelta(microseconds=index)).isoformat(),
                }
                for index in range(size)
            ]
            return json.dumps({"measurements": rows}).encode()

        query_counts = {}
        for size, spread in ((10, 10), (1000, 10), (1000, 100)):
            status, elapsed, content, queries = fetch(
                port, "/api/v1/measurements/", headers, method="POST", body=batch(size, spread, 1)
            )
            if status != 201:
                raise SystemExit(f"ingest {size}: HTTP {status} {content[:200]!r}")
            query_counts[f"{size} over {spread} targets"] = {"queries": queries, "ms": elapsed}
        recorded = [0] * threads
        errors = [0] * threads
        deadline = time.monotonic() + seconds
        load = load_average()

        def client(number: int) -> None:
            sequence = number
            while time.monotonic() < deadline:
                sequence += 1
                try:
                    status, _, _, _ = fetch(
                        port,
                        "/api/v1/measurements/",
                        headers,
                        method="POST",
                        body=batch(1000, 100, sequence),
                    )
                except (OSError, http.client.HTTPException):
                    status = 0
                if status == 201:
                    recorded[number] += 1000
                else:
                    errors[number] += 1

        started = time.perf_counter()
        workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        return {
            "query_counts": query_counts,
            "rows": sum(recorded),
            "errors": sum(errors),
            "seconds": elapsed,
            "rows_per_second": sum(recorded) / elapsed,
            "clients": threads,
            "load": load,
            "measurements": fixtures["measurements"],
        }
    finally:
        server.stop()
        databases.drop(copy)


# --- Reporting ------------------------------------------------------------------------------


def machine() -> dict:
    memory = ""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "cpus": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }


def _ms(value) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _x(value) -> str:
    return "–" if value is None else f"{value:.2f}×" if value < 10 else f"{value:.0f}×"


def _div(a, b):
    return a / b if a is not None and b else None


def _queries(summary: dict | None) -> str:
    if not summary or not summary["queries"]:
        return "–"
    return "/".join(str(q) for q in summary["queries"])


def scenario_rows(results: dict, small: str, big: str) -> list[dict]:
    rows = []
    for (name, label), summary in results.items():
        if label != small:
            continue
        other = results.get((name, big))
        rows.append(
            {
                "name": name,
                "small": summary,
                "big": other,
                "ratio": _div(other and other["median_ms"], summary["median_ms"]),
                "sql_small": _div(summary["median_ms"], summary["baseline_median_ms"]),
                "sql_big": _div(
                    other and other["median_ms"], other and other["baseline_median_ms"]
                ),
            }
        )
    return rows


def table(results: dict, small: str, big: str, title: str) -> list[str]:
    lines = [
        f"### {title}",
        "",
        f"| Scenario | {small} median | {big} median | {big} ÷ {small} | ÷ SQL ({small}) "
        f"| ÷ SQL ({big}) | {big} p95 | queries {small} | queries {big} | errors |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in scenario_rows(results, small, big):
        if row["big"] is None:  # not a scenario of this comparison (the 10m database)
            continue
        big_summary = row["big"]
        errors = row["small"]["error_count"] + big_summary.get("error_count", 0)
        lines.append(
            f"| {row['name']} | {_ms(row['small']['median_ms'])} ms "
            f"| {_ms(big_summary.get('median_ms'))} ms | {_x(row['ratio'])} "
            f"| {_x(row['sql_small'])} | {_x(row['sql_big'])} "
            f"| {_ms(big_summary.get('p95_ms'))} ms | {_queries(row['small'])} "
            f"| {_queries(row['big'])} | {errors} |"
        )
    return lines


def report(data: dict) -> str:
    info = data["info"]
    loads = data["loads"]
    labels = data["labels"]
    small, big = labels[0], labels[-1]
    results = {tuple(key.split("|")): value for key, value in data["results"].items()}
    lines = [
        f"# Benchmark run {info['label']} — {info['when']}",
        "",
        f"Machine: {info['cpus']} CPUs, {info['memory']}, PostgreSQL {info['postgres']}, "
        f"Python {info['python']}. Load average (1 min) at start {info['load']}; during the "
        f"rounds min {min(loads):.2f}, median {statistics.median(loads):.2f}, "
        f"max {max(loads):.2f}. {info['rounds']} rounds alternating the sizes; exports "
        f"{info['export_rounds']} rounds. gunicorn {WORKERS} {GUNICORN.worker_class} workers "
        f"of {GUNICORN.threads} threads, timeout "
        f"{WORKER_TIMEOUT} s, production settings. Databases: "
        + ", ".join(f"`{name}` ({count})" for name, count in info["databases"].items())
        + ".",
        "",
        *table(results, small, big, "Analysed databases (as autovacuum leaves them)"),
        "",
    ]
    if any(label.endswith("nostats") for _, label in results):
        lines += [
            *table(
                results,
                f"{small} nostats",
                f"{big} nostats",
                "Straight after generate_portfolio: no planner statistics",
            ),
            "",
        ]
    if data.get("huge"):
        lines += [*table(results, small, data["huge"], "Measurement volume"), ""]
    exports = {tuple(key.split("|")): value for key, value in data["exports"].items()}
    if exports:
        lines += [
            "### Exports",
            "",
            f"| Export | {small} median | {big} median | {big} ÷ {small} | rows {big} "
            f"| worker peak RSS {small} | worker peak RSS {big} | errors |",
            "|---|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for row in scenario_rows(exports, small, big):
            big_summary = row["big"] or {}
            errors = row["small"]["errors"] + big_summary.get("errors", [])
            lines.append(
                f"| {row['name']} | {_ms(row['small']['median_ms'])} ms "
                f"| {_ms(big_summary.get('median_ms'))} ms | {_x(row['ratio'])} "
                f"| {big_summary.get('rows', 0):,} | {row['small']['peak_rss_mib']:.0f} MiB "
                f"| {big_summary.get('peak_rss_mib', 0):.0f} MiB | "
                f"{len(errors)}{' (' + errors[0] + ')' if errors else ''} |"
            )
        lines.append("")
    if data.get("load"):
        lines += [
            "### Board under 20 concurrent connections (wrk)",
            "",
            "| Database | requests/s | median | p95 | p99 | max | errors | load at start |",
            "|---|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for label, figures in data["load"].items():
            if "error" in figures:
                lines.append(f"| {label} | {figures['error']} |")
                continue
            lines.append(
                f"| {label} | {figures['per_second']:.1f} | {_ms(figures['median_ms'])} ms "
                f"| {_ms(figures['p95_ms'])} ms | {_ms(figures['p99_ms'])} ms "
                f"| {_ms(figures['max_ms'])} ms | {figures['errors']} of {figures['requests']} "
                f"| {figures['load']:.2f} |"
            )
        lines.append("")
    if data.get("reminders"):
        lines += [
            "### `send_reminders` against a local SMTP sink",
            "",
            "| Database | first scan | emails | second scan | emails | duplicate notifications |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        for figures in data["reminders"]:
            first, second = figures["first"], figures["second"]
            lines.append(
                f"| {figures['label']} | {first['seconds']:.1f} s | {first['received']:,} "
                f"| {second['seconds']:.1f} s | {second['received']:,} "
                f"| {figures['duplicates']} |"
            )
        lines.append("")
    if data.get("ingest"):
        figures = data["ingest"]
        lines += [
            "### Measurement ingestion through the API",
            "",
            f"{figures['clients']} clients posting batches of 1,000 measurements over 100 "
            f"targets (every target flips each batch) for {figures['seconds']:.0f} s into a "
            f"database of {figures['measurements']:,} measurements: "
            f"**{figures['rows_per_second']:,.0f} measurements/s**, {figures['errors']} "
            f"errors, load at start {figures['load']:.2f}.",
            "",
            "| Batch | queries | ms |",
            "|---|--:|--:|",
            *(
                f"| {name} | {value['queries']} | {value['ms']:.0f} |"
                for name, value in figures["query_counts"].items()
            ),
            "",
        ]
    return "\n".join(lines) + "\n"


# --- Main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default=os.environ.get("BENCH_SERVER_URL", DEFAULT_SERVER))
    parser.add_argument("--prefix", default="bench", help="database names: <prefix>_10k, …")
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--export-rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8760, help="first of 8 consecutive ports")
    parser.add_argument("--load-seconds", type=int, default=30)
    parser.add_argument("--load-connections", type=int, default=20)
    parser.add_argument("--huge-measurements", type=int, default=0)
    parser.add_argument("--ingest-seconds", type=int, default=30)
    parser.add_argument("--ingest-clients", type=int, default=4)
    parser.add_argument(
        "--skip", default="", help="comma-separated: nostats,exports,load,reminders,ingest"
    )
    parser.add_argument("--only", default="", help="run only scenarios whose name contains this")
    parser.add_argument("--label", default="latest")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    if "bench" not in args.prefix:
        raise SystemExit("--prefix must contain 'bench'")

    started = datetime.datetime.now(tz=datetime.UTC)
    info = {
        **machine(),
        "label": args.label,
        "when": f"{started:%Y-%m-%d %H:%M} UTC",
        "rounds": args.rounds,
        "export_rounds": args.export_rounds,
        "databases": {},
    }
    sizes = [int(size) for size in args.sizes.split(",")]
    urls = {}
    for size in sizes:
        url = with_database(args.server_url, f"{args.prefix}_{size_label(size)}")
        databases.prepare(url, size, MEASUREMENTS_PER_INITIATIVE * size, log=_log)
        urls[size_label(size)] = url
        info["databases"][database_name(url)] = f"{size:,} initiatives"
    with connect(next(iter(urls.values()))) as conn:
        info["postgres"] = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    servers: list[Server] = []
    port = args.port
    for label, url in urls.items():
        servers.append(Server(label, "analysed", url, port))
        port += 1
    if "nostats" not in skip:
        for label, url in list(urls.items()):
            copy = databases.clone(url, f"{database_name(url)}_nostats")
            databases.forget_statistics(copy)
            servers.append(Server(f"{label} nostats", "nostats", copy, port))
            info["databases"][database_name(copy)] = "copy without statistics"
            port += 1
    if args.huge_measurements:
        url = with_database(args.server_url, f"{args.prefix}_{size_label(args.huge_measurements)}")
        databases.prepare(url, sizes[0], args.huge_measurements, log=_log)
        servers.append(Server(size_label(args.huge_measurements), "huge", url, port))
        info["databases"][database_name(url)] = (
            f"{sizes[0]:,} initiatives, {args.huge_measurements:,} measurements"
        )
        port += 1
    ingest_port, smtp_port = args.port + 7, args.port + 8
    scenarios = [s for s in SCENARIOS if args.only in s.name]
    data = {
        "info": info,
        "labels": [server.label for server in servers if server.kind == "analysed"],
        "loads": [],
        "huge": size_label(args.huge_measurements) if args.huge_measurements else None,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    output = RESULTS / f"{args.label}.md"
    data["results"], data["exports"] = {}, {}

    def save() -> None:
        """Written after every phase, so a run cut short keeps what it measured."""
        output.with_suffix(".json").write_text(json.dumps(data, indent=1, default=str))
        if data["results"]:
            output.write_text(report(data))

    try:
        for server in servers:
            _log(f"starting {server.label} on {server.port}")
            server.start()
        for server in servers:  # warm every worker: imports, templates, connections
            for scenario in scenarios:
                if server.kind in scenario.kinds and not scenario.export:
                    for _ in range(WORKERS):
                        request_once(server, scenario, Sample())
        _log("measuring pages")
        page_scenarios = [s for s in scenarios if not s.export and not s.after_change]
        results = run_rounds(servers, page_scenarios, args.rounds, data["loads"])
        changes = [s for s in scenarios if s.after_change]
        if changes:
            _log("measuring pages right after a change")
            results.update(run_rounds(servers, changes, args.rounds, data["loads"]))
        data["results"] = {f"{k[0]}|{k[1]}": v.summary() for k, v in results.items()}
        save()
        if "exports" not in skip:
            export_scenarios = [s for s in scenarios if s.export]
            exports = run_exports(servers, export_scenarios, args.export_rounds, data["loads"])
            data["exports"] = {f"{k[0]}|{k[1]}": v.summary() for k, v in exports.items()}
            save()
        if "load" not in skip:
            data["load"] = {}
            for server in servers:
                if server.kind == "analysed":
                    _log(f"wrk on {server.label}")
                    data["load"][server.label] = run_wrk(
                        server, "/", args.load_connections, args.load_seconds
                    )
    finally:
        for server in servers:
            server.stop()
    save()
    if "ingest" not in skip:
        source = servers[-1].url if args.huge_measurements else next(iter(urls.values()))
        data["ingest"] = run_ingest(source, ingest_port, args.ingest_seconds, args.ingest_clients)
        save()
    if "reminders" not in skip:
        data["reminders"] = []
        for label, url in urls.items():
            data["reminders"].append(run_reminders(url, label, smtp_port))
            save()
    save()
    print(report(data))
    _log(f"Written to {output.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
