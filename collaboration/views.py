"""Pages and fragments of the discussion, file evidence and watching.

Every view reaches the initiative through `get_initiative_for_user` or the
policy, so outsiders get 404 and readers who may not write get 403.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collaboration import files, selectors
from collaboration.forms import CommentEditForm, CommentForm, UploadForm, WatchForm
from collaboration.markdown import MENTION
from collaboration.models import Attachment, Comment
from collaboration.services import (
    attachment_delete,
    attachment_upload,
    comment_create,
    comment_delete,
    comment_edit,
    comment_editable_until,
    comment_written,
    display_name,
    watch_set,
)
from core.htmx import (
    apply_service_errors,
    is_partial_request,
    render_page_or_partial,
    vary_on_htmx,
)
from gates.models import ChecklistItem, Gate
from initiatives.exceptions import InvalidState, StaleEdit
from initiatives.policy import Action, can, get_for_user
from initiatives.selectors import initiatives_for_page

TEMPLATE = "collaboration/discussion.html"


def get_initiative_for_user(user, key: str, action: Action | None = None):
    """The initiative of a discussion URL: 404 for outsiders, 403 for readers who try `action`."""
    initiative, _access = get_for_user(user, initiatives_for_page(), action=action, key=key)
    return initiative


# Mentions are looked up for the @word being typed at the end of the text.
TRAILING_MENTION = MENTION.pattern + r"$|(?<![\w@/])@$"


def _about_choices(gate: Gate | None, items=None) -> list[tuple[str, str]]:
    if gate is None:
        return []
    items = gate.items.all() if items is None else items
    choices = [(f"gate:{gate.pk}", f"The exit gate of {gate.stage.name}")]
    choices += [(f"item:{item.pk}", f"Item: {item.text}") for item in items]
    return choices


def _current_gate(initiative) -> Gate | None:
    gate = (
        Gate.objects.filter(initiative=initiative, stage_id=initiative.stage_id)
        .select_related("stage")
        .prefetch_related("items")
        .first()
    )
    return gate


def discussion_context(request, initiative, *, item_id=None, form=None, **extra) -> dict:
    """What the discussion panel shows; the initiative page and the fragments share it."""
    user = request.user
    # The initiative page hands over its gate and items; fragments fetch them.
    page_gate = extra.pop("gate", None)
    items = extra.pop("items", None)
    gate = page_gate or _current_gate(initiative)
    may_comment = can(user, Action.COMMENT, initiative)
    replying_to = extra.pop("replying_to", None)
    if form is None and may_comment:
        initial = {"about": f"item:{item_id}"} if item_id else {}
        if replying_to is not None:
            initial["reply_to"] = replying_to.pk
            if replying_to.item_id:
                initial["about"] = f"item:{replying_to.item_id}"
            elif replying_to.gate_id:
                initial["about"] = f"gate:{replying_to.gate_id}"
        form = CommentForm(initial=initial, about_choices=_about_choices(gate, items))
    comments = selectors.comments_for(initiative, item_id=item_id)
    selectors.mark_deletable(user, initiative, [f for c in comments for f in c.files])
    now = timezone.now()
    for comment in comments:
        comment.initiative = initiative  # the page's copy, with what the policy prefetched
        comment.may_edit = (
            not comment.is_deleted
            and comment.author_id == user.pk
            and now <= comment_editable_until(comment)
        )
        comment.may_delete = not comment.is_deleted and can(user, Action.DELETE_COMMENT, comment)
    return {
        "initiative": initiative,
        "comments": comments,
        "comment_form": form if may_comment else None,
        "replying_to": replying_to,
        "item_id": item_id,
        "watching": selectors.is_watching(user, initiative, page_gate),
        "stamp": selectors.discussion_stamp(initiative, None if item_id else comments),
        "version": initiative.version,
        "poll_seconds": settings.TOLLGATE_LIVE_POLL_SECONDS,
        "upload_limit_mb": settings.TOLLGATE_UPLOAD_MAX_MB,
        **extra,
    }


def render_discussion_panel(request, initiative, *, gate=None, items=None) -> str:
    """The panel as HTML, for the initiative page's template tag."""
    context = discussion_context(request, initiative, gate=gate, items=items)
    return render_to_string(f"{TEMPLATE}#discussion", context, request=request)


@login_required
@require_GET
def discussion(request, key):
    """The discussion of an initiative, or of one item with ?item=<id>."""
    initiative = get_initiative_for_user(request.user, key)
    item_id = request.GET.get("item")
    item = None
    if item_id:
        item = (
            ChecklistItem.objects.filter(pk=item_id if item_id.isdigit() else 0)
            .filter(gate__initiative=initiative)
            .select_related("gate__stage")
            .first()
        )
        if item is None:
            raise Http404("No such item.")
    reply_to = request.GET.get("reply_to", "")
    replying_to = None
    if reply_to.isdigit():
        replying_to = (
            Comment.objects.filter(pk=reply_to, initiative=initiative, deleted_at=None)
            .select_related("author")
            .first()
        )
    context = discussion_context(
        request, initiative, item_id=item and item.pk, item=item, replying_to=replying_to
    )
    return render_page_or_partial(request, TEMPLATE, "discussion", context)


def _about(initiative, value: str) -> dict:
    """The gate or item a comment form's "about" names, checked against the initiative."""
    kind, _, pk = (value or "").partition(":")
    if not value:
        return {}
    if kind == "gate" and pk.isdigit():
        gate = Gate.objects.filter(pk=pk, initiative=initiative).first()
        if gate is not None:
            return {"gate": gate}
    if kind == "item" and pk.isdigit():
        item = (
            ChecklistItem.objects.filter(pk=pk, gate__initiative=initiative)
            .select_related("gate")
            .first()
        )
        if item is not None:
            return {"item": item}
    raise ValidationError({"about": "Choose what the comment is about from the list."})


@login_required
@require_POST
def comment_post(request, key):
    initiative = get_initiative_for_user(request.user, key, Action.COMMENT)
    gate = _current_gate(initiative)
    item_id = request.GET.get("item")
    item_id = int(item_id) if item_id and item_id.isdigit() else None
    if files.declared_too_large(request):
        form = CommentForm(request.POST, about_choices=_about_choices(gate))
        form.is_valid()
        form.add_error("file", files.too_large_message())
    else:
        form = CommentForm(request.POST, request.FILES, about_choices=_about_choices(gate))
    if form.is_valid():
        data = form.cleaned_data
        try:
            about = _about(initiative, data["about"])
            reply_to = None
            if data["reply_to"]:
                reply_to = Comment.objects.filter(
                    pk=data["reply_to"], initiative=initiative
                ).first()
                if reply_to is None:
                    raise ValidationError({"reply_to": "That comment is not here any more."})
            comment = comment_create(
                initiative=initiative,
                actor=request.user,
                body=data["body"],
                reply_to=reply_to,
                uploaded_file=data["file"],
                **about,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        except InvalidState as error:
            form.add_error(None, error.message)
        else:
            if not is_partial_request(request):
                messages.success(request, "Comment posted.")
                return vary_on_htmx(
                    redirect(f"{initiative.get_absolute_url()}#comment-{comment.pk}")
                )
            context = discussion_context(request, initiative, item_id=item_id, gate=gate)
            response = vary_on_htmx(render(request, f"{TEMPLATE}#discussion", context))
            return _without_reply_to(request, response)
    context = discussion_context(request, initiative, item_id=item_id, form=form, gate=gate)
    status = 200 if is_partial_request(request) else 400
    return render_page_or_partial(request, TEMPLATE, "discussion", context, status=status)


def _without_reply_to(request, response):
    """The reply is posted: the address bar forgets ?reply_to, so a reload or a link copied
    from it does not open the form replying again."""
    current = request.htmx.current_url_abs_path if request.htmx else None
    if current:
        parts = urlsplit(current)
        query = parse_qsl(parts.query, keep_blank_values=True)
        kept = [(k, v) for k, v in query if k != "reply_to"]
        if len(kept) != len(query):
            response["HX-Replace-Url"] = urlunsplit(parts._replace(query=urlencode(kept)))
    return response


def _get_comment(user, pk: int) -> Comment:
    comment = Comment.objects.select_related("initiative", "author").filter(pk=pk).first()
    if comment is None or not can(user, Action.VIEW, comment.initiative):
        raise Http404("No such comment.")
    return comment


@login_required
@require_http_methods(["GET", "POST"])
def comment_edit_view(request, pk: int):
    comment = _get_comment(request.user, pk)
    if not can(request.user, Action.EDIT_COMMENT, comment):
        raise PermissionDenied
    form = CommentEditForm(
        request.POST or None, initial={"body": comment.body, "written": comment_written(comment)}
    )
    refused = ""
    if request.method == "POST" and form.is_valid():
        try:
            comment_edit(
                comment=comment,
                actor=request.user,
                body=form.cleaned_data["body"],
                expected_written=form.cleaned_data["written"],
            )
        except StaleEdit as conflict:
            # The text as it is now, with the reason on top.
            current = conflict.current
            form = CommentEditForm(
                initial={"body": current.body, "written": comment_written(current)}
            )
            refused = conflict.message
        except ValidationError as error:
            apply_service_errors(form, error)
        except InvalidState as error:
            refused = error.message
        else:
            messages.success(request, "Comment updated.")
            return redirect(f"{comment.initiative.get_absolute_url()}#comment-{comment.pk}")
    context = {
        "initiative": comment.initiative,
        "comment": comment,
        "form": form,
        "refused": refused,
        "editable_until": comment_editable_until(comment),
    }
    return render(
        request, "collaboration/comment_edit.html", context, status=400 if refused else 200
    )


@login_required
@require_POST
def comment_delete_view(request, pk: int):
    comment = _get_comment(request.user, pk)
    if not can(request.user, Action.DELETE_COMMENT, comment):
        raise PermissionDenied
    comment_delete(comment=comment, actor=request.user)
    if is_partial_request(request):
        context = discussion_context(request, comment.initiative)
        return vary_on_htmx(render(request, f"{TEMPLATE}#discussion", context))
    messages.success(request, "Comment deleted.")
    return vary_on_htmx(redirect(f"{comment.initiative.get_absolute_url()}#discussion"))


@login_required
@require_GET
def mention_suggestions(request, key):
    """People who may read the initiative, for the @word typed at the end of the comment."""
    initiative = get_initiative_for_user(request.user, key)
    text = request.GET.get("body", "")[-200:]
    match = re.search(TRAILING_MENTION, text)
    people = []
    if match is not None:
        people = selectors.mention_candidates(initiative, match.group(1) or "")
    for person in people:
        person.display_name = display_name(person)
    field_id = request.GET.get("field", "id_body")
    context = {"people": people, "field_id": field_id if field_id.isidentifier() else "id_body"}
    return render(request, f"{TEMPLATE}#suggestions", context)


@login_required
@require_GET
def live(request, key):
    """The live page's poll: 204 when nothing moved, else the news.

    A new stamp of the discussion sends the comment list out of band and a
    `timeline-changed` event; a new version of the initiative (ticks, decisions,
    reviews) an `initiative-changed` event. The gate, decisions and timeline
    sections then fetch themselves again.
    """
    initiative = get_initiative_for_user(request.user, key)
    stamp = selectors.discussion_stamp(initiative)
    discussion_moved = request.GET.get("stamp") != stamp
    initiative_moved = request.GET.get("version") != str(initiative.version)
    if not discussion_moved and not initiative_moved:
        return HttpResponse(status=204)
    context = {
        "initiative": initiative,
        "stamp": stamp,
        "version": initiative.version,
        "poll_seconds": settings.TOLLGATE_LIVE_POLL_SECONDS,
        "discussion_moved": discussion_moved,
    }
    if discussion_moved:
        context.update(discussion_context(request, initiative))
    response = render(request, f"{TEMPLATE}#live-response", context)
    # The gate, decisions and timeline fetch themselves again on these events.
    triggers = ["initiative-changed"] if initiative_moved else []
    if discussion_moved:
        triggers.append("timeline-changed")
    if triggers:
        response["HX-Trigger"] = ", ".join(triggers)
    return response


@login_required
@require_POST
def watch_toggle(request, key):
    initiative = get_initiative_for_user(request.user, key)
    form = WatchForm(request.POST)
    if not form.is_valid():
        return vary_on_htmx(
            HttpResponse(
                form.errors["watching"][0], status=400, content_type="text/plain; charset=utf-8"
            )
        )
    watching = form.cleaned_data["watching"]
    watch_set(initiative=initiative, user=request.user, watching=watching)
    if is_partial_request(request):
        context = {"initiative": initiative, "watching": watching}
        return vary_on_htmx(render(request, f"{TEMPLATE}#watch", context))
    messages.success(
        request,
        f"You are watching {initiative.key}."
        if watching
        else f"You no longer watch {initiative.key}.",
    )
    return vary_on_htmx(redirect(f"{initiative.get_absolute_url()}#discussion"))


@login_required
@require_POST
def item_file_upload(request, pk: int):
    """Attach an evidence file to a checklist item."""
    item = ChecklistItem.objects.select_related("gate__initiative").filter(pk=pk).first()
    if item is None or not can(request.user, Action.VIEW, item.gate.initiative):
        raise Http404("No such item.")
    if not can(request.user, Action.EDIT_CHECKLIST, item):
        raise PermissionDenied
    initiative = item.gate.initiative
    back = f"{initiative.get_absolute_url()}#item-{item.pk}"
    if files.declared_too_large(request):
        messages.error(request, files.too_large_message())
        return redirect(back)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("file", ["Choose a file to upload."])))
        return redirect(back)
    try:
        attachment = attachment_upload(
            initiative=initiative,
            actor=request.user,
            uploaded_file=form.cleaned_data["file"],
            item=item,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except InvalidState as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{attachment.name}” attached to “{item.text}”.")
    return redirect(back)


def _get_attachment(user, pk: int) -> Attachment:
    attachment = (
        Attachment.objects.live().select_related("initiative", "item").filter(pk=pk).first()
    )
    if attachment is None or not can(user, Action.VIEW, attachment.initiative):
        raise Http404("No such file.")
    return attachment


@login_required
@require_GET
def file_download(request, pk: int):
    """The file's bytes, always as a download: nothing uploaded runs in Tollgate's origin."""
    attachment = _get_attachment(request.user, pk)
    try:
        handle = files.storage().open(attachment.storage_key, "rb")
    except (FileNotFoundError, OSError) as error:
        raise Http404("The file is missing from storage.") from error
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.name,
        content_type=files.sent_content_type(attachment.content_type),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def file_delete(request, pk: int):
    attachment = _get_attachment(request.user, pk)
    if not can(request.user, Action.DELETE_ATTACHMENT, attachment):
        raise PermissionDenied
    try:
        attachment_delete(attachment=attachment, actor=request.user)
    except InvalidState as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{attachment.name}” deleted.")
    anchor = f"#item-{attachment.item_id}" if attachment.item_id else "#discussion"
    return redirect(f"{attachment.initiative.get_absolute_url()}{anchor}")
