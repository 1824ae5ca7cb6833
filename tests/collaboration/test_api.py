"""Comments and evidence files over /api/v1/, the schema, the webhook and the activity API."""

import hashlib
import json

import pytest
from django.urls import reverse

from apiauth.models import Webhook
from collaboration.models import Attachment, Comment
from collaboration.services import comment_create
from tests.api.helpers import token_client
from tests.api.test_webhooks import SECRET, Receiver, verified
from tests.collaboration.conftest import PDF, upload

pytestmark = pytest.mark.django_db


def comments_url(initiative) -> str:
    return f"/api/v1/initiatives/{initiative.key}/comments/"


def attachments_url(initiative) -> str:
    return f"/api/v1/initiatives/{initiative.key}/attachments/"


def test_comments_are_listed_oldest_first_with_rendered_html(initiative, member, viewer):
    comment_create(initiative=initiative, actor=member, body="First *one*")
    comment_create(initiative=initiative, actor=member, body="Second")
    body = token_client(viewer).get(comments_url(initiative)).json()
    assert [row["body"] for row in body["results"]] == ["First *one*", "Second"]
    assert body["results"][0]["body_html"] == "<p>First <em>one</em></p>\n"
    assert body["results"][0]["author"]["username"] == member.username


def test_a_comment_is_created_with_json(initiative, gate, member):
    item = gate.items.order_by("order").first()
    response = token_client(member).post(
        comments_url(initiative), {"body": "Done, see run 12", "item": item.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["item"] == item.pk and response.json()["gate"] == gate.pk


def test_a_comment_with_a_file_is_created_with_multipart(initiative, member):
    response = token_client(member).post(
        comments_url(initiative), {"body": "Report attached", "file": upload()}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    [file] = response.json()["files"]
    assert file["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert file["content_type"] == "application/pdf"


def test_numbers_must_be_numbers_and_unknown_fields_are_refused(initiative, member):
    client = token_client(member)
    refused = client.post(comments_url(initiative), {"body": "x", "item": True}, format="json")
    assert refused.status_code == 400 and "item" in refused.json()["errors"]
    unknown = client.post(comments_url(initiative), {"body": "x", "colour": 1}, format="json")
    assert unknown.status_code == 400 and "colour" in unknown.json()["errors"]


def test_mentioning_a_hidden_reader_is_a_400_naming_the_body(initiative, member, outsider):
    response = token_client(member).post(
        comments_url(initiative), {"body": f"@{outsider.username}"}, format="json"
    )
    assert response.status_code == 400 and "cannot see" in response.json()["errors"]["body"][0]


def test_evidence_is_uploaded_as_multipart_and_listed(initiative, gate, member, viewer):
    item = gate.items.order_by("order").first()
    response = token_client(member).post(
        attachments_url(initiative), {"file": upload(), "item": item.pk}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    listed = token_client(viewer).get(attachments_url(initiative), {"item": item.pk}).json()
    assert [row["name"] for row in listed["results"]] == ["eval-report.pdf"]
    assert listed["results"][0]["download_url"].endswith(
        reverse("collaboration:file", args=[response.json()["id"]])
    )


def test_a_file_for_neither_an_item_nor_a_comment_is_refused(initiative, gate, member):
    """The page shows files on items and comments only; one on neither would be nobody's."""
    response = token_client(member).post(
        attachments_url(initiative), {"file": upload()}, format="multipart"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"item"}
    assert not Attachment.objects.exists()


def test_an_oversized_upload_is_413_before_reading_it(initiative, gate, member, settings):
    settings.TOLLGATE_UPLOAD_MAX_MB = 1
    big = upload("big.pdf", PDF + b"0" * (2 * 1024 * 1024))
    response = token_client(member).post(
        attachments_url(initiative), {"file": big}, format="multipart"
    )
    assert response.status_code == 413 and "at most 1 MB" in response.json()["message"]
    assert not Attachment.objects.exists()


def test_the_schema_documents_both_endpoints_with_multipart():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    comments = schema["paths"]["/api/v1/initiatives/{key}/comments/"]
    attachments = schema["paths"]["/api/v1/initiatives/{key}/attachments/"]
    assert set(comments["post"]["requestBody"]["content"]) == {
        "application/json",
        "multipart/form-data",
    }
    assert set(attachments["post"]["requestBody"]["content"]) == {"multipart/form-data"}


def test_the_activity_api_includes_comments_and_uploads(initiative, member, owner):
    client = token_client(member)
    client.post(comments_url(initiative), {"body": "Hi", "file": upload()}, format="multipart")
    rows = token_client(owner).get("/api/v1/activity/", {"initiative": initiative.key}).json()
    verbs = [row["verb"] for row in rows["results"]]
    assert "comment.created" in verbs and "attachment.uploaded" in verbs


def test_the_activity_api_leaves_out_the_words_of_a_deleted_comment(initiative, owner):
    from collaboration.services import comment_delete

    comment = comment_create(initiative=initiative, actor=owner, body="Token abc123 by mistake")
    comment_delete(comment=comment, actor=owner)
    listed = token_client(owner).get("/api/v1/activity/", {"initiative": initiative.key}).json()
    messages = [row["message"] for row in listed["results"] if row["object_type"] == "comment"]
    assert messages == [
        "deleted a comment on the initiative",
        "commented on the initiative (since deleted)",
    ]
    assert "abc123" not in json.dumps(listed)


def test_the_activity_api_does_not_quote_the_old_words_of_an_edited_comment(initiative, owner):
    from collaboration.services import comment_edit

    comment = comment_create(initiative=initiative, actor=owner, body="Ship on Friday")
    comment_edit(comment=comment, actor=owner, body="Ship on Monday")
    listed = token_client(owner).get("/api/v1/activity/", {"initiative": initiative.key}).json()
    messages = [row["message"] for row in listed["results"] if row["object_type"] == "comment"]
    assert messages == [
        "edited a comment on the initiative",
        "commented on the initiative (since edited)",
    ]
    assert "Friday" not in json.dumps(listed)


def test_comment_created_is_delivered_to_webhooks(
    initiative, member, django_capture_on_commit_callbacks, settings
):
    settings.TOLLGATE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the receiver is on loopback
    receiver = Receiver()
    try:
        Webhook.objects.create(
            name="chat", url=receiver.url, secret=SECRET, events=["comment.created"]
        )
        with django_capture_on_commit_callbacks(execute=True):
            token_client(member).post(comments_url(initiative), {"body": "Ship it"}, format="json")
        [request] = receiver.requests
        document = verified(request)
        assert document["event"] == "comment.created"
        assert document["data"]["body"] == "Ship it"
        assert document["data"]["comment"] == Comment.objects.get().pk
    finally:
        receiver.close()
