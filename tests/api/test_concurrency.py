"""Concurrent writers with the same ETag: exactly one wins, the rest get 412 (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from initiatives.models import Initiative
from tests.api.helpers import _fresh_throttle_cache, token_client  # noqa: F401

WRITERS = 6

pytestmark = [
    pytest.mark.postgres,
    # serialized_rollback restores the frameworks the data migration loaded.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def _race(clients, path, bodies, etag) -> list[int]:
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []
    lock = threading.Lock()

    def write(client, body):
        try:
            barrier.wait()
            response = client.patch(path, body, format="json", HTTP_IF_MATCH=etag)
            with lock:
                statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=write, args=(client, body))
        for client, body in zip(clients, bodies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(statuses)


def test_concurrent_initiative_patches_with_one_etag(initiative, owner):
    clients = [token_client(owner) for _ in range(WRITERS)]
    path = f"/api/v1/initiatives/{initiative.key}/"
    etag = clients[0].get(path)["ETag"]
    statuses = _race(clients, path, [{"name": f"Name {i}"} for i in range(WRITERS)], etag)
    assert statuses == [200] + [412] * (WRITERS - 1)
    assert Initiative.objects.get(pk=initiative.pk).version == initiative.version + 1


def test_concurrent_item_patches_with_one_etag(gate, member):
    item = gate.items.get(order=2)
    clients = [token_client(member) for _ in range(WRITERS)]
    path = f"/api/v1/checklist-items/{item.pk}/"
    etag = clients[0].get(path)["ETag"]
    statuses = _race(clients, path, [{"note": f"note {i}"} for i in range(WRITERS)], etag)
    assert statuses == [200] + [412] * (WRITERS - 1)
