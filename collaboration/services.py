"""Writes of the collaboration app: comments, mentions, files and watching.

Each function runs in a transaction, writes the activity log and announces
what happened on the event bus once the transaction commits (notices and
webhooks listen there).
"""

from __future__ import annotations

import datetime
from html import unescape

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.html import strip_tags

from collaboration import files, markdown
from collaboration.models import (
    COMMENT_MAX_LENGTH,
    Attachment,
    Comment,
    CommentRevision,
    Mention,
    Watch,
)
from core.events import Event, publish_on_commit
from gates.models import ChecklistItem, Gate
from initiatives.activity import activity_log
from initiatives.exceptions import InvalidState, StaleEdit
from initiatives.models import Initiative
from initiatives.policy import Action, can

MAX_MENTIONS = 20
EXCERPT_LENGTH = 80


def display_name(user) -> str:
    return user.get_full_name() or user.get_username()


def _excerpt(html: str) -> str:
    """The start of a comment as plain words: no Markdown marks, mentions by name."""
    flat = " ".join(unescape(strip_tags(html)).split())
    return flat if len(flat) <= EXCERPT_LENGTH else flat[: EXCERPT_LENGTH - 1] + "…"


def _mentioned_people(*, initiative: Initiative, body: str) -> list:
    """The readers named as @username in `body`; naming anybody else is refused.

    A notice about a comment quotes it, so mentioning someone who cannot read the
    initiative would show them what they may not see.
    """
    usernames = markdown.mentioned_usernames(body)
    if not usernames:
        return []
    people = list(get_user_model().objects.filter(username__in=usernames).order_by("pk"))
    if len(people) > MAX_MENTIONS:
        raise ValidationError({"body": f"Mention at most {MAX_MENTIONS} people in one comment."})
    refused = [person for person in people if not can(person, Action.VIEW, initiative)]
    if refused:
        names = ", ".join(display_name(person) for person in refused)
        raise ValidationError(
            {
                "body": f"{names} cannot see {initiative.key}, so they cannot be mentioned "
                "here. Remove the mention, or ask the owner to add them to the team first."
            }
        )
    return people


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "Write something first."})
    if len(body) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {"body": f"Keep a comment under {COMMENT_MAX_LENGTH:,} characters ({len(body):,})."}
        )
    if "\x00" in body:
        raise ValidationError({"body": "The text contains a null character."})
    return body


def _render(body: str, people: list) -> str:
    return markdown.render(body, {person.get_username(): display_name(person) for person in people})


def _comment_payload(comment: Comment, *, mentioned_ids: list[int]) -> dict:
    initiative = comment.initiative
    return {
        "initiative": initiative.key,
        "initiative_name": initiative.name,
        "comment": comment.pk,
        "author": comment.author.get_username() if comment.author else None,
        "author_name": display_name(comment.author) if comment.author else None,
        "about": comment.about,
        "gate": comment.gate_id,
        "item": comment.item_id,
        "reply_to": comment.reply_to_id,
        "body": comment.body,
        "created_at": comment.created_at.isoformat(),
        "url": settings.SITE_URL.rstrip("/")
        + initiative.get_absolute_url()
        + f"#comment-{comment.pk}",
        "mentioned_ids": mentioned_ids,
    }


@transaction.atomic
def comment_create(
    *,
    initiative: Initiative,
    actor,
    body: str,
    gate: Gate | None = None,
    item: ChecklistItem | None = None,
    reply_to: Comment | None = None,
    uploaded_file=None,
) -> Comment:
    """Write a comment on the initiative, its gate or one item, with a file if one is given."""
    body = _clean_body(body)
    if item is not None:
        gate = item.gate
    if gate is not None and gate.initiative_id != initiative.pk:
        raise ValidationError({"gate": "That gate belongs to another initiative."})
    if reply_to is not None:
        if reply_to.initiative_id != initiative.pk:
            raise ValidationError({"reply_to": "That comment belongs to another initiative."})
        if reply_to.is_deleted:
            raise ValidationError({"reply_to": "That comment was deleted."})
    people = _mentioned_people(initiative=initiative, body=body)
    now = timezone.now()
    comment = Comment.objects.create(
        initiative=initiative,
        gate=gate,
        item=item,
        reply_to=reply_to,
        author=actor,
        body=body,
        body_html=_render(body, people),
        created_at=now,
        updated_at=now,
    )
    Mention.objects.bulk_create([Mention(comment=comment, user=person) for person in people])
    if uploaded_file is not None:
        attachment_upload(
            initiative=initiative, actor=actor, uploaded_file=uploaded_file, comment=comment
        )
    activity_log(
        actor=actor,
        initiative=initiative,
        verb="comment.created",
        obj=comment,
        message=f"commented on {comment.about}: “{_excerpt(comment.body_html)}”",
        at=now,
    )
    publish_on_commit(
        Event.COMMENT_CREATED, _comment_payload(comment, mentioned_ids=[p.pk for p in people])
    )
    return comment


def edit_window() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.TOLLGATE_COMMENT_EDIT_MINUTES)


def comment_editable_until(comment: Comment) -> datetime.datetime:
    return comment.created_at + edit_window()


@transaction.atomic
def comment_written(comment: Comment) -> str:
    """When the comment's current text was written, as the edit form carries it."""
    return (comment.edited_at or comment.created_at).isoformat()


def comment_edit(
    *, comment: Comment, actor, body: str, expected_written: str | None = None
) -> Comment:
    """Change a comment's text within the edit window, keeping the earlier text.

    With `expected_written` (see comment_written), a text changed since the caller read it
    is not overwritten: StaleEdit, carrying the comment as it is now.
    """
    comment = Comment.objects.select_for_update().select_related("initiative").get(pk=comment.pk)
    if comment.is_deleted:
        raise InvalidState("This comment was deleted.")
    if comment.author_id != getattr(actor, "pk", None):
        raise InvalidState("Only the author can edit a comment.")
    if timezone.now() > comment_editable_until(comment):
        minutes = settings.TOLLGATE_COMMENT_EDIT_MINUTES
        raise InvalidState(
            f"Comments can be edited for {minutes} minutes after they are written; "
            "write a new comment instead."
        )
    if expected_written is not None and expected_written != comment_written(comment):
        raise StaleEdit(
            "This comment was changed since you opened it (perhaps in another tab). "
            "Its current text is shown; make your change again.",
            current=comment,
        )
    body = _clean_body(body)
    if body == comment.body:
        return comment
    people = _mentioned_people(initiative=comment.initiative, body=body)
    already = set(comment.mentions.values_list("user_id", flat=True))
    now = timezone.now()
    CommentRevision.objects.create(
        comment=comment, body=comment.body, written_at=comment.edited_at or comment.created_at
    )
    comment.body = body
    comment.body_html = _render(body, people)
    comment.edited_at = now
    comment.updated_at = now
    comment.save(update_fields=["body", "body_html", "edited_at", "updated_at"])
    new_people = [person for person in people if person.pk not in already]
    Mention.objects.bulk_create([Mention(comment=comment, user=person) for person in new_people])
    activity_log(
        actor=actor,
        initiative=comment.initiative,
        verb="comment.edited",
        obj=comment,
        message=f"edited a comment on {comment.about}",
        at=now,
    )
    if new_people:
        publish_on_commit(
            Event.COMMENT_MENTIONED,
            _comment_payload(comment, mentioned_ids=[p.pk for p in new_people]),
        )
    return comment


@transaction.atomic
def comment_delete(*, comment: Comment, actor) -> Comment:
    """Soft-delete a comment: the text leaves the page, the record and the log stay."""
    comment = Comment.objects.select_for_update().select_related("initiative").get(pk=comment.pk)
    if comment.is_deleted:
        return comment
    now = timezone.now()
    comment.deleted_at = now
    comment.deleted_by = actor
    comment.updated_at = now
    comment.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    activity_log(
        actor=actor,
        initiative=comment.initiative,
        verb="comment.deleted",
        obj=comment,
        message=f"deleted a comment on {comment.about}",
        at=now,
    )
    return comment


@transaction.atomic
def attachment_upload(
    *,
    initiative: Initiative,
    actor,
    uploaded_file,
    item: ChecklistItem | None = None,
    comment: Comment | None = None,
) -> Attachment:
    """Store an uploaded file as evidence on an item, or with a comment; returns the row.

    Raises ValidationError when there is no file, it is too big or empty, it
    belongs to neither an item nor a comment, or the item already has the same
    file; InvalidState when the item's gate
    has been decided.

    The type is read from the content and the SHA-256 computed while reading;
    the bytes are stored under a name Tollgate makes up, never the uploader's.
    """
    if uploaded_file is None:
        raise ValidationError({"file": "Choose a file to upload."})
    if item is None and comment is None:
        # A file belongs to something people see: an item's evidence or a comment.
        raise ValidationError(
            {"item": "Say which checklist item (or comment) the file is evidence for."}
        )
    limit = files.max_upload_bytes()
    if uploaded_file.size > limit:
        raise ValidationError(
            {
                "file": f"“{files.safe_name(uploaded_file.name)}” is "
                f"{files.human_size(uploaded_file.size)}; files may be at most "
                f"{settings.TOLLGATE_UPLOAD_MAX_MB} MB."
            }
        )
    if comment is not None:
        if comment.initiative_id != initiative.pk:
            raise ValidationError({"comment": "That comment belongs to another initiative."})
        item = item or comment.item
    if item is not None:
        gate = Gate.objects.select_for_update().get(pk=item.gate_id)
        if gate.initiative_id != initiative.pk:
            raise ValidationError({"item": "That item belongs to another initiative."})
        if comment is None and not gate.is_pending:
            raise InvalidState("This gate has been decided; its checklist is frozen.")
    sha256, head, size = files.hash_and_head(uploaded_file)
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    if item is not None and comment is None:
        # The same bytes twice on one item (a second click, or the same report again)
        # would list one piece of evidence twice. The gate row locked above serialises
        # uploads to its items.
        same = (
            Attachment.objects.live()
            .filter(item=item, comment=None, sha256=sha256)
            .select_related("uploaded_by")
            .first()
        )
        if same is not None:
            by = display_name(same.uploaded_by) if same.uploaded_by else "a former user"
            raise ValidationError(
                {
                    "file": f"This file is already attached to “{item.text}” as "
                    f"“{same.name}” ({by}, {timezone.localtime(same.created_at):%d %b %Y})."
                }
            )
    key = files.storage().save(files.storage_key_for(initiative.pk), uploaded_file)
    try:
        attachment = Attachment.objects.create(
            initiative=initiative,
            item=item,
            comment=comment,
            uploaded_by=actor,
            name=files.safe_name(uploaded_file.name),
            storage_key=key,
            size=size,
            content_type=files.detect_type(head),
            sha256=sha256,
        )
    except Exception:
        # Stored bytes without a row would be nobody's.
        files.storage().delete(key)
        raise
    about = f"item “{item.text}”" if item is not None else "a comment"
    activity_log(
        actor=actor,
        initiative=initiative,
        verb="attachment.uploaded",
        obj=attachment,
        after={"name": attachment.name, "sha256": sha256, "size": size},
        message=f"attached “{attachment.name}” ({files.human_size(size)}) to {about}",
    )
    return attachment


@transaction.atomic
def attachment_delete(*, attachment: Attachment, actor) -> Attachment:
    """Remove a file. One that a gate decision relied on stays: the record needs it."""
    attachment = (
        Attachment.objects.select_for_update().select_related("initiative").get(pk=attachment.pk)
    )
    if attachment.relied_on_at is not None:
        raise InvalidState(
            f"“{attachment.name}” is evidence a gate decision relied on "
            f"({timezone.localtime(attachment.relied_on_at):%d %b %Y}); it cannot be deleted."
        )
    if attachment.is_deleted:
        return attachment
    attachment.deleted_at = timezone.now()
    attachment.deleted_by = actor
    attachment.save(update_fields=["deleted_at", "deleted_by"])
    activity_log(
        actor=actor,
        initiative=attachment.initiative,
        verb="attachment.deleted",
        obj=attachment,
        before={"name": attachment.name, "sha256": attachment.sha256},
        message=f"deleted the file “{attachment.name}”",
    )
    key = attachment.storage_key
    transaction.on_commit(lambda: files.storage().delete(key))
    return attachment


@transaction.atomic
def watch_set(*, initiative: Initiative, user, watching: bool) -> Watch:
    """Watch an initiative, or stop watching it (also the automatic watching)."""
    watch, _ = Watch.objects.update_or_create(
        initiative=initiative,
        user=user,
        defaults={"watching": watching, "updated_at": timezone.now()},
    )
    return watch
