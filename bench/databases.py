"""The harness's databases: created, migrated, filled, analysed, copied and stripped of statistics.

Every database the harness writes to or drops carries "bench" in its name; any other
name is refused, so a mistyped URL never touches real data.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SEED = 20260101


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=5)


def _guard(name: str) -> None:
    if "bench" not in name:
        raise SystemExit(
            f"refusing to write to {name}: harness databases carry 'bench' in the name"
        )


def _maintenance(url: str) -> str:
    return with_database(url, "postgres")


def exists(url: str) -> bool:
    with connect(_maintenance(url)) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database_name(url)]
        ).fetchone()
    return found is not None


def counts(url: str) -> tuple[int, int]:
    """(initiatives, measurements) in the database, (0, 0) when not migrated."""
    with connect(url) as conn:
        if conn.execute("SELECT to_regclass('initiatives_measurement')").fetchone()[0] is None:
            return 0, 0
        initiatives = conn.execute("SELECT COUNT(*) FROM initiatives_initiative").fetchone()[0]
        measurements = conn.execute("SELECT COUNT(*) FROM initiatives_measurement").fetchone()[0]
    return initiatives, measurements


def manage(url: str, *args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, check=True, **kwargs
    )


def create(url: str) -> None:
    name = database_name(url)
    _guard(name)
    with connect(_maintenance(url)) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop(url: str) -> None:
    name = database_name(url)
    _guard(name)
    with connect(_maintenance(url)) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def clone(source_url: str, target_name: str) -> str:
    """A fresh copy of the source database (its statistics come along)."""
    _guard(target_name)
    target_url = with_database(source_url, target_name)
    with connect(_maintenance(source_url)) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)')
        conn.execute(
            f'CREATE DATABASE "{target_name}" TEMPLATE "{database_name(source_url)}" '
            "STRATEGY FILE_COPY"
        )
    return target_url


def is_analysed(url: str) -> bool:
    """True when the planner has statistics for the initiatives table."""
    with connect(url) as conn:
        row = conn.execute(
            "SELECT reltuples FROM pg_class WHERE oid = 'initiatives_initiative'::regclass"
        ).fetchone()
    return row is not None and row[0] >= 0


def vacuum_analyse(url: str) -> float:
    """VACUUM ANALYZE every table: the state autovacuum leaves a database in."""
    started = time.perf_counter()
    with connect(url) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def forget_statistics(url: str) -> None:
    """Make the database look as it does straight after a bulk load, before autovacuum.

    Deletes the planner statistics of the application's tables, marks them as never
    vacuumed (reltuples = -1, so the planner estimates from the file size as it does on
    a fresh load) and turns autovacuum off for them, so the state lasts the whole run.
    Needs a superuser; only ever run on a copy the harness made.
    """
    _guard(database_name(url))
    with connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT c.oid::regclass::text FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )
        ]
        for table in tables:
            conn.execute(
                f"ALTER TABLE {table} SET (autovacuum_enabled = false, "
                "toast.autovacuum_enabled = false)"
            )
        conn.execute(
            "DELETE FROM pg_statistic WHERE starelid IN (SELECT c.oid FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public')"
        )
        conn.execute(
            "UPDATE pg_class SET reltuples = -1, relpages = 0, relallvisible = 0 "
            "WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'i')"
        )


def prepare(url: str, initiatives: int, measurements: int, log=print) -> None:
    """Create, migrate and fill the database unless it holds exactly this portfolio; analyse it."""
    name = database_name(url)
    _guard(name)
    if not exists(url):
        create(url)
    manage(url, "migrate", "--noinput", "-v", "0")
    found = counts(url)
    if found != (initiatives, measurements):
        if found[0]:
            drop(url)
            create(url)
            manage(url, "migrate", "--noinput", "-v", "0")
        started = time.perf_counter()
        manage(
            url,
            "generate_portfolio",
            f"--initiatives={initiatives}",
            f"--measurements={measurements}",
            f"--seed={SEED}",
        )
        log(f"generated {name} in {time.perf_counter() - started:.0f} s")
    if not is_analysed(url):
        log(f"VACUUM ANALYZE {name}: {vacuum_analyse(url):.0f} s")
