"""Comments, mentions, files and the decision snapshot, through the services."""

import datetime
import hashlib

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from collaboration import files
from collaboration.models import Attachment, Comment, Mention
from collaboration.services import (
    attachment_delete,
    attachment_upload,
    comment_create,
    comment_delete,
    comment_edit,
)
from gates.models import GateDecision
from gates.services import gate_request_review, gate_vote
from initiatives.exceptions import InvalidState
from initiatives.models import Activity
from tests.collaboration.conftest import HTML, PDF, upload

pytestmark = pytest.mark.django_db


def test_a_comment_on_an_item_names_its_gate_and_is_logged(initiative, gate, member):
    item = gate.items.order_by("order").first()
    comment = comment_create(
        initiative=initiative, actor=member, body="Eval set is *done*", item=item
    )
    assert comment.gate == gate
    assert "<em>done</em>" in comment.body_html
    entry = Activity.objects.get(verb="comment.created")
    assert entry.actor == member and "commented on item" in entry.message


def test_editing_keeps_the_earlier_text_inside_the_window(initiative, member):
    comment = comment_create(initiative=initiative, actor=member, body="First take")
    comment_edit(comment=comment, actor=member, body="Second take")
    comment.refresh_from_db()
    assert comment.body == "Second take" and comment.edited_at is not None
    assert list(comment.revisions.values_list("body", flat=True)) == ["First take"]


def test_editing_after_the_window_or_by_someone_else_is_refused(initiative, member, owner):
    comment = comment_create(initiative=initiative, actor=member, body="First take")
    with pytest.raises(InvalidState):
        comment_edit(comment=comment, actor=owner, body="Not mine")
    later = timezone.now() + datetime.timedelta(minutes=16)
    with time_machine.travel(later, tick=False), pytest.raises(InvalidState, match="15 minutes"):
        comment_edit(comment=comment, actor=member, body="Too late")


def test_deleting_is_soft_and_logged(initiative, member):
    comment = comment_create(initiative=initiative, actor=member, body="Oops")
    comment_delete(comment=comment, actor=member)
    comment.refresh_from_db()
    assert comment.is_deleted and Comment.objects.filter(pk=comment.pk).exists()
    assert Activity.objects.filter(verb="comment.deleted", object_id=str(comment.pk)).exists()


def test_a_reply_must_stay_on_the_same_initiative(initiative, other_initiative, member, other_pm):
    elsewhere = comment_create(initiative=other_initiative, actor=other_pm, body="Hi")
    with pytest.raises(ValidationError):
        comment_create(initiative=initiative, actor=member, body="Re", reply_to=elsewhere)


def test_mentioning_a_reader_records_the_mention(initiative, member, owner):
    comment = comment_create(initiative=initiative, actor=member, body=f"@{owner.username} look")
    assert list(Mention.objects.values_list("user", flat=True)) == [owner.pk]
    assert f"@{owner.get_full_name()}" in comment.body_html


def test_mentioning_someone_who_cannot_see_the_initiative_is_refused(initiative, member, outsider):
    with pytest.raises(ValidationError) as refusal:
        comment_create(initiative=initiative, actor=member, body=f"cc @{outsider.username}")
    assert "cannot see" in str(refusal.value) and initiative.key in str(refusal.value)
    assert not Comment.objects.exists()


def test_an_upload_stores_type_from_content_and_the_sha256(initiative, gate, member):
    item = gate.items.first()
    attachment = attachment_upload(
        initiative=initiative, actor=member, uploaded_file=upload("notes.txt", PDF), item=item
    )
    assert attachment.content_type == "application/pdf"
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert attachment.size == len(PDF)
    assert attachment.name == "notes.txt"
    assert files.storage().open(attachment.storage_key).read() == PDF
    assert "notes.txt" not in attachment.storage_key


def test_an_html_file_named_pdf_is_typed_as_html(initiative, gate, member):
    attachment = attachment_upload(
        initiative=initiative,
        actor=member,
        uploaded_file=upload("report.pdf", HTML),
        item=gate.items.first(),
    )
    assert attachment.content_type == "text/html"
    assert files.sent_content_type(attachment.content_type) == "application/octet-stream"


def test_a_file_over_the_limit_is_refused_with_its_size(initiative, gate, member, settings):
    settings.TOLLGATE_UPLOAD_MAX_MB = 1
    big = upload("big.pdf", PDF + b"0" * (1024 * 1024))
    with pytest.raises(ValidationError) as refusal:
        attachment_upload(
            initiative=initiative, actor=member, uploaded_file=big, item=gate.items.first()
        )
    assert "at most 1 MB" in str(refusal.value) and "big.pdf" in str(refusal.value)
    assert not Attachment.objects.exists()


def test_the_same_file_twice_on_one_item_is_refused_naming_the_first(
    initiative, gate, member, owner
):
    """A second click on Upload, or the same report sent again, lists nothing twice;
    the same bytes on another item, or after the first copy was deleted, are fine."""
    first_item, other_item = gate.items.order_by("order")[:2]
    first = attachment_upload(
        initiative=initiative, actor=member, uploaded_file=upload("eval.pdf"), item=first_item
    )
    with pytest.raises(ValidationError) as refusal:
        attachment_upload(
            initiative=initiative, actor=owner, uploaded_file=upload("copy.pdf"), item=first_item
        )
    assert "already attached" in str(refusal.value) and "eval.pdf" in str(refusal.value)
    assert Attachment.objects.filter(item=first_item).count() == 1

    attachment_upload(
        initiative=initiative, actor=member, uploaded_file=upload("eval.pdf"), item=other_item
    )
    attachment_delete(attachment=first, actor=member)
    again = attachment_upload(
        initiative=initiative, actor=member, uploaded_file=upload("eval.pdf"), item=first_item
    )
    assert again.sha256 == first.sha256


def _decide(gate, owner, executive):
    gate_request_review(gate=gate, actor=owner)
    gate_vote(gate=gate, actor=executive, decision="recycle", rationale="Not yet")
    return GateDecision.objects.get(gate=gate)


def test_the_decision_snapshot_lists_each_evidence_file_with_its_hash(
    initiative, gate, member, owner, executive
):
    item = gate.items.order_by("order").first()
    attachment = attachment_upload(
        initiative=initiative, actor=member, uploaded_file=upload(), item=item
    )
    decision = _decide(gate, owner, executive)
    row = next(row for row in decision.snapshot["checklist"] if row["id"] == item.pk)
    assert row["files"] == [
        {
            "id": attachment.pk,
            "name": "eval-report.pdf",
            "size": len(PDF),
            "content_type": "application/pdf",
            "sha256": hashlib.sha256(PDF).hexdigest(),
            "uploaded_at": attachment.created_at.isoformat(),
            "uploaded_by": member.get_full_name(),
        }
    ]
    attachment.refresh_from_db()
    assert attachment.relied_on_at is not None


def test_a_file_a_decision_relied_on_cannot_be_deleted(initiative, gate, member, owner, executive):
    attachment = attachment_upload(
        initiative=initiative, actor=member, uploaded_file=upload(), item=gate.items.first()
    )
    _decide(gate, owner, executive)
    with pytest.raises(InvalidState, match="relied on"):
        attachment_delete(attachment=attachment, actor=owner)
    # And the database says so too, whatever path a deletion takes.
    with pytest.raises(IntegrityError), transaction.atomic():
        Attachment.objects.filter(pk=attachment.pk).update(deleted_at=timezone.now())
    assert files.storage().exists(attachment.storage_key)


def test_a_file_nobody_relied_on_is_deleted_with_its_bytes(
    initiative, gate, member, django_capture_on_commit_callbacks
):
    attachment = attachment_upload(
        initiative=initiative, actor=member, uploaded_file=upload(), item=gate.items.first()
    )
    with django_capture_on_commit_callbacks(execute=True):
        attachment_delete(attachment=attachment, actor=member)
    attachment.refresh_from_db()
    assert attachment.is_deleted and not files.storage().exists(attachment.storage_key)
    assert Activity.objects.filter(verb="attachment.deleted").exists()


def test_the_log_quotes_a_comment_as_plain_words(initiative, member, owner):
    comment_create(initiative=initiative, actor=member, body=f"**Done**, thanks @{owner.username}!")
    entry = Activity.objects.get(verb="comment.created")
    assert entry.message == f"commented on the initiative: “Done, thanks @{owner.get_full_name()}!”"
