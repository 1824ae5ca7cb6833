"""Webhooks: signed deliveries after commit, retries with backoff, a dead receiver never hurts."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from apiauth.models import Webhook, WebhookDelivery
from apiauth.tasks import webhook_deliver_task
from apiauth.webhooks import new_secret, retry_delay, signed_headers, signing_key
from core import events
from tests.api.helpers import _fresh_throttle_cache, token_client  # noqa: F401
from tests.factories import TargetFactory

pytestmark = pytest.mark.django_db
SECRET = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ=="  # base64 of a 26-byte key


def verified(request, secret: str = SECRET) -> dict:
    """The body of a received delivery, verified the way the README tells receivers to."""
    from standardwebhooks.webhooks import Webhook as StandardWebhook

    return StandardWebhook(secret).verify(request["body"], request["headers"])


class Receiver:
    """An HTTP receiver on 127.0.0.1 that answers with the queued status codes (200 when empty)."""

    def __init__(self, delay: float = 0.0):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                time.sleep(delay)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.requests.append({"headers": headers, "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/internal/admin")
                self.end_headers()
                self.wfile.write(b"internal answer: db password hunter2")

            def do_GET(self):
                receiver.requests.append({"headers": dict(self.headers), "body": b"", "get": 1})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def local_receivers_allowed(settings):
    """The test receivers listen on loopback, which only the allow-list opens."""
    settings.TOLLGATE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def dns(monkeypatch):
    """Names that resolve to the addresses a test gives them (the machine has no DNS)."""
    import socket

    names: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in names:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def closed_port_url():
    # A port that was free a moment ago: nothing listens there.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def _hook(url, events_=("gate.decided", "initiative.stage_changed"), **fields):
    return Webhook.objects.create(
        name="ops", url=url, secret=SECRET, events=list(events_), **fields
    )


def _decide(gate, owner, executive, decision="conditional_go"):
    token_client(owner).post(f"/api/v1/gates/{gate.pk}/request-review/")
    return token_client(executive).post(
        f"/api/v1/gates/{gate.pk}/decide/",
        {"decision": decision, "rationale": "Ready enough"},
        format="json",
    )


def test_signatures_follow_standard_webhooks_and_refuse_replays():
    import datetime

    from django.utils import timezone
    from standardwebhooks.webhooks import Webhook as StandardWebhook
    from standardwebhooks.webhooks import WebhookVerificationError

    body = b'{"a": 1}'
    headers = signed_headers(SECRET, "msg_1", body)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert StandardWebhook(SECRET).verify(body, headers) == {"a": 1}
    with pytest.raises(WebhookVerificationError):  # another secret
        StandardWebhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):  # a changed body
        StandardWebhook(SECRET).verify(b'{"a": 2}', headers)
    # A delivery captured ten minutes ago and sent again is refused: the timestamp is signed.
    old = signed_headers(SECRET, "msg_1", body, at=timezone.now() - datetime.timedelta(minutes=10))
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(SECRET).verify(body, old)
    with pytest.raises(WebhookVerificationError):  # nor can its timestamp be moved on
        StandardWebhook(SECRET).verify(
            body, {**old, "webhook-timestamp": headers["webhook-timestamp"]}
        )
    # A secret without the whsec_ prefix signs with its own bytes.
    plain = signed_headers("plain-secret", "msg_2", body)
    assert StandardWebhook(b"plain-secret").verify(body, plain) == {"a": 1}
    assert signing_key("plain-secret") == b"plain-secret"
    assert retry_delay(0) < retry_delay(1) < retry_delay(2)


def test_new_webhooks_get_a_standard_secret_and_bad_ones_are_refused():
    from django.core.exceptions import ValidationError

    hook = Webhook(name="x", url="https://93.184.215.14/hook", events=["gate.decided"])
    assert hook.secret.startswith("whsec_") and len(signing_key(hook.secret)) == 32
    hook.full_clean()
    hook.secret = "whsec_not base64!"
    with pytest.raises(ValidationError) as refused:
        hook.full_clean()
    assert "secret" in refused.value.message_dict


def test_decision_is_delivered_signed_after_commit(
    receiver, gate, owner, executive, django_capture_on_commit_callbacks
):
    hook = _hook(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        response = _decide(gate, owner, executive)
    assert response.status_code == 200
    events_sent = [json.loads(r["body"])["event"] for r in receiver.requests]
    assert sorted(events_sent) == ["gate.decided", "initiative.stage_changed"]
    for request in receiver.requests:
        assert verified(request) == json.loads(request["body"])
    decided = next(json.loads(r["body"]) for r in receiver.requests if b"gate.decided" in r["body"])
    assert decided["data"]["initiative"] == gate.initiative.key
    assert decided["data"]["decision"] == "conditional_go"
    assert hook.deliveries.filter(succeeded=True).count() == 2


def test_nothing_is_sent_when_the_transaction_rolls_back(
    receiver, gate, owner, executive, django_capture_on_commit_callbacks
):
    _hook(receiver.url)
    token_client(owner).post(f"/api/v1/gates/{gate.pk}/request-review/")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        token_client(executive).post(
            f"/api/v1/gates/{gate.pk}/decide/", {"decision": "go", "rationale": "x"}, format="json"
        )  # refused: required items open and no override
    assert callbacks == [] and receiver.requests == []


def test_failed_delivery_is_retried_until_it_succeeds(receiver, settings):
    settings.TOLLGATE_WEBHOOK_MAX_RETRIES = 3
    hook = _hook(receiver.url)
    receiver.statuses = [500, 503]
    # Eager mode runs the retries at once; with a worker they wait retry_delay() seconds.
    webhook_deliver_task.apply(args=[hook.pk, "gate.decided", {"initiative": "AI-001"}, "d-1"])
    attempts = list(WebhookDelivery.objects.order_by("attempt").values_list("attempt", "succeeded"))
    assert attempts == [(1, False), (2, False), (3, True)]
    assert len(receiver.requests) == 3
    assert {r["headers"]["webhook-id"] for r in receiver.requests} == {"d-1"}
    assert all(verified(r) for r in receiver.requests)


def test_a_dead_receiver_never_fails_the_request(
    closed_port_url, gate, owner, executive, settings, django_capture_on_commit_callbacks
):
    settings.TOLLGATE_WEBHOOK_MAX_RETRIES = 2
    hook = _hook(closed_port_url, events_=["gate.decided"])
    with django_capture_on_commit_callbacks(execute=True):
        response = _decide(gate, owner, executive)
    assert response.status_code == 200
    deliveries = hook.deliveries.order_by("attempt")
    assert [d.attempt for d in deliveries] == [1, 2, 3]
    assert not any(d.succeeded for d in deliveries)
    assert "ConnectionRefused" in deliveries[0].error or "URLError" in deliveries[0].error


def test_chat_format_and_target_missed(
    receiver, initiative, member, django_capture_on_commit_callbacks
):
    _hook(receiver.url, events_=["target.missed"], format=Webhook.Format.CHAT)
    target = TargetFactory(initiative=initiative, metric_key="accuracy", threshold=90)
    with django_capture_on_commit_callbacks(execute=True):
        token_client(member).post(
            "/api/v1/measurements/", {"target": target.pk, "value": 70}, format="json"
        )
    assert len(receiver.requests) == 1
    text = json.loads(receiver.requests[0]["body"])["text"]
    assert initiative.key in text and "accuracy" in text and "70" in text


def test_inactive_and_unsubscribed_hooks_get_nothing(
    receiver, gate, owner, executive, django_capture_on_commit_callbacks
):
    _hook(receiver.url, events_=["target.missed"])
    _hook(receiver.url, is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        _decide(gate, owner, executive)
    assert receiver.requests == []


def test_a_failing_listener_is_contained():
    def broken(event, payload):
        raise RuntimeError("boom")

    events.subscribe("test.event", broken)
    try:
        events.publish("test.event", {})  # logged, not raised
    finally:
        events.unsubscribe("test.event", broken)


def test_webhook_events_are_validated():
    from django.core.exceptions import ValidationError

    hook = Webhook(name="x", url="https://93.184.215.14", secret="s", events=["gate.exploded"])
    with pytest.raises(ValidationError):
        hook.full_clean()


def test_deliveries_are_visible_in_the_admin(client, receiver):
    from django.contrib.auth import get_user_model

    hook = _hook(receiver.url)
    webhook_deliver_task.apply(args=[hook.pk, "gate.decided", {"initiative": "AI-001"}, "d-9"])
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw-12345678")
    client.force_login(superuser)
    assert b"gate.decided" in client.get(f"/admin/apiauth/webhook/{hook.pk}/change/").content
    listing = client.get("/admin/apiauth/webhookdelivery/")
    assert listing.status_code == 200 and b"gate.decided" in listing.content


def test_overdue_gates_are_announced_daily(receiver, gate, django_capture_on_commit_callbacks):
    import datetime

    from gates.services.overdue import overdue_gates_announce

    _hook(receiver.url, events_=["gate.overdue"])
    with django_capture_on_commit_callbacks(execute=True):
        assert overdue_gates_announce(today=gate.due_on) == 0
        assert overdue_gates_announce(today=gate.due_on + datetime.timedelta(days=3)) == 1
    body = json.loads(receiver.requests[0]["body"])
    assert body["event"] == "gate.overdue"
    assert body["data"]["days_overdue"] == 3 and body["data"]["stage"] == "poc"


def test_announcing_overdue_gates_reads_the_hooks_once(team, owner, executive):
    import datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gates.services.overdue import overdue_gates_announce
    from tests.factories import InitiativeFactory

    _hook("http://127.0.0.1:9/", events_=["gate.overdue"])
    late = datetime.date.today() + datetime.timedelta(weeks=20)  # every PoC gate is overdue

    def queries(count: int) -> int:
        for _ in range(count):
            InitiativeFactory(team=team, owner=owner, sponsor=executive)
        with CaptureQueriesContext(connection) as context:
            overdue_gates_announce(today=late)
        return len(context.captured_queries)

    assert queries(1) == queries(4)


# --- Targets: no internal addresses, no other schemes, no redirects, no answer kept -------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://93.184.215.14/hook",
        "file:///etc/passwd",
        "gopher://93.184.215.14/",
        "http://127.0.0.2:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://172.16.0.1/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        # IPv6 addresses that wrap an internal IPv4 one: compatible, SIIT, 6to4, NAT64.
        "http://[::127.0.0.1]/hook",
        "http://[::ffff:0:7f00:1]/hook",
        "http://[2002:7f00:1::1]/hook",
        "http://[2002:a00:1::]/hook",
        "http://[64:ff9b::a9fe:a9fe]/latest/",
        "http://[64:ff9b:1::a00:1]/hook",
        "http://metadata.internal/hook",  # resolves to a link-local address below
        "http://nowhere.invalid/hook",  # does not resolve
        "http://user:pw@93.184.215.14/hook",
    ],
)
def test_internal_and_non_http_targets_are_refused_at_save(url, dns, settings):
    from django.core.exceptions import ValidationError

    settings.TOLLGATE_WEBHOOK_ALLOWED_HOSTS = []
    dns["metadata.internal"] = "169.254.169.254"
    hook = Webhook(name="x", url=url, events=["gate.decided"])
    with pytest.raises(ValidationError) as refused:
        hook.full_clean()
    assert "url" in refused.value.message_dict


@pytest.mark.parametrize(
    "url",
    [
        "https://93.184.215.14/hook",
        "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook",
        "https://[64:ff9b::5db8:d70e]/hook",
        "https://[2002:5db8:d70e::1]/hook",
    ],
)
def test_public_targets_are_accepted_however_they_are_written(url, settings):
    settings.TOLLGATE_WEBHOOK_ALLOWED_HOSTS = []
    Webhook(name="x", url=url, events=["gate.decided"]).full_clean()


def test_the_admin_form_refuses_an_internal_target(client, settings):
    from django.contrib.auth import get_user_model

    settings.TOLLGATE_WEBHOOK_ALLOWED_HOSTS = []
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-12345678")
    client.force_login(root)
    response = client.post(
        "/admin/apiauth/webhook/add/",
        {
            "name": "sneaky",
            "url": "http://169.254.169.254/latest/",
            "secret": new_secret(),
            "events": "gate.decided",
            "format": "json",
            "is_active": "on",
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200 and b"internal address" in response.content
    assert not Webhook.objects.exists()


def test_the_allow_list_opens_named_hosts_and_networks(dns, settings):
    dns["hooks.corp.example"] = "10.20.0.7"
    dns["other.corp.example"] = "10.30.0.7"
    settings.TOLLGATE_WEBHOOK_ALLOWED_HOSTS = ["hooks.corp.example", "192.168.0.0/16"]
    for url in ("https://hooks.corp.example/in", "http://192.168.4.4:8080/in"):
        Webhook(name="x", url=url, events=["gate.decided"]).full_clean()
    with pytest.raises(Exception, match="internal address"):
        Webhook(name="x", url="http://other.corp.example/", events=["gate.decided"]).full_clean()


def test_a_name_that_turns_internal_after_save_is_refused_at_delivery(dns, receiver, settings):
    """DNS rebinding: the name was public when saved; at delivery it points inside."""
    settings.TOLLGATE_WEBHOOK_ALLOWED_HOSTS = []
    dns["hooks.example.com"] = "93.184.215.14"
    port = receiver.server.server_port
    hook = _hook(f"http://hooks.example.com:{port}/hook")
    hook.full_clean()
    dns["hooks.example.com"] = "127.0.0.1"
    webhook_deliver_task.apply(args=[hook.pk, "gate.decided", {"initiative": "AI-001"}, "d-2"])
    [delivery] = hook.deliveries.all()  # refused once, not retried
    assert delivery.refused and not delivery.succeeded
    assert "internal address" in delivery.error and receiver.requests == []


def test_redirects_are_not_followed_and_no_answer_is_kept(receiver, client):
    from django.contrib.auth import get_user_model

    hook = _hook(receiver.url)
    receiver.statuses = [302, 500]
    webhook_deliver_task.apply(args=[hook.pk, "gate.decided", {"initiative": "AI-001"}, "d-3"])
    first, second = hook.deliveries.order_by("attempt")[:2]
    assert (first.response_status, first.error) == (302, "HTTP 302 Found")
    assert (second.response_status, second.error) == (500, "HTTP 500 Internal Server Error")
    assert not any("get" in request for request in receiver.requests)  # never followed
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-12345678")
    client.force_login(admin)
    for url in (
        f"/admin/apiauth/webhook/{hook.pk}/change/",
        f"/admin/apiauth/webhookdelivery/{first.pk}/change/",
    ):
        page = client.get(url)
        assert page.status_code == 200 and b"hunter2" not in page.content


# --- Never inside a request ------------------------------------------------------------------


# serialized_rollback restores the frameworks the data migration loaded.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_slow_receiver_does_not_slow_the_request_without_a_broker(
    gate, owner, executive, settings
):
    """The embedded default (no REDIS_URL: Celery eager) delivers on a background thread
    after commit; `decide` answers at once while the receiver takes its time."""
    import time

    from core import background

    settings.TOLLGATE_BACKGROUND_INLINE = False  # what every deployment does
    settings.TOLLGATE_WEBHOOK_MAX_RETRIES = 1
    slow = Receiver(delay=2.0)
    try:
        slow.statuses = [503]  # the first attempt fails and is retried, slowly too
        hook = _hook(slow.url, events_=["gate.decided"])
        token_client(owner).post(f"/api/v1/gates/{gate.pk}/request-review/")
        started = time.monotonic()
        response = token_client(executive).post(
            f"/api/v1/gates/{gate.pk}/decide/",
            {"decision": "conditional_go", "rationale": "Ready enough"},
            format="json",
        )
        took = time.monotonic() - started
        assert response.status_code == 200
        assert took < 1.5, f"decide took {took:.1f} s with a receiver that takes 2 s"
        assert background.wait(timeout=30)
        assert [d.succeeded for d in hook.deliveries.order_by("attempt")] == [False, True]
        assert [verified(r)["event"] for r in slow.requests] == ["gate.decided"] * 2
    finally:
        slow.close()
