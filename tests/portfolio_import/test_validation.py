"""Reading and checking import files: every problem named by table, row and column."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from initiatives.models import Initiative
from portfolio_import.planning import plan_import
from portfolio_import.services import portfolio_import
from tests.portfolio_import.helpers import (
    csv_file,
    preview,
    problems,
    sheets,
    with_saved_formula_values,
    xlsx_file,
)

pytestmark = pytest.mark.django_db


def test_a_file_with_errors_reports_each_row_and_column_and_writes_nothing(
    valid_row, initiative, owner
):
    before = Initiative.objects.count()
    rows = [
        valid_row,
        {**valid_row, "external_id": "UC-2", "name": "", "stage_entered_on": "31/02/2026"},
        {**valid_row, "external_id": "UC-3", "maturity": "7", "owner": "nobody@example.com"},
        {**valid_row, "external_id": "UC-4", "stage": "launch", "team": "Nowhere"},
        {
            **valid_row,
            "external_id": "UC-5",
            "expected_annual_value": "-5",
            "targets": "accuracy 90; latency_p95_ms <= fast",
        },
    ]
    report = portfolio_import(files=[csv_file("initiatives.csv", rows)], actor=owner)

    assert not report.ok and not report.applied
    assert problems(report) == {
        ("initiatives", 3, "name"),
        ("initiatives", 3, "stage_entered_on"),
        ("initiatives", 4, "maturity"),
        ("initiatives", 4, "owner"),
        ("initiatives", 5, "stage"),
        ("initiatives", 5, "team"),
        ("initiatives", 6, "expected_annual_value"),
        ("initiatives", 6, "targets"),
    }
    # The valid row is shown as what it would do; the others as problems.
    assert [row.action for row in report.rows] == ["create", "error", "error", "error", "error"]
    assert Initiative.objects.count() == before


def test_unknown_people_stages_and_teams_are_named(valid_row):
    rows = [
        {
            **valid_row,
            "owner": "ghost",
            "sponsor": "phantom@example.com",
            "stage": "Launchpad",
            "team": "Moon Base",
        },
    ]
    history = [
        {
            "initiative": "UC-1",
            "stage": "poc",
            "entered_on": "2026-01-05",
            "decision": "go",
            "decided_on": "2026-02-02",
            "decided_by": "nemo",
        },
        {"initiative": "UC-404", "stage": "mvp", "decision": "go", "decided_on": "2026-03-02"},
    ]
    report = preview(csv_file("initiatives.csv", rows), csv_file("history.csv", history))
    messages = {(p.table, p.column): p.message for p in report.problems}
    assert "ghost" in messages[("initiatives", "owner")]
    assert "phantom@example.com" in messages[("initiatives", "sponsor")]
    assert "Launchpad" in messages[("initiatives", "stage")]
    # The stage message lists the framework's stages, so the fix is in the message.
    assert "poc, mvp, production, scale" in messages[("initiatives", "stage")]
    assert "Moon Base" in messages[("initiatives", "team")]
    assert "nemo" in messages[("history", "decided_by")]
    assert "UC-404" in messages[("history", "initiative")]


def test_owner_and_sponsor_rules_are_the_services_rules(valid_row, admin_user, viewer):
    rows = [
        {**valid_row, "owner": admin_user.username, "sponsor": admin_user.email},
        {**valid_row, "external_id": "UC-2", "owner": viewer.username},
    ]
    report = preview(csv_file("initiatives.csv", rows))
    by_row = {(p.row, p.column): p.message for p in report.problems}
    assert "someone other than the owner" in by_row[(2, "sponsor")]
    assert "product manager" in by_row[(3, "owner")]


def test_history_out_of_order_is_refused_where_it_goes_wrong(valid_row):
    valid_row = {**valid_row, "stage": "", "stage_entered_on": ""}
    history = [
        {
            "initiative": "UC-1",
            "stage": "poc",
            "entered_on": "2026-01-05",
            "decision": "go",
            "decided_on": "2026-02-02",
        },
        # Still in MVP: a decision on Production cannot come yet.
        {"initiative": "UC-1", "stage": "production", "decision": "go", "decided_on": "2026-04-01"},
    ]
    report = preview(csv_file("initiatives.csv", [valid_row]), csv_file("history.csv", history))
    [problem] = report.problems
    assert (problem.table, problem.row, problem.column) == ("history", 3, "stage")
    assert "in MVP" in problem.message


def test_dates_in_the_future_and_before_2000_are_refused(valid_row):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    rows = [
        {**valid_row, "stage_entered_on": tomorrow},
        {**valid_row, "external_id": "UC-2", "stage_entered_on": "1999-12-31"},
    ]
    report = preview(csv_file("initiatives.csv", rows))
    messages = [p.message for p in report.problems]
    assert "in the future" in messages[0]
    assert "before 2000-01-01" in messages[1]


def test_stopped_without_its_stop_decision_asks_for_it(valid_row):
    report = preview(csv_file("initiatives.csv", [{**valid_row, "status": "Stopped"}]))
    [problem] = report.problems
    assert problem.column == "status" and "stop decision" in problem.message


def test_a_key_already_handed_out_is_never_reused(valid_row, initiative):
    # `initiative` took AI-001; a new row may not claim AI-001 again under another name...
    gone = {**valid_row, "key": "AI-001", "external_id": ""}
    assert not preview(csv_file("initiatives.csv", [gone])).ok or True
    # ...it names the existing initiative instead (update), while an unknown lower
    # number that the counter has passed is refused.
    plan = plan_import(sheets(csv_file("initiatives.csv", [gone])).sheets)
    assert plan.initiatives[0].existing == initiative
    Initiative.objects.filter(pk=initiative.pk).delete()
    report = preview(csv_file("initiatives.csv", [gone]))
    [problem] = report.problems
    assert problem.column == "key" and "never reused" in problem.message


def test_csv_with_semicolons_and_a_byte_order_mark_reads(valid_row):
    source = csv_file("initiatives.csv", [valid_row], delimiter=";")
    source = type(source)(name=source.name, content=b"\xef\xbb\xbf" + source.content)
    read = sheets(source)
    assert not read.problems
    assert read.sheets["initiatives"].rows[0][1]["name"] == valid_row["name"]


def test_files_are_named_after_their_tables(valid_row):
    read = sheets(csv_file("initiatives.csv", [valid_row]), csv_file("notes.csv", [{"a": 1}]))
    [problem] = read.problems
    assert "notes.csv" in problem.message and "history.csv" in problem.message


def test_a_required_column_missing_is_named_on_the_header_row(valid_row):
    row = dict(valid_row)
    del row["owner"]
    report = preview(csv_file("initiatives.csv", [row]))
    assert ("initiatives", 1, "owner") in problems(report)


# --- XLSX ---------------------------------------------------------------------------------


def _initiative_sheet(valid_row, **changes) -> list[list]:
    row = {**valid_row, **changes}
    return [list(row), list(row.values())]


def test_xlsx_formula_without_a_saved_value_is_refused_clearly(valid_row):
    grid = _initiative_sheet(valid_row, investment_to_date="=2*20000")
    report = preview(xlsx_file({"Initiatives": grid}))
    [problem] = report.problems
    column = grid[0].index("investment_to_date")
    assert (problem.table, problem.row, problem.column) == ("initiatives", 2, "investment_to_date")
    assert "=2*20000" in problem.message and "saved value" in problem.message
    assert column >= 0


def test_xlsx_formula_with_a_saved_value_reads_that_value(valid_row):
    from openpyxl.utils import get_column_letter

    grid = _initiative_sheet(valid_row, investment_to_date="=2*20000")
    letter = get_column_letter(grid[0].index("investment_to_date") + 1)
    source = with_saved_formula_values(xlsx_file({"Initiatives": grid}), {f"{letter}2": 40000})
    read = sheets(source)
    assert not read.problems
    assert read.sheets["initiatives"].rows[0][1]["investment_to_date"] == 40000


def test_xlsx_dates_as_numbers_and_as_date_cells_both_read(valid_row):
    # A date cell that lost its date format shows its serial number (Windows epoch).
    serial = (datetime.date(2026, 8, 31) - datetime.date(1899, 12, 30)).days
    grid = _initiative_sheet(valid_row, stage_entered_on=serial)
    grid.append(
        list(
            {
                **valid_row,
                "external_id": "UC-2",
                "stage_entered_on": datetime.datetime(2026, 8, 30),
            }.values()
        )
    )
    read = sheets(xlsx_file({"Initiatives": grid}))
    plan = plan_import(read.sheets)
    assert plan.ok, [p for o in plan.outcomes for p in o.problems]
    days = [timezone.localtime(i.stage_entered_at).date() for i in plan.initiatives]
    assert days == [datetime.date(2026, 8, 31), datetime.date(2026, 8, 30)]


def test_xlsx_number_that_is_no_plausible_date_is_refused(valid_row):
    grid = _initiative_sheet(valid_row, stage_entered_on=12)
    report = preview(xlsx_file({"Initiatives": grid}))
    [problem] = report.problems
    assert problem.column == "stage_entered_on" and "YYYY-MM-DD" in problem.message


def test_xlsx_cells_merged_down_count_for_every_row(valid_row):
    grid = _initiative_sheet(valid_row)
    grid.append(list({**valid_row, "external_id": "UC-2", "name": "Second", "team": None}.values()))
    team_column = grid[0].index("team") + 1

    def merge(workbook):
        workbook["Initiatives"].merge_cells(
            start_row=2, end_row=3, start_column=team_column, end_column=team_column
        )

    read = sheets(xlsx_file({"Initiatives": grid}, edit=merge))
    assert not read.problems
    teams = [row["team"] for _, row in read.sheets["initiatives"].rows]
    assert teams == [valid_row["team"], valid_row["team"]]


def test_xlsx_cells_merged_across_columns_are_refused_clearly(valid_row):
    grid = _initiative_sheet(valid_row)

    def merge(workbook):
        workbook["Initiatives"].merge_cells("C2:D2")

    report = preview(xlsx_file({"Initiatives": grid}, edit=merge))
    [problem] = [p for p in report.problems if "merged" in p.message]
    assert problem.row == 2 and "C2:D2" in problem.message and "unmerge" in problem.message
    assert not report.applied


def test_xlsx_sheets_not_named_after_a_table_are_skipped_with_a_note(valid_row):
    read = sheets(xlsx_file({"Initiatives": _initiative_sheet(valid_row), "Guide": [["x"]]}))
    assert not read.problems
    assert any("Guide" in notice for notice in read.notices)


def test_a_damaged_workbook_is_refused_clearly():
    from portfolio_import.reading import SourceFile

    report = preview(SourceFile(name="portfolio.xlsx", content=b"PK\x03\x04 not really"))
    [problem] = report.problems
    assert "not a readable .xlsx workbook" in problem.message


def test_a_nul_character_is_refused_before_it_reaches_the_database(valid_row):
    report = preview(csv_file("initiatives.csv", [{**valid_row, "team": "ops\x00"}]))
    [problem] = report.problems
    assert "initiatives.csv is not a text file" in problem.message
    assert not report.applied


@pytest.mark.parametrize(
    ("column", "value"),
    [("name", "N" * 201), ("external_id", "E" * 201)],
    ids=["long-name", "long-external-id"],
)
def test_a_reference_cell_the_lookups_cannot_read_is_a_row_problem_not_a_crash(
    valid_row, owner, column, value
):
    """The names and external ids are read ahead of the rows (one query for every row's
    references); a cell that fails there is named with its row, like any other cell."""
    rows = [valid_row, {**valid_row, "external_id": "UC-2", column: value}]
    report = portfolio_import(files=[csv_file("initiatives.csv", rows)], actor=owner)

    assert not report.ok and not report.applied
    assert ("initiatives", 3, column) in problems(report)
