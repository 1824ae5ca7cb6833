"""Pushing measurements: single rows, batches, linked items, idempotency and query counts."""

from __future__ import annotations

import datetime
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apiauth.idempotency import idempotency_keys_purge
from apiauth.models import ApiToken, IdempotencyKey
from initiatives.models import Measurement, Target
from tests.api.helpers import _fresh_throttle_cache, assert_error_shape, token_client  # noqa: F401
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/measurements/"


@pytest.fixture
def accuracy(initiative):
    return TargetFactory(initiative=initiative, metric_key="accuracy", threshold=90.0)


def test_one_measurement_by_target_id_flips_the_linked_item(accuracy, member, gate):
    item = gate.items.get(metric_key="accuracy")
    assert item.target_id == accuracy.pk and item.state == "open"
    response = token_client(member).post(URL, {"target": accuracy.pk, "value": 93.5}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["recorded"] == 1
    assert response.json()["targets"][0]["status"] == "met"
    item.refresh_from_db()
    assert item.state == "done"
    # A later miss reopens it.
    token_client(member).post(URL, {"target": accuracy.pk, "value": 70}, format="json")
    item.refresh_from_db()
    assert item.state == "open"


def test_batch_by_metric_key(accuracy, initiative, member):
    earlier = timezone.now() - datetime.timedelta(hours=2)
    rows = [
        {
            "initiative": initiative.key,
            "metric_key": "accuracy",
            "value": 80,
            "measured_at": earlier,
        },
        {"initiative": initiative.key, "metric_key": "accuracy", "value": 95},
    ]
    response = token_client(member).post(URL, {"measurements": rows}, format="json")
    assert response.status_code == 201, response.content
    accuracy.refresh_from_db()
    assert accuracy.latest_value == 95 and accuracy.status == Target.Status.MET
    assert Measurement.objects.filter(target=accuracy, source="integration").count() == 2


def test_bad_rows_name_their_index(accuracy, initiative, member):
    rows = [
        {"target": accuracy.pk, "value": 1},
        {"target": accuracy.pk, "value": "high"},
        {"initiative": initiative.key, "value": 3},
        {"target": 999999, "value": 3},
    ]
    client = token_client(member)
    error = assert_error_shape(client.post(URL, {"measurements": rows}, format="json"), 400)
    assert "measurements.1.value" in error["errors"]
    assert "measurements.2.non_field_errors" in error["errors"]
    error = assert_error_shape(
        client.post(URL, {"measurements": [rows[0], rows[3]]}, format="json"), 400
    )
    assert list(error["errors"]) == ["measurements.1.target"]
    assert_error_shape(client.post(URL, {"measurements": []}, format="json"), 400)
    future = timezone.now() + datetime.timedelta(days=1)
    error = assert_error_shape(
        client.post(URL, {"target": accuracy.pk, "value": 1, "measured_at": future}, format="json"),
        400,
    )
    assert Measurement.objects.count() == 0


def test_permissions(accuracy, viewer, outsider, executive):
    body = {"target": accuracy.pk, "value": 91}
    assert_error_shape(token_client(viewer).post(URL, body, format="json"), 403)
    assert_error_shape(token_client(executive).post(URL, body, format="json"), 403)
    # An outsider cannot see the target, so it does not exist for them.
    assert (
        "measurements.0.target"
        in assert_error_shape(token_client(outsider).post(URL, body, format="json"), 400)["errors"]
    )


def test_time_series_with_bounds(accuracy, member):
    now = timezone.now()
    rows = [
        {"target": accuracy.pk, "value": v, "measured_at": now - datetime.timedelta(days=d)}
        for v, d in [(80, 10), (85, 5), (92, 1)]
    ]
    client = token_client(member)
    client.post(URL, {"measurements": rows}, format="json")
    series_url = f"/api/v1/targets/{accuracy.pk}/measurements/"
    values = [m["value"] for m in client.get(series_url).json()["results"]]
    assert values == [92, 85, 80]
    bounded = client.get(
        series_url,
        {
            "from": (now - datetime.timedelta(days=6)).isoformat(),
            "to": (now - datetime.timedelta(days=2)).isoformat(),
        },
    )
    assert [m["value"] for m in bounded.json()["results"]] == [85]
    assert_error_shape(client.get(series_url, {"from": "last week"}), 400)


def test_idempotent_replay_and_mismatch(accuracy, member):
    client = token_client(member)
    body = {"target": accuracy.pk, "value": 91}
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-42")
    replay = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-42")
    assert first.status_code == replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert Measurement.objects.count() == 1
    other = client.post(URL, {**body, "value": 50}, format="json", HTTP_IDEMPOTENCY_KEY="batch-42")
    assert_error_shape(other, 422, "idempotency_key_reused")
    assert Measurement.objects.count() == 1


def test_retry_while_the_first_is_in_progress_is_409(accuracy, member):
    client = token_client(member)
    body = {"target": accuracy.pk, "value": 91}
    # The first request has claimed the key but not finished (as a concurrent worker would).
    from apiauth.idempotency import request_fingerprint

    class Stub:
        method = "POST"
        path = URL
        data = body

    IdempotencyKey.objects.create(user=member, key="k-1", fingerprint=request_fingerprint(Stub))
    response = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert_error_shape(response, 409, "idempotency_in_progress")
    assert Measurement.objects.count() == 0


def test_failed_request_frees_its_idempotency_key(accuracy, member):
    client = token_client(member)
    bad = client.post(
        URL, {"target": accuracy.pk, "value": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.filter(key="k-2").exists()


def test_keys_are_kept_for_a_day_then_purged(member):
    IdempotencyKey.objects.create(
        user=member,
        key="old",
        fingerprint="x",
        state="done",
        created_at=timezone.now() - datetime.timedelta(hours=25),
    )
    IdempotencyKey.objects.create(
        user=member,
        key="new",
        fingerprint="x",
        state="done",
        created_at=timezone.now() - datetime.timedelta(hours=23),
    )
    assert idempotency_keys_purge() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def _batch_queries(client, rows) -> int:
    """Queries to ingest `rows`, measured from the same starting state (rolled back after)."""
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.post(URL, {"measurements": rows}, format="json")
            elapsed = time.perf_counter() - started
        print(f"{len(rows)} measurements: {elapsed * 1000:.0f} ms, {len(queries)} queries")
        assert response.status_code == 201, response.content[:500]
        assert Measurement.objects.count() == len(rows)
        transaction.set_rollback(True)
    return len(queries)


def test_a_thousand_rows_take_as_many_queries_as_ten(initiative, member):
    targets = [
        TargetFactory(initiative=initiative, metric_key=key, threshold=90.0)
        for key in ("accuracy", "uptime", "task_success_rate")
    ]
    client = token_client(member, scope=ApiToken.Scope.READ_WRITE)
    client.get("/api/v1/")  # stamps last_used_at outside the measured requests
    start = timezone.now() - datetime.timedelta(days=30)

    def rows(count, offset):
        return [
            {
                "target": targets[i % 3].pk if i % 2 else None,
                "initiative": initiative.key,
                "metric_key": targets[i % 3].metric_key,
                "value": 90 + (i % 7),  # all meet the bar, so both batches flip the same items
                "measured_at": (start + datetime.timedelta(minutes=offset + i)).isoformat(),
            }
            for i in range(count)
        ]

    def normalise(batch):
        # Odd rows name the target by id, even rows by initiative and metric key.
        out = []
        for row in batch:
            if row["target"] is None:
                out.append({k: v for k, v in row.items() if k != "target"})
            else:
                out.append({k: v for k, v in row.items() if k not in ("initiative", "metric_key")})
        return out

    ten = _batch_queries(client, normalise(rows(10, 0)))
    thousand = _batch_queries(client, normalise(rows(1000, 0)))
    assert thousand == ten


def test_an_abandoned_in_progress_key_is_taken_over(accuracy, member):
    from apiauth.idempotency import request_fingerprint

    body = {"target": accuracy.pk, "value": 91}

    class Stub:
        method = "POST"
        path = URL
        data = body

    IdempotencyKey.objects.create(
        user=member,
        key="k-3",
        fingerprint=request_fingerprint(Stub),
        created_at=timezone.now() - datetime.timedelta(hours=1),
    )
    response = token_client(member).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert response.status_code == 201
    assert IdempotencyKey.objects.get(key="k-3").state == "done"


def test_queries_do_not_grow_with_the_targets_that_flip(
    initiative, member, monkeypatch, django_capture_on_commit_callbacks
):
    """Each target that turns to missed announces a webhook event; the batch looks the
    listening webhooks up once, however many flip."""
    from apiauth.models import Webhook
    from apiauth.tasks import webhook_deliver_task

    Webhook.objects.create(
        name="ops", url="https://hooks.example.com/x", secret="s" * 32, events=["target.missed"]
    )
    queued = []
    # The broker's edge: record what would be queued instead of delivering it.
    monkeypatch.setattr(webhook_deliver_task, "delay", lambda *args: queued.append(args))
    targets = [
        TargetFactory(initiative=initiative, metric_key=f"custom_{n}", threshold=90.0)
        for n in range(12)
    ]
    client = token_client(member)
    client.get("/api/v1/")  # stamps last_used_at outside the measured requests
    start = timezone.now() - datetime.timedelta(days=1)

    def flip_to_missed(chosen, minutes) -> int:
        met = [
            {"target": t.pk, "value": 95.0, "measured_at": (start + minutes).isoformat()}
            for t in chosen
        ]
        client.post(URL, {"measurements": met}, format="json")
        missed = [
            {"target": t.pk, "value": 10.0, "measured_at": (start + 2 * minutes).isoformat()}
            for t in chosen
        ]
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = client.post(URL, {"measurements": missed}, format="json")
        assert response.status_code == 201
        return len(queries)

    few = flip_to_missed(targets[:2], datetime.timedelta(minutes=1))
    queued_few = len(queued)
    many = flip_to_missed(targets, datetime.timedelta(minutes=10))

    assert (queued_few, len(queued) - queued_few) == (2, 12)
    assert many == few


def test_reopened_items_are_announced_as_one_batch(
    initiative, gate, member, monkeypatch, django_capture_on_commit_callbacks
):
    """A batch that reopens many done items looks up the webhooks listening to
    item.reopened once, as for target.missed, and still announces every item."""
    from apiauth.models import Webhook
    from apiauth.tasks import webhook_deliver_task
    from gates.models import ChecklistItem

    Webhook.objects.create(
        name="ops", url="https://hooks.example.com/x", secret="s" * 32, events=["item.reopened"]
    )
    queued = []
    monkeypatch.setattr(webhook_deliver_task, "delay", lambda *args: queued.append(args))
    first_order = gate.items.count() + 1
    targets = []
    for n in range(12):
        target = TargetFactory(initiative=initiative, metric_key=f"custom_{n}", threshold=90.0)
        ChecklistItem.objects.create(
            gate=gate,
            order=first_order + n,
            text=f"custom {n}",
            metric_key=target.metric_key,
            target=target,
        )
        targets.append(target)
    client = token_client(member)
    client.get("/api/v1/")  # stamps last_used_at outside the measured requests
    start = timezone.now() - datetime.timedelta(days=1)

    def reopen(chosen, minutes) -> int:
        met = [
            {"target": t.pk, "value": 95.0, "measured_at": (start + minutes).isoformat()}
            for t in chosen
        ]
        with django_capture_on_commit_callbacks(execute=True):
            client.post(URL, {"measurements": met}, format="json")
        missed = [
            {"target": t.pk, "value": 10.0, "measured_at": (start + 2 * minutes).isoformat()}
            for t in chosen
        ]
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = client.post(URL, {"measurements": missed}, format="json")
        assert response.status_code == 201
        return sum('"apiauth_webhook"' in query["sql"] for query in queries.captured_queries)

    lookups_few = reopen(targets[:2], datetime.timedelta(minutes=1))
    queued_few = len(queued)
    lookups_many = reopen(targets, datetime.timedelta(minutes=10))

    reopened = [args for args in queued if args[1] == "item.reopened"]
    assert (queued_few, len(reopened) - queued_few) == (2, 12)
    # One lookup for target.missed and one for item.reopened, however many items reopen.
    assert lookups_few == lookups_many == 2
    assert ChecklistItem.objects.filter(target__in=targets, state="open").count() == 12


def test_a_series_page_reads_its_length_from_the_target(accuracy, member):
    """The count of readings is kept on the target by ingestion, so paging through a
    long series needs no COUNT over it."""
    client = token_client(member)
    start = timezone.now() - datetime.timedelta(days=3)
    rows = [
        {
            "target": accuracy.pk,
            "value": float(n),
            "measured_at": (start + datetime.timedelta(minutes=n)).isoformat(),
        }
        for n in range(130)
    ]
    client.post(URL, {"measurements": rows[:30]}, format="json")
    client.post(URL, {"measurements": rows[30:]}, format="json")
    accuracy.refresh_from_db()
    assert accuracy.measurement_count == Measurement.objects.filter(target=accuracy).count() == 130

    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"/api/v1/targets/{accuracy.pk}/measurements/?page=2").json()
    assert body["count"] == 130
    assert [row["value"] for row in body["results"]] == [float(n) for n in range(79, 29, -1)]
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)
    # With bounds the count is the window's, counted.
    window = client.get(
        f"/api/v1/targets/{accuracy.pk}/measurements/", {"from": rows[100]["measured_at"]}
    ).json()
    assert window["count"] == 30
