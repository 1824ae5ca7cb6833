"""The discussion and file evidence in a real browser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from collaboration.models import Attachment, Comment, Mention
from collaboration.services import attachment_upload
from gates.services import checklist_item_update
from tests.collaboration.conftest import HTML, PDF, upload
from tests.factories import DEFAULT_PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Where the screenshots these tests take are left for people to look at.
SHOTS = Path("/tmp/tollgate-screens")


@pytest.fixture
def fast_poll(settings):
    settings.TOLLGATE_LIVE_POLL_SECONDS = 1


def test_comment_with_markdown_and_a_mention_chosen_from_the_suggestions(
    open_page, expect, live_server, initiative, owner, member
):
    member.first_name, member.last_name = "Priya", "Raman"
    member.save(update_fields=["first_name", "last_name"])
    page, console = open_page(owner.username, DEFAULT_PASSWORD)
    page.goto(initiative.get_absolute_url())
    body = page.locator("#id_body")
    body.click()
    body.press_sequentially("**Ready** for review, thanks @Pri", delay=20)
    suggestion = page.locator("#mention-suggestions").get_by_role(
        "button", name="Priya Raman", exact=True
    )
    expect(suggestion).to_be_visible()
    suggestion.click()
    expect(body).to_have_value(re.compile(rf"@{member.username} $"))
    page.get_by_role("button", name="Post comment").click()

    comment_box = page.locator("#comment-list .comment").last
    expect(comment_box.locator("strong", has_text="Ready")).to_be_visible()
    expect(comment_box.locator(".mention")).to_have_text("@Priya Raman")
    assert Mention.objects.get().user == member
    SHOTS.mkdir(exist_ok=True)
    page.locator("#discussion").screenshot(path=str(SHOTS / "discussion.png"))
    assert console.csp_violations() == [] and console.errors() == [], console


def test_mention_suggestions_follow_the_caret_anywhere_in_the_text(
    open_page, expect, live_server, initiative, owner, member
):
    """An @ typed in the middle of a comment is suggested for, and choosing a person puts
    the mention there, keeping the text after it."""
    member.first_name, member.last_name = "Priya", "Raman"
    member.save(update_fields=["first_name", "last_name"])
    page, console = open_page(owner.username, DEFAULT_PASSWORD)
    page.goto(initiative.get_absolute_url())
    body = page.locator("#id_body")
    body.fill("Thanks  for the numbers.")
    body.click()
    # The caret after "Thanks ", then an @ typed there: the text goes on after it.
    page.keyboard.press("Home")
    for _ in range(len("Thanks ")):
        page.keyboard.press("ArrowRight")
    page.keyboard.type("@Pri", delay=20)
    expect(body).to_have_value("Thanks @Pri for the numbers.")
    suggestion = page.locator("#mention-suggestions").get_by_role(
        "button", name="Priya Raman", exact=True
    )
    expect(suggestion).to_be_visible()
    suggestion.click()
    expect(body).to_have_value(f"Thanks @{member.username} for the numbers.")
    # Typing goes on where the mention ends.
    page.keyboard.type("all ")
    expect(body).to_have_value(f"Thanks @{member.username} all for the numbers.")
    assert console.csp_violations() == [] and console.errors() == [], console


def test_evidence_pdf_is_uploaded_and_downloaded(
    open_page, expect, live_server, initiative, member, tmp_path
):
    item = initiative.gates.get().items.get(order=1)
    pdf = tmp_path / "accuracy-eval.pdf"
    pdf.write_bytes(PDF)
    page, console = open_page(member.username, DEFAULT_PASSWORD)
    page.goto(initiative.get_absolute_url())
    page.locator(f"#evidence-file-{item.pk}").set_input_files(str(pdf))
    page.locator(f"#item-{item.pk} .item-evidence__upload button").click()
    link = page.locator(f"#item-{item.pk} .file__name")
    expect(link).to_have_text("accuracy-eval.pdf")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "accuracy-eval.pdf"
    assert Path(download.path()).read_bytes() == PDF
    SHOTS.mkdir(exist_ok=True)
    page.locator(f"#item-{item.pk}").screenshot(path=str(SHOTS / "evidence.png"))
    assert console.csp_violations() == [], console


def test_an_outsider_gets_404_for_a_file(open_page, live_server, initiative, member, outsider):
    attachment = attachment_upload(
        initiative=initiative,
        actor=member,
        uploaded_file=upload(),
        item=initiative.gates.get().items.first(),
    )
    page, _ = open_page(outsider.username, DEFAULT_PASSWORD)
    response = page.request.get(reverse("collaboration:file", args=[attachment.pk]))
    assert response.status == 404


def test_an_uploaded_html_file_downloads_instead_of_rendering(
    open_page, expect, live_server, initiative, member
):
    comment_file = attachment_upload(
        initiative=initiative,
        actor=member,
        uploaded_file=upload("release-notes.html", HTML),
        item=initiative.gates.get().items.first(),
    )
    page, _console = open_page(member.username, DEFAULT_PASSWORD)
    page.goto(initiative.get_absolute_url())
    title = page.title()
    link = page.locator(f'a[href="{reverse("collaboration:file", args=[comment_file.pk])}"]')
    with page.expect_download() as download_info:
        link.click()
    assert Path(download_info.value.path()).read_bytes() == HTML
    # Still on the initiative page: the file's script never ran in Tollgate's origin.
    assert page.title() == title and page.title() != "owned"
    assert page.url.endswith(initiative.get_absolute_url())


def test_a_second_browser_sees_a_new_comment_without_reloading(
    open_page, expect, live_server, initiative, owner, executive, fast_poll
):
    reader, reader_console = open_page(executive.username, DEFAULT_PASSWORD)
    reader.goto(initiative.get_absolute_url())
    reader.evaluate("() => { window.tollgateMarker = 'no reload'; }")

    writer, _ = open_page(owner.username, DEFAULT_PASSWORD)
    writer.goto(initiative.get_absolute_url())
    writer.fill("#id_body", "Latency p95 is down to 420 ms")
    writer.get_by_role("button", name="Post comment").click()
    expect(writer.locator("#comment-list")).to_contain_text("420 ms")

    expect(reader.locator("#comment-list")).to_contain_text("420 ms", timeout=10_000)
    assert reader.evaluate("() => window.tollgateMarker") == "no reload"

    # A tick by somebody else: the reader's gate section and timeline fetch themselves again.
    first = initiative.gates.get().items.order_by("order").first()
    checklist_item_update(item=first, actor=owner, state="done")
    expect(reader.locator(f"#item-{first.pk}")).to_have_class(
        re.compile("checklist__item--done"), timeout=10_000
    )
    expect(reader.locator("#readiness")).to_contain_text("1 of 6")
    expect(reader.locator("#timeline")).to_contain_text(f"ticked “{first.text}” done")
    assert reader.evaluate("() => window.tollgateMarker") == "no reload"
    assert Comment.objects.count() == 1 and not Attachment.objects.exists()
    assert reader_console.csp_violations() == [], reader_console
