"""`migrate` makes the database cache's table whenever the database cache is configured
(no REDIS_URL), even when the migrations were applied before under another cache."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection

TABLE = "tollgate_cache_check"
DATABASE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": TABLE,
        "KEY_PREFIX": "tollgate",
    }
}


def _tables() -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


@pytest.mark.django_db
def test_migrate_creates_the_database_cache_table_when_the_migrations_are_applied(settings):
    """Every migration is applied already (as on a database first migrated with Redis):
    `migrate` still makes the table, and the cache works."""
    settings.CACHES = DATABASE_CACHE
    assert TABLE not in _tables()

    call_command("migrate", verbosity=0, interactive=False)

    assert TABLE in _tables()
    cache = caches["default"]
    cache.set("answer", 42)
    assert cache.get("answer") == 42
    # Again: nothing to do, nothing fails.
    call_command("migrate", verbosity=0, interactive=False)


@pytest.mark.django_db
def test_migrate_makes_no_cache_table_for_other_caches(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    before = _tables()
    call_command("migrate", verbosity=0, interactive=False)
    assert _tables() == before
