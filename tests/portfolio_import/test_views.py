"""The import page, the template and the export download, the command and the API."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from apiauth.models import ApiToken
from initiatives.models import Initiative
from portfolio_import.columns import TABLES
from portfolio_import.models import ImportRun
from tests.portfolio_import.helpers import csv_file

pytestmark = pytest.mark.django_db


def _upload(source) -> SimpleUploadedFile:
    return SimpleUploadedFile(source.name, source.content, content_type="text/csv")


# --- The page --------------------------------------------------------------------------------


def test_only_portfolio_admins_reach_the_import_page(client, owner, viewer, admin_user):
    for user in (owner, viewer):
        client.force_login(user)
        assert client.get(reverse("portfolio_import:upload")).status_code == 403
    client.force_login(admin_user)
    page = client.get(reverse("portfolio_import:upload"))
    assert page.status_code == 200
    # The guide on the page lists every column of every table.
    for table in TABLES:
        for column in table.columns:
            assert f"<code>{column.name}</code>" in page.content.decode()


def test_upload_previews_and_the_import_button_imports(client, admin_user, valid_row):
    client.force_login(admin_user)
    source = csv_file("initiatives.csv", [valid_row])
    response = client.post(reverse("portfolio_import:upload"), {"files": [_upload(source)]})
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "portfolio_import:preview", args=[run.pk]
    )
    assert not Initiative.objects.filter(name=valid_row["name"]).exists()
    preview = client.get(response["Location"]).content.decode()
    assert "Would import: 1 row created" in preview and "Import 1 row" in preview

    client.post(reverse("portfolio_import:apply", args=[run.pk]))
    assert Initiative.objects.filter(name=valid_row["name"]).count() == 1
    run.refresh_from_db()
    assert run.applied_at is not None
    # A second click imports nothing twice.
    again = client.post(reverse("portfolio_import:apply", args=[run.pk]), follow=True)
    assert "already been imported" in again.content.decode()
    assert Initiative.objects.filter(name=valid_row["name"]).count() == 1


def test_a_preview_with_problems_offers_no_import_button(client, admin_user, valid_row):
    client.force_login(admin_user)
    source = csv_file("initiatives.csv", [{**valid_row, "owner": "ghost"}])
    response = client.post(
        reverse("portfolio_import:upload"), {"files": [_upload(source)]}, follow=True
    )
    content = response.content.decode()
    assert 'id="problems"' in content and "ghost" in content
    assert "Import 1 row" not in content


def test_an_upload_without_a_file_answers_with_the_form(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("portfolio_import:upload"), {})
    assert response.status_code == 400
    assert "field__error" in response.content.decode()


def test_the_template_is_a_workbook_with_a_sheet_per_table(client, admin_user):
    from openpyxl import load_workbook

    client.force_login(admin_user)
    response = client.get(reverse("portfolio_import:template"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    assert [sheet.title for sheet in workbook.worksheets] == [
        *(table.title for table in TABLES),
        "Guide",
    ]
    for table in TABLES:
        header = next(workbook[table.title].iter_rows(values_only=True))
        assert list(header) == table.column_names


def test_the_template_as_downloaded_imports_its_example(client, admin_user, owner, executive):
    """A first try with the template imports its example initiative with the history,
    checklist, reading and member rows that name it: every example row is about the
    example initiative, and its dates agree with each other."""
    from portfolio_import.reading import SourceFile
    from portfolio_import.services import portfolio_import
    from teams.roles import PortfolioRole
    from tests.factories import TeamFactory, UserFactory

    TeamFactory(slug="customer-operations", name="Customer Operations")
    UserFactory(username="contrib", groups=[PortfolioRole.CONTRIBUTOR])
    client.force_login(admin_user)
    template = client.get(reverse("portfolio_import:template")).content

    report = portfolio_import(
        files=[SourceFile(name="template.xlsx", content=template)], actor=admin_user
    )

    assert [problem.message for problem in report.problems] == []
    initiative = Initiative.objects.get(external_reference__external_id="UC-17")
    assert initiative.stage.key == "mvp"
    assert initiative.memberships.filter(user__username="contrib").exists()


def test_the_export_holds_only_what_the_admin_sees_in_the_import_format(
    client, admin_user, initiative
):
    from openpyxl import load_workbook

    client.force_login(admin_user)
    response = client.get(reverse("portfolio_import:export"))
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(workbook["Initiatives"].iter_rows(values_only=True))
    assert rows[1][0] == initiative.key
    assert rows[1][6] == initiative.owner.username


# --- The command -----------------------------------------------------------------------------


def test_the_command_imports_and_a_dry_run_writes_nothing(tmp_path, valid_row):
    path = tmp_path / "initiatives.csv"
    path.write_bytes(csv_file("initiatives.csv", [valid_row]).content)
    out = io.StringIO()
    call_command("import_portfolio", str(path), "--dry-run", stdout=out)
    assert "every row is valid" in out.getvalue()
    assert not Initiative.objects.filter(name=valid_row["name"]).exists()
    call_command("import_portfolio", str(path), stdout=out)
    assert Initiative.objects.filter(name=valid_row["name"]).exists()


def test_the_command_names_each_problem_and_fails(tmp_path, valid_row):
    path = tmp_path / "initiatives.csv"
    path.write_bytes(csv_file("initiatives.csv", [{**valid_row, "maturity": "9"}]).content)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_portfolio", str(path), stderr=err, stdout=io.StringIO())
    assert "initiatives, row 2, column maturity: Must be at most 2." in err.getvalue()


# --- The API ---------------------------------------------------------------------------------


def _api(user) -> APIClient:
    client = APIClient()
    _, secret = ApiToken.issue(user=user, name="import", scope=ApiToken.Scope.READ_WRITE)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_the_api_imports_and_answers_per_row(admin_user, valid_row):
    source = csv_file("initiatives.csv", [valid_row])
    response = _api(admin_user).post(
        "/api/v1/imports/", {"files": [_upload(source)]}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["applied"] and body["rows"][0]["status"] == 201
    assert body["rows"][0]["action"] == "create"
    assert Initiative.objects.filter(name=valid_row["name"]).exists()


def test_the_api_answers_207_with_each_refused_row_and_writes_nothing(admin_user, valid_row):
    rows = [valid_row, {**valid_row, "external_id": "UC-2", "stage": "launch"}]
    response = _api(admin_user).post(
        "/api/v1/imports/",
        {"files": [_upload(csv_file("initiatives.csv", rows))], "dry_run": "false"},
        format="multipart",
    )
    assert response.status_code == 207
    body = response.json()
    assert [row["status"] for row in body["rows"]] == [201, 422]
    assert body["errors"] == [
        {
            "table": "initiatives",
            "row": 3,
            "column": "stage",
            "message": body["rows"][1]["errors"][0]["message"],
        }
    ]
    assert not body["applied"]
    assert not Initiative.objects.filter(name=valid_row["name"]).exists()


def test_the_api_dry_run_answers_200(admin_user, valid_row):
    response = _api(admin_user).post(
        "/api/v1/imports/",
        {"files": [_upload(csv_file("initiatives.csv", [valid_row]))], "dry_run": "true"},
        format="multipart",
    )
    assert response.status_code == 200 and response.json()["dry_run"]
    assert not Initiative.objects.filter(name=valid_row["name"]).exists()


def test_the_api_refuses_non_admins_and_a_missing_file(owner, admin_user):
    assert _api(owner).post("/api/v1/imports/", {}, format="multipart").status_code == 403
    response = _api(admin_user).post("/api/v1/imports/", {}, format="multipart")
    assert response.status_code == 400
    assert "files" in response.json()["errors"]


def test_files_over_the_size_limit_are_refused_before_reading(
    client, admin_user, valid_row, settings
):
    settings.TOLLGATE_IMPORT_MAX_BYTES = 64
    source = csv_file("initiatives.csv", [valid_row])
    client.force_login(admin_user)
    page = client.post(reverse("portfolio_import:upload"), {"files": [_upload(source)]})
    assert page.status_code == 400 and "64-byte limit" in page.content.decode()
    api = _api(admin_user).post(
        "/api/v1/imports/", {"files": [_upload(source)]}, format="multipart"
    )
    assert api.status_code == 413 and api.json()["code"] == "payload_too_large"
    assert "64-byte limit" in api.json()["message"]
    assert not ImportRun.objects.exists()


def _whole_file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@pytest.mark.parametrize(
    ("upload", "says"),
    [
        (_whole_file("portfolio.xlsx", b"PK\x03\x04 not really a zip"), "not a readable .xlsx"),
        (_whole_file("notes.pdf", b"%PDF-1.4 name"), "upload an .xlsx workbook"),
        (_whole_file("initiatives.csv", b"\x00\x01\x02\xff\xfe"), "not a text file"),
        (_whole_file("initiatives.csv", b"nickname\nSomething\n"), "required column is missing"),
        (_whole_file("initiatives.csv", b"\n\n  \n"), "No initiatives, history"),
        (_whole_file("initiatives.csv", b""), "empty"),
    ],
    ids=["damaged-xlsx", "not-a-spreadsheet", "binary-csv", "missing-columns", "blank", "empty"],
)
def test_a_whole_file_problem_answers_400_in_the_error_shape(admin_user, upload, says):
    """Not a per-row report (207): the upload as a whole is refused, with the reason."""
    response = _api(admin_user).post("/api/v1/imports/", {"files": [upload]}, format="multipart")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body) == {"code", "message", "errors"}
    said = [
        m
        for field, messages in body["errors"].items()
        if field.startswith("files")
        for m in messages
    ]
    assert says in " ".join(said), body
    assert not Initiative.objects.exists()
