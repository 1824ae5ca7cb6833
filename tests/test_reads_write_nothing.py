"""A GET changes nothing: every page and every API read, found from the URL conf and the schema.

A read that writes (a row created on first view, a counter bumped) turns a crawler, a
prefetching browser or a monitoring probe into an author, and makes two readers race.
What a request may write whatever its method: the session, the shared limits and cache,
and when a token was last used.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from initiatives.models import BusinessCase
from tests.test_access_matrix import (  # noqa: F401  (world is a fixture)
    _send,
    api_client,
    operation_url,
    page_client,
    page_routes,
    page_url,
    schema_operations,
    world,
)

WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


# Rows some reads could be tempted to create on first view: gone before the walk.
def _without_lazy_rows(objects: dict) -> None:
    BusinessCase.objects.filter(initiative__key=objects["key"]).delete()


BOOKKEEPING = {"django_session", "core_limitcounter", "tollgate_cache", "apiauth_apitoken"}


def _writes(captured) -> list[str]:
    found = []
    for query in captured:
        match = WRITE.match(query["sql"])
        if match and match.group(2).lower() not in BOOKKEEPING:
            found.append(f"{match.group(1).split()[0].upper()} {match.group(2)}")
    return sorted(set(found))


@pytest.mark.parametrize("persona", ["owner", "admin_user"])
def test_no_page_writes_on_get(request, persona, world):  # noqa: F811
    _without_lazy_rows(world)
    client = page_client(request, persona)
    wrong = {}
    for name, route in page_routes().items():
        url = page_url(name, route, world)
        with CaptureQueriesContext(connection) as context:
            response = _send(client, "GET", url)
            if response.streaming:
                b"".join(response.streaming_content)
        if writes := _writes(context.captured_queries):
            wrong[url] = writes
    assert wrong == {}


@pytest.mark.parametrize("persona", ["owner", "admin_user"])
def test_no_api_read_writes(request, persona, world):  # noqa: F811
    _without_lazy_rows(world)
    client = api_client(request, persona)
    wrong = {}
    for operation in schema_operations():
        method, path = operation.split(" ", 1)
        if method != "GET":
            continue
        url = operation_url(path, world)
        with CaptureQueriesContext(connection) as context:
            response = _send(client, "GET", url)
            if response.streaming:
                b"".join(response.streaming_content)
        if writes := _writes(context.captured_queries):
            wrong[operation] = writes
    assert wrong == {}
