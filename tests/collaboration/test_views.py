"""The discussion, file and live-page views: access, headers, fragments and query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collaboration.models import Attachment, Comment
from collaboration.services import attachment_upload, comment_create
from tests.collaboration.conftest import HTML, PDF, SVG, upload
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


def detail(initiative) -> str:
    return reverse("initiatives:detail", args=[initiative.key])


def evidence(initiative, gate, member, name="eval-report.pdf", content=PDF) -> Attachment:
    return attachment_upload(
        initiative=initiative,
        actor=member,
        uploaded_file=upload(name, content),
        item=gate.items.order_by("order").first(),
    )


def test_posting_a_comment_without_javascript_lands_on_it(client, initiative, member):
    client.force_login(member)
    response = client.post(
        reverse("collaboration:comment-add", args=[initiative.key]), {"body": "**Shipped** it"}
    )
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{detail(initiative)}#comment-{comment.pk}"
    page = client.get(detail(initiative)).content.decode()
    assert "<strong>Shipped</strong> it" in page


def test_posting_with_htmx_returns_the_discussion_fragment(client, initiative, member):
    client.force_login(member)
    response = client.post(
        reverse("collaboration:comment-add", args=[initiative.key]),
        {"body": "Hello"},
        HTTP_HX_REQUEST="true",
    )
    content = response.content.decode()
    assert 'id="discussion"' in content and "<html" not in content and "Hello" in content


def test_a_refused_mention_is_shown_next_to_the_text(client, initiative, member, outsider):
    client.force_login(member)
    response = client.post(
        reverse("collaboration:comment-add", args=[initiative.key]),
        {"body": f"@{outsider.username} see this"},
        HTTP_HX_REQUEST="true",
    )
    content = response.content.decode()
    assert "cannot see" in content and "see this" in content  # the text is kept
    assert not Comment.objects.exists()


def test_viewers_read_the_discussion_but_get_no_form(client, initiative, member, viewer):
    comment_create(initiative=initiative, actor=member, body="Visible to readers")
    client.force_login(viewer)
    content = client.get(detail(initiative)).content.decode()
    assert "Visible to readers" in content and 'id="comment-form"' not in content
    response = client.post(
        reverse("collaboration:comment-add", args=[initiative.key]), {"body": "Nope"}
    )
    assert response.status_code == 403


def test_a_download_is_an_attachment_with_nosniff(client, initiative, gate, member, viewer):
    attachment = evidence(initiative, gate, member)
    client.force_login(viewer)
    response = client.get(reverse("collaboration:file", args=[attachment.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="eval-report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize(("name", "content"), [("page.html", HTML), ("logo.svg", SVG)])
def test_uploaded_html_and_svg_download_as_bytes(client, initiative, gate, member, name, content):
    attachment = evidence(initiative, gate, member, name=name, content=content)
    client.force_login(member)
    response = client.get(reverse("collaboration:file", args=[attachment.pk]))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_outsiders_get_404_for_a_file(client, initiative, gate, member, outsider, other_pm):
    attachment = evidence(initiative, gate, member)
    for person in (outsider, other_pm):
        client.force_login(person)
        assert client.get(reverse("collaboration:file", args=[attachment.pk])).status_code == 404


def test_a_file_named_with_markup_is_shown_escaped(client, initiative, gate, member):
    evidence(initiative, gate, member, name='"><img src=x onerror=alert(1)>.pdf')
    client.force_login(member)
    content = client.get(detail(initiative)).content.decode()
    assert "__img src_x onerror_alert(1)_.pdf" in content
    assert "<img" not in content


def test_uploading_evidence_on_the_page_form(client, initiative, gate, member):
    item = gate.items.order_by("order").first()
    client.force_login(member)
    response = client.post(
        reverse("collaboration:item-file-add", args=[item.pk]), {"file": upload()}
    )
    assert response.status_code == 302 and response["Location"].endswith(f"#item-{item.pk}")
    page = client.get(detail(initiative)).content.decode()
    assert "eval-report.pdf" in page and "attached to" in page


def test_an_upload_over_the_limit_says_so(client, initiative, gate, member, settings):
    settings.TOLLGATE_UPLOAD_MAX_MB = 1
    item = gate.items.order_by("order").first()
    client.force_login(member)
    big = upload("big.pdf", PDF + b"0" * (2 * 1024 * 1024))
    response = client.post(
        reverse("collaboration:item-file-add", args=[item.pk]), {"file": big}, follow=True
    )
    assert "Files may be at most 1 MB." in response.content.decode()
    assert not Attachment.objects.exists()


def test_mention_suggestions_offer_readers_by_name(client, initiative, member, owner, outsider):
    client.force_login(member)
    url = reverse("collaboration:mention-suggestions", args=[initiative.key])
    content = client.get(url, {"body": "Thanks @p"}, HTTP_HX_REQUEST="true").content.decode()
    assert f'data-mention="{owner.username}"' in content and owner.get_full_name() in content
    everyone = client.get(url, {"body": "hi @"}, HTTP_HX_REQUEST="true").content.decode()
    assert outsider.username not in everyone
    assert client.get(url, {"body": "no mention"}).content.decode().strip() == ""


def test_the_live_poll_is_empty_until_something_moves(client, initiative, gate, member, owner):
    client.force_login(owner)
    page = client.get(detail(initiative))
    stamp, version = page.context["stamp"], page.context["version"]
    live = reverse("collaboration:live", args=[initiative.key])
    assert client.get(live, {"stamp": stamp, "version": version}).status_code == 204
    comment_create(initiative=initiative, actor=member, body="New from a colleague")
    response = client.get(live, {"stamp": stamp, "version": version}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert response.status_code == 200 and "New from a colleague" in content
    assert 'hx-swap-oob="true"' in content and response["HX-Trigger"] == "timeline-changed"
    from gates.services import checklist_item_update

    checklist_item_update(item=gate.items.first(), actor=member, state="done")
    stamp = response.context["stamp"]
    response = client.get(live, {"stamp": stamp, "version": version}, HTTP_HX_REQUEST="true")
    assert response["HX-Trigger"] == "initiative-changed"
    assert 'hx-swap-oob="true"' not in response.content.decode()


def test_watch_and_unwatch(client, initiative, team_member):
    client.force_login(team_member)
    url = reverse("collaboration:watch", args=[initiative.key])
    assert "Watch</button>" in client.get(detail(initiative)).content.decode()
    client.post(url, {"watching": "1"})
    assert "Watching · stop" in client.get(detail(initiative)).content.decode()


def _count(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def test_initiative_page_and_board_queries_do_not_grow_with_comments_and_files(
    client, initiative, gate, member, owner, executive
):
    client.force_login(owner)
    page, board = detail(initiative), reverse("initiatives:list")
    others = [
        InitiativeFactory(team=initiative.team, owner=owner, sponsor=executive) for _ in range(3)
    ]
    before = (_count(client, page), _count(client, board))
    items = list(gate.items.order_by("order"))
    for number in range(50):
        comment = comment_create(
            initiative=initiative,
            actor=member,
            body=f"Note {number} for @{owner.username}",
            item=items[number % len(items)],
            reply_to=Comment.objects.filter(initiative=initiative).order_by("-pk").first(),
        )
        attachment_upload(
            initiative=initiative,
            actor=member,
            uploaded_file=upload(f"run-{number}.pdf", PDF + b"%% run %d" % number),
            item=items[number % len(items)],
        )
        if number % 10 == 0:
            attachment_upload(
                initiative=initiative, actor=member, uploaded_file=upload(), comment=comment
            )
        comment_create(initiative=others[number % 3], actor=owner, body="Elsewhere")
    after = (_count(client, page), _count(client, board))
    assert before == after
    content = client.get(page).content.decode()
    assert "run-49.pdf" in content and "Note 49" in content


def test_the_timeline_tells_comments_ticks_decisions_and_uploads_in_words(
    client, initiative, gate, member, owner, executive
):
    from gates.services import checklist_item_update, gate_request_review, gate_vote

    item = gate.items.order_by("order").first()
    checklist_item_update(item=item, actor=member, state="done")
    attachment_upload(initiative=initiative, actor=member, uploaded_file=upload(), item=item)
    comment_create(initiative=initiative, actor=owner, body="Ready for the gate", item=item)
    gate_request_review(gate=gate, actor=owner)
    gate_vote(gate=gate, actor=executive, decision="recycle", rationale="Two more weeks")
    client.force_login(owner)
    lines = [
        " ".join(line.split())
        for line in client.get(reverse("initiatives:activity", args=[initiative.key]))
        .content.decode()
        .split('<p class="timeline__what">')[1:]
    ]
    text = "\n".join(lines)
    order = [
        f"ticked “{item.text}” done",
        "attached “eval-report.pdf” (193 bytes) to item",
        f"commented on item “{item.text}”: “Ready for the gate”",
        "asked for a review of the exit gate of Proof of concept",
        "decided Recycle on the exit gate of Proof of concept: “Two more weeks”",
    ]
    # The only vote decided the gate: the timeline shows the decision once.
    assert "voted recycle" not in text
    positions = [text.find(phrase) for phrase in order]
    assert all(position >= 0 for position in positions), (positions, text)
    # Newest first.
    assert positions == sorted(positions, reverse=True)


def test_an_edited_comment_is_not_quoted_by_its_old_words(client, initiative, owner):
    """The timeline line of a comment edited since quotes neither the old text nor a stale
    one: it says the comment was edited; the comment itself shows the current text."""
    from collaboration.services import comment_edit

    comment = comment_create(initiative=initiative, actor=owner, body="Budget is 10k")
    comment_edit(comment=comment, actor=owner, body="Budget is 12k after review")
    client.force_login(owner)
    for url in (detail(initiative), reverse("initiatives:activity", args=[initiative.key])):
        content = client.get(url).content.decode()
        assert "“Budget is 10k”" not in content, url  # (the revision history keeps it)
        assert "commented on the initiative (since edited)" in content
        assert "edited a comment on the initiative" in content
    assert "Budget is 12k after review" in client.get(detail(initiative)).content.decode()


def test_a_deleted_comment_leaves_the_timeline_with_its_words(client, initiative, owner):
    """The text leaves the page: the timeline still says a comment was written, not what."""
    from collaboration.services import comment_delete

    kept = comment_create(initiative=initiative, actor=owner, body="Kept: “the plan”")
    gone = comment_create(initiative=initiative, actor=owner, body="The password is hunter2")
    comment_delete(comment=gone, actor=owner)
    client.force_login(owner)
    for url in (detail(initiative), reverse("initiatives:activity", args=[initiative.key])):
        content = client.get(url).content.decode()
        assert "hunter2" not in content
        assert "commented on the initiative (since deleted)" in content
        assert "deleted a comment on the initiative" in content
        assert "commented on the initiative: “Kept: “the plan””" in content
    assert kept.body_html in client.get(detail(initiative)).content.decode()


def test_a_poll_after_the_session_expired_takes_the_page_to_sign_in(client, initiative):
    live = reverse("collaboration:live", args=[initiative.key])
    page = f"http://testserver{detail(initiative)}"
    response = client.get(live, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=page)
    assert response["HX-Redirect"] == f"/accounts/login/?next=%2Finitiatives%2F{initiative.key}%2F"
    assert response.content == b""
    # Without htmx it is the usual redirect to the sign-in page.
    assert client.get(live).status_code == 302


@pytest.mark.parametrize("junk", ["", "yes", "2", None])
def test_a_watch_toggle_with_a_junk_choice_is_refused_and_changes_nothing(
    client, initiative, team_member, junk
):
    client.force_login(team_member)
    url = reverse("collaboration:watch", args=[initiative.key])
    client.post(url, {"watching": "1"})
    data = {} if junk is None else {"watching": junk}

    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.post(url, data, **headers)
        assert response.status_code == 400
        assert "nothing was changed" in response.content.decode()
    assert "Watching · stop" in client.get(detail(initiative)).content.decode()


def test_a_reply_posted_drops_reply_to_from_the_address(client, initiative, member):
    client.force_login(member)
    first = comment_create(initiative=initiative, actor=member, body="Is the eval done?")
    discussion = reverse("collaboration:discussion", args=[initiative.key])
    response = client.post(
        reverse("collaboration:comment-add", args=[initiative.key]),
        {"body": "Yes.", "reply_to": first.pk},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{discussion}?reply_to={first.pk}&item=",
    )
    assert response.status_code == 200
    assert response["HX-Replace-Url"] == f"{discussion}?item="
    # Posted from an address without it, the address is left alone.
    response = client.post(
        reverse("collaboration:comment-add", args=[initiative.key]),
        {"body": "Thanks."},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{discussion}",
    )
    assert "HX-Replace-Url" not in response


def test_a_comment_edited_in_two_tabs_keeps_the_newer_text(client, initiative, owner):
    """Two edit forms opened on the same text: the second save does not overwrite the first;
    it shows the current text and says why, and a form without its stamp saves nothing."""
    from collaboration.models import Comment

    comment = comment_create(initiative=initiative, actor=owner, body="Budget is 10k")
    client.force_login(owner)
    url = reverse("collaboration:comment-edit", args=[comment.pk])
    first = client.get(url).context["form"]
    second = client.get(url).context["form"]
    written = first["written"].value()
    assert written == second["written"].value()

    saved = client.post(url, {"body": "Budget is 12k", "written": written})
    assert saved.status_code == 302
    stale = client.post(url, {"body": "Budget is 9k", "written": written})
    assert stale.status_code == 400
    assert "changed since you opened it" in stale.content.decode()
    assert stale.context["form"]["body"].value() == "Budget is 12k"
    assert Comment.objects.get(pk=comment.pk).body == "Budget is 12k"

    unstamped = client.post(url, {"body": "Budget is 8k"})
    assert unstamped.status_code == 200 and unstamped.context["form"].errors["written"]
    assert Comment.objects.get(pk=comment.pk).body == "Budget is 12k"

    again = client.post(
        url, {"body": "Budget is 9k", "written": stale.context["form"]["written"].value()}
    )
    assert again.status_code == 302
    assert Comment.objects.get(pk=comment.pk).body == "Budget is 9k"
