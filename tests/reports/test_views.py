"""The dashboard page, its HTMX fragments, the CSV exports and the initiative brief."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from initiatives.models import Initiative
from reports.views import initiative_brief
from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "/dashboard/"


def figure(response, name: str) -> str:
    """The text of the element marked data-figure="name"."""
    html = response.content.decode()
    marker = f'data-figure="{name}">'
    start = html.index(marker) + len(marker)
    return html[start : html.index("<", start)].strip()


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# --- Access -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [DASHBOARD, "/dashboard/export/portfolio.csv", "/dashboard/export/gates.csv"],
)
def test_anonymous_is_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_anonymous_brief_is_sent_to_log_in(client, initiative):
    response = client.get(f"/initiatives/{initiative.key}/brief/")
    assert response.status_code == 302


def test_executive_sees_the_whole_portfolio(client, portfolio, executive):
    client.force_login(executive)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert figure(response, "total") == "6"
    assert figure(response, "live") == "2"
    assert figure(response, "overdue") == "2"
    assert figure(response, "stalled") == "2"
    assert figure(response, "targets-met") == "50%"
    assert figure(response, "poc-rate") == "33%"
    assert figure(response, "value") == "$2.9M"


def test_outsider_sees_an_empty_dashboard(client, portfolio, outsider):
    client.force_login(outsider)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert figure(response, "total") == "0"
    assert portfolio.a1.key not in response.content.decode()


def test_a_team_lead_sees_only_the_part_visible_to_them(client, portfolio, other_pm):
    client.force_login(other_pm)
    response = client.get(DASHBOARD)
    html = response.content.decode()
    assert figure(response, "total") == "2"
    assert portfolio.b2.key in html
    assert portfolio.a1.key not in html
    # The team filter offers only teams with initiatives they can see.
    assert "Customer Support AI" not in html


def test_filters_are_plain_get_parameters(client, portfolio, admin_user):
    client.force_login(admin_user)
    response = client.get(DASHBOARD, {"team": "finance-automation", "period": "all"})
    assert figure(response, "total") == "2"
    assert response.context["filters"].team.slug == "finance-automation"
    assert figure(client.get(DASHBOARD, {"period": "90d"}), "total") == "1"
    # Unknown values fall back to the defaults instead of failing.
    assert figure(client.get(DASHBOARD, {"team": "gone", "period": "x"}), "total") == "6"


def test_htmx_filter_request_gets_only_the_dashboard_fragment(client, portfolio, admin_user):
    client.force_login(admin_user)
    response = client.get(DASHBOARD, {"period": "12m"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="dashboard"')
    assert "<html" not in html
    assert figure(response, "total") == "5"
    # The export links carry the filters.
    assert "/dashboard/export/portfolio.csv?framework=ai-maturity&amp;period=12m" in html


def test_htmx_timeline_pager_gets_only_the_timeline(client, portfolio, admin_user):
    client.force_login(admin_user)
    response = client.get(
        DASHBOARD, {"page": "1"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="timeline"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card dashboard__section"')
    assert 'id="timeline"' in html
    assert 'data-figure="total"' not in html
    assert "1–6 of 6" in html


def test_charts_are_accessible_svg_without_inline_styles(client, portfolio, admin_user):
    client.force_login(admin_user)
    html = client.get(DASHBOARD).content.decode()
    # Every chart is a named picture; the timeline, whose rows are links, a named group.
    roles = re.findall(r'<svg class="chart [^"]*"[^>]* role="(\w+)"', html)
    assert len(roles) >= 6 and set(roles) == {"img", "group"}
    assert "<title" in html and "<desc" in html
    assert "style=" not in html
    assert "<style" not in html
    assert 'href="/static/css/print.css" media="print"' in html


def test_dashboard_query_count_does_not_grow_with_the_portfolio(
    client, portfolio, admin_user, team, owner, executive, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    client.get(DASHBOARD)  # sessions, content types and other first-request caches
    cache.clear()  # count the figures computed, not served from the cache
    with CaptureQueriesContext(connection) as small:
        assert client.get(DASHBOARD).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(8):
            InitiativeFactory(name=f"More {number}", team=team, owner=owner, sponsor=executive)
    with CaptureQueriesContext(connection) as large:
        response = client.get(DASHBOARD)
    assert figure(response, "total") == "14"
    assert len(large) == len(small)
    # session, user, roles, filter choices (2), stages, then the figures; the AI Act
    # section's tiers by stage, high-risk classifications, unclassified past the first
    # stage and prohibited ones (tests/compliance counts it with classifications).
    assert len(small) == 20


def test_readers_of_everything_share_cached_figures_until_the_portfolio_changes(
    client, portfolio, admin_user, executive, team, owner, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    first = client.get(DASHBOARD)
    client.force_login(executive)
    with CaptureQueriesContext(connection) as cached:
        again = client.get(DASHBOARD)
    # The executive gets the admin's copy: session, user, roles, filter choices, no figures.
    assert figure(again, "total") == figure(first, "total") == "6"
    assert len(cached) < 10
    stamp = re.compile(r'data-figure="as-of">as of <time datetime="([^"]+)"')
    assert stamp.search(again.content.decode())[1] == stamp.search(first.content.decode())[1]

    # A change committed anywhere (every service writes the activity log) invalidates it.
    with django_capture_on_commit_callbacks(execute=True):
        InitiativeFactory(name="Brand new", team=team, owner=owner, sponsor=executive)
    assert figure(client.get(DASHBOARD), "total") == "7"


def test_readers_of_a_part_of_the_portfolio_get_live_figures(
    client, portfolio, other_pm, team, owner, executive
):
    client.force_login(other_pm)
    before = client.get(DASHBOARD)
    InitiativeFactory(name="Not committed yet", team=portfolio.b1.team, owner=other_pm)
    assert int(figure(client.get(DASHBOARD), "total")) == int(figure(before, "total")) + 1


# --- Exports ----------------------------------------------------------------------------


def test_portfolio_csv_is_streamed_with_one_row_per_initiative(client, portfolio, admin_user):
    client.force_login(admin_user)
    response = client.get("/dashboard/export/portfolio.csv")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == [
        "key",
        "name",
        "team",
        "owner",
        "sponsor",
        "framework",
        "stage",
        "status",
        "days_in_stage",
        "stalled",
        "readiness",
        "gate_due_on",
        "overdue",
        "targets_met",
        "targets_missed",
        "expected_annual_value",
    ]
    by_key = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert len(by_key) == 6
    a2 = by_key[portfolio.a2.key]
    assert a2["stage"] == "Proof of concept"
    assert a2["days_in_stage"] == "133"
    assert (a2["stalled"], a2["overdue"], a2["gate_due_on"]) == ("yes", "yes", "2026-03-30")
    # PoC has 6 required items, none done yet.
    assert a2["readiness"] == "0.00"
    assert a2["expected_annual_value"] == "100000.00"
    a1 = by_key[portfolio.a1.key]
    assert (a1["targets_met"], a1["targets_missed"]) == ("1", "1")
    assert (a1["stalled"], a1["overdue"]) == ("no", "no")
    assert by_key[portfolio.a4.key]["status"] == "stopped"
    assert by_key[portfolio.a3.key]["gate_due_on"] == ""


def test_csv_cells_that_look_like_formulas_are_quoted(client, portfolio, admin_user):
    Initiative.objects.filter(pk=portfolio.a1.pk).update(name='=HYPERLINK("http://x","y")')
    client.force_login(admin_user)
    rows = csv_rows(client.get("/dashboard/export/portfolio.csv"))
    names = {row[0]: row[1] for row in rows[1:]}
    assert names[portfolio.a1.key] == '\'=HYPERLINK("http://x","y")'


def test_portfolio_csv_honours_filters_and_visibility(client, portfolio, admin_user, other_pm):
    client.force_login(admin_user)
    rows = csv_rows(client.get("/dashboard/export/portfolio.csv", {"period": "12m"}))
    assert portfolio.a3.key not in {row[0] for row in rows[1:]}
    assert len(rows) == 1 + 5
    client.force_login(other_pm)
    rows = csv_rows(client.get("/dashboard/export/portfolio.csv"))
    assert sorted(row[0] for row in rows[1:]) == sorted([portfolio.b1.key, portfolio.b2.key])


def test_portfolio_csv_query_count_does_not_grow(client, portfolio, admin_user, team, owner):
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as small:
        csv_rows(client.get("/dashboard/export/portfolio.csv"))
    for number in range(5):
        InitiativeFactory(name=f"More {number}", team=team, owner=owner)
    with CaptureQueriesContext(connection) as large:
        rows = csv_rows(client.get("/dashboard/export/portfolio.csv"))
    assert len(rows) == 1 + 11
    assert len(large) == len(small)


def test_gates_csv_lists_each_gate_with_its_items(client, portfolio, admin_user, other_pm):
    client.force_login(admin_user)
    response = client.get("/dashboard/export/gates.csv", {"team": "finance-automation"})
    assert isinstance(response, StreamingHttpResponse)
    rows = csv_rows(response)
    header, body = rows[0], rows[1:]
    assert header[:4] == ["initiative", "initiative_name", "stage", "gate_state"]
    b1 = [dict(zip(header, row, strict=True)) for row in body if row[0] == portfolio.b1.key]
    # B1: the decided PoC gate (7 items) and the open MVP gate (7 items).
    assert len(b1) == 14
    assert {row["stage"] for row in b1} == {"Proof of concept", "MVP"}
    poc = [row for row in b1 if row["stage"] == "Proof of concept"]
    assert {(row["gate_state"], row["decision"]) for row in poc} == {("decided", "go")}
    assert [row["item_order"] for row in poc] == [str(n) for n in range(1, 8)]
    assert {row[0] for row in body} == {portfolio.b1.key, portfolio.b2.key}
    client.force_login(other_pm)
    assert len(csv_rows(client.get("/dashboard/export/gates.csv"))) == 1 + 28


def test_outsider_exports_only_a_header(client, portfolio, outsider):
    client.force_login(outsider)
    assert len(csv_rows(client.get("/dashboard/export/portfolio.csv"))) == 1
    assert len(csv_rows(client.get("/dashboard/export/gates.csv"))) == 1


# --- The brief --------------------------------------------------------------------------


def test_brief_url_does_not_shadow_the_initiative_pages():
    assert resolve("/initiatives/AI-001/brief/").func is initiative_brief
    assert resolve("/initiatives/AI-001/").view_name == "initiatives:detail"
    assert resolve("/initiatives/AI-001/edit/").view_name == "initiatives:edit"
    assert reverse("initiative-brief", args=["AI-001"]) == "/initiatives/AI-001/brief/"


def test_brief_is_a_printable_page_for_readers(client, portfolio, executive):
    client.force_login(executive)
    response = client.get(f"/initiatives/{portfolio.a1.key}/brief/")
    html = response.content.decode()
    assert response.status_code == 200
    assert portfolio.a1.name in html
    assert 'media="print"' in html
    assert "Production bar" in html
    assert "$500,000 a year" in html
    assert "style=" not in html


def test_brief_is_404_for_outsiders(client, portfolio, outsider, other_pm):
    client.force_login(outsider)
    assert client.get(f"/initiatives/{portfolio.a1.key}/brief/").status_code == 404
    client.force_login(other_pm)
    assert client.get(f"/initiatives/{portfolio.a1.key}/brief/").status_code == 404
    assert client.get(f"/initiatives/{portfolio.b1.key}/brief/").status_code == 200
    assert client.get("/initiatives/AI-999/brief/").status_code == 404


# --- Streaming ----------------------------------------------------------------------------


def _reference_csv(header, rows) -> str:
    """The whole file written in one go: what the export gave before it went in pieces."""
    from reports.views import _cell

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


@pytest.mark.parametrize("kind", ["portfolio", "gates"])
def test_exports_stream_in_pieces_with_the_same_rows(
    client, portfolio, admin_user, monkeypatch, kind
):
    from reports import selectors, views

    # Small pieces, so the handful of rows here spans several of them.
    monkeypatch.setattr(views, "EXPORT_PIECE_BYTES", 200)
    client.force_login(admin_user)
    response = client.get(f"/dashboard/export/{kind}.csv")
    pieces = [piece.decode() for piece in response.streaming_content]

    _, filters = views._filters(type("Request", (), {"GET": {}, "user": admin_user})())
    header = selectors.PORTFOLIO_COLUMNS if kind == "portfolio" else selectors.GATE_COLUMNS
    rows = (selectors.portfolio_rows if kind == "portfolio" else selectors.gate_rows)(
        admin_user, filters
    )
    assert "".join(pieces) == _reference_csv(header, rows)
    assert len(pieces) > 3
    # Each piece ends on a row boundary and stays near the piece size.
    assert all(piece.endswith("\r\n") for piece in pieces)
    assert max(len(piece) for piece in pieces[:-1]) < 200 + 400


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_export_rows_come_from_a_cursor_that_streams(client, portfolio, admin_user, monkeypatch):
    """Outside a transaction Django declares the cursor WITH HOLD, and PostgreSQL then
    computes the whole result before the first row: the export must read inside one."""
    if connection.vendor != "postgresql":
        pytest.skip("server-side cursors are PostgreSQL's")
    from reports import selectors, views

    monkeypatch.setattr(views, "EXPORT_PIECE_BYTES", 1)
    monkeypatch.setattr(selectors, "EXPORT_CHUNK_SIZE", 2)
    client.force_login(admin_user)
    response = client.get("/dashboard/export/gates.csv")
    stream = iter(response.streaming_content)
    next(stream)
    next(stream)  # a row has been read: the cursor is open
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_holdable FROM pg_cursors")
        cursors = cursor.fetchall()
    rest = list(stream)
    assert cursors == [(False,)]
    assert rest


def test_stages_expected_to_last_as_long_as_their_column_allows_draw_on_the_dashboard(
    client, admin_user, initiative
):
    # 32,767 weeks (the column's limit, open to admins) ran the axis out of steps: 500.
    from initiatives.models import Stage

    Stage.objects.update(min_weeks=32767, max_weeks=32767)
    client.force_login(admin_user)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert "Median days in each stage" in response.content.decode()


@pytest.mark.parametrize("longest_days", [0, 1, 27, 29, 5_000, 32_767 * 7, 10**9])
def test_the_stage_duration_axis_has_at_most_seven_ticks_for_any_range(longest_days):
    from reports.charts import stage_durations

    row = {"name": "PoC", "min_days": 0, "max_days": longest_days, "median_days": longest_days}
    svg = stage_durations([row | {"expected": "any", "verdict": "within"}])
    assert 1 <= len(re.findall(r">\d+ d</text>", svg)) <= 7
