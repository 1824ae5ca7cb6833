"""Screenshots of the demo portfolio for the docs, at 1280x800, with no CSP violations."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from initiatives.models import Initiative, Measurement
from tests.browser.conftest import SCREENSHOTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_board_and_initiative_screenshots(open_page, live_server):
    call_command("seed_demo", password="tollgate-demo-screens", stdout=io.StringIO())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page, console = open_page("exec", "tollgate-demo-screens")
    page.wait_for_selector("#board .board-card")
    page.wait_for_selector("#awaiting-link")
    page.screenshot(path=str(SCREENSHOTS / "board.png"))

    # The active initiative with the richest production bar makes the best picture.
    richest = (
        Measurement.objects.filter(target__initiative__status=Initiative.Status.ACTIVE)
        .values_list("target__initiative__key", flat=True)
        .order_by("target__initiative__key")
        .first()
    )
    page.goto(f"/initiatives/{richest}/")
    page.wait_for_selector("#gate")
    page.screenshot(path=str(SCREENSHOTS / "initiative.png"))

    assert (SCREENSHOTS / "board.png").stat().st_size > 10_000
    assert console.csp_violations() == [], console
    assert console.errors() == [], console
