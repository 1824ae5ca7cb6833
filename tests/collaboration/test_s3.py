"""Evidence in an S3-compatible store: moto's S3 server on a local port, driven through
django-storages exactly as production settings configure it (TOLLGATE_S3_*)."""

import hashlib

import pytest
from django.urls import reverse

from collaboration import files
from collaboration.services import attachment_delete, attachment_upload
from tests.collaboration.conftest import PDF, upload

pytestmark = pytest.mark.django_db

S3_PORT = 8131
BUCKET = "tollgate-evidence"


@pytest.fixture(scope="module")
def s3_server():
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=S3_PORT, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{S3_PORT}"
    server.stop()


@pytest.fixture
def s3_storage(s3_server, settings, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    # The same OPTIONS config/settings/base.py builds from TOLLGATE_S3_* variables.
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "default_acl": None,
                "file_overwrite": False,
                "querystring_auth": True,
            },
        },
    }
    yield client
    for entry in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=entry["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.mark.slow  # starts an S3 server
def test_evidence_goes_to_the_bucket_and_comes_back_through_the_view(
    s3_storage, client, initiative, gate, member, django_capture_on_commit_callbacks
):
    assert type(files.storage()).__name__ == "S3Storage"
    attachment = attachment_upload(
        initiative=initiative, actor=member, uploaded_file=upload(), item=gate.items.first()
    )
    stored = s3_storage.get_object(Bucket=BUCKET, Key=attachment.storage_key)["Body"].read()
    assert (
        hashlib.sha256(stored).hexdigest() == attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    )

    client.force_login(member)
    response = client.get(reverse("collaboration:file", args=[attachment.pk]))
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"] == 'attachment; filename="eval-report.pdf"'

    with django_capture_on_commit_callbacks(execute=True):
        attachment_delete(attachment=attachment, actor=member)
    assert s3_storage.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_the_settings_choose_s3_from_the_environment(monkeypatch):
    import importlib

    import config.settings.base as base

    monkeypatch.setenv("TOLLGATE_S3_BUCKET", "evidence-bucket")
    monkeypatch.setenv("TOLLGATE_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    try:
        reloaded = importlib.reload(base)
        evidence = reloaded.STORAGES["evidence"]
        assert evidence["BACKEND"] == "storages.backends.s3.S3Storage"
        assert evidence["OPTIONS"]["bucket_name"] == "evidence-bucket"
        assert evidence["OPTIONS"]["endpoint_url"] == "http://127.0.0.1:9000"
    finally:
        monkeypatch.delenv("TOLLGATE_S3_BUCKET")
        monkeypatch.delenv("TOLLGATE_S3_ENDPOINT_URL")
        importlib.reload(base)
