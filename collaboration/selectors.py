"""Reads of comments, files and watchers, shaped for the pages, the API and the notices."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q

from collaboration.models import Attachment, Comment, CommentRevision, Watch
from gates.models import Gatekeeper
from initiatives.models import Initiative
from initiatives.policy import Action as PolicyAction
from initiatives.policy import can, initiative_readers

User = get_user_model()


def mention_candidates(initiative: Initiative, query: str, limit: int = 8) -> list:
    """Readers whose name or username starts with `query`, names first."""
    query = query.strip()
    people = initiative_readers(initiative)
    if query:
        people = people.filter(
            Q(username__istartswith=query)
            | Q(first_name__istartswith=query)
            | Q(last_name__istartswith=query)
        )
    return list(people.order_by("first_name", "last_name", "username", "pk")[:limit])


def automatic_watcher_ids(initiative: Initiative, gate=None) -> set[int]:
    """Owner, sponsor, members and the gatekeepers of the gate in play.

    With the page's `gate` (and prefetched memberships) nothing more is queried.
    """
    ids = {initiative.owner_id, initiative.sponsor_id}
    ids |= {membership.user_id for membership in initiative.memberships.all()}
    if gate is not None:
        if gate.is_pending:
            ids |= {keeper.user_id for keeper in gate.gatekeepers.all()}
        return ids
    ids |= set(
        Gatekeeper.objects.filter(
            gate__initiative=initiative, gate__state__in=["open", "in_review"]
        ).values_list("user_id", flat=True)
    )
    return ids


def watcher_ids(initiative: Initiative) -> set[int]:
    """Everybody watching: the automatic watchers and those who chose to, less who opted out."""
    choices = dict(Watch.objects.filter(initiative=initiative).values_list("user_id", "watching"))
    ids = automatic_watcher_ids(initiative) | {pk for pk, watching in choices.items() if watching}
    return {pk for pk in ids if choices.get(pk, True)}


def watchers(initiative: Initiative) -> list:
    """The watchers who are active and may still read the initiative."""
    people = User.objects.filter(pk__in=watcher_ids(initiative), is_active=True).order_by("pk")
    return [person for person in people if can(person, PolicyAction.VIEW, initiative)]


def is_watching(user, initiative: Initiative, gate=None) -> bool:
    choice = Watch.objects.filter(initiative=initiative, user=user).values_list(
        "watching", flat=True
    )
    explicit = choice.first()
    if explicit is not None:
        return explicit
    return user.pk in automatic_watcher_ids(initiative, gate)


def comments_for(initiative: Initiative, *, item_id: int | None = None) -> list[Comment]:
    """The initiative's discussion (or one item's), oldest first, with each comment's files
    and earlier texts: three queries however many comments there are, none of them skipped
    when there are no comments, so a page costs the same with 0 or 50."""
    comments = Comment.objects.filter(initiative=initiative)
    if item_id is not None:
        comments = comments.filter(item_id=item_id)
    comments = list(comments.for_display())
    scope = {"comment__initiative": initiative}
    if item_id is not None:
        scope["comment__item_id"] = item_id
    files: dict[int, list[Attachment]] = {}
    for attachment in (
        Attachment.objects.live().filter(**scope).select_related("uploaded_by").order_by("pk")
    ):
        files.setdefault(attachment.comment_id, []).append(attachment)
    revisions: dict[int, list[CommentRevision]] = {}
    for revision in CommentRevision.objects.filter(**scope).order_by("replaced_at", "pk"):
        revisions.setdefault(revision.comment_id, []).append(revision)
    for comment in comments:
        comment.files = files.get(comment.pk, [])
        comment.earlier_texts = revisions.get(comment.pk, [])
    return comments


def _stamp(count: int, latest) -> str:
    return f"{count}-{latest.timestamp() if latest else 0:.6f}"


def discussion_stamp(initiative: Initiative, comments: list[Comment] | None = None) -> str:
    """Changes whenever a comment is written, edited or deleted: the live page compares it.

    Pass the initiative's whole discussion when it is loaded already, to save the query.
    """
    if comments is not None:
        return _stamp(len(comments), max((c.updated_at for c in comments), default=None))
    summary = Comment.objects.filter(initiative=initiative).aggregate(
        count=Count("pk"), latest=Max("updated_at")
    )
    return _stamp(summary["count"], summary["latest"])


def mark_deletable(user, initiative: Initiative, attachments: Iterable[Attachment]) -> None:
    """Set `may_delete` on each file, asking the policy with the page's initiative."""
    for attachment in attachments:
        attachment.initiative = initiative
        attachment.may_delete = attachment.relied_on_at is None and can(
            user, PolicyAction.DELETE_ATTACHMENT, attachment
        )


def attach_item_collaboration(items: Iterable) -> None:
    """Give each checklist item `comment_count` and `files` in two queries for all of them."""
    items = [item for item in items if not hasattr(item, "comment_count")]
    if not items:
        return
    ids = [item.pk for item in items]
    counts = dict(
        Comment.objects.filter(item_id__in=ids, deleted_at__isnull=True)
        .values_list("item_id")
        .annotate(total=Count("pk"))
        .values_list("item_id", "total")
    )
    files: dict[int, list[Attachment]] = {pk: [] for pk in ids}
    for attachment in (
        Attachment.objects.live()
        .filter(item_id__in=ids)
        .select_related("uploaded_by")
        .order_by("created_at", "pk")
    ):
        files[attachment.item_id].append(attachment)
    for item in items:
        item.comment_count = counts.get(item.pk, 0)
        item.files = files[item.pk]


def attach_comment_counts(initiatives: Iterable) -> None:
    """Give each board card `comment_count` in one query for the whole board."""
    cards = [card for card in initiatives if not hasattr(card, "comment_count")]
    if not cards:
        return
    counts = dict(
        Comment.objects.filter(initiative_id__in=[card.pk for card in cards], deleted_at=None)
        .values_list("initiative_id")
        .annotate(total=Count("pk"))
        .values_list("initiative_id", "total")
    )
    for card in cards:
        card.comment_count = counts.get(card.pk, 0)
