"""Template source rules that no page test would notice until somebody reads the page."""

from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def template_files() -> list[Path]:
    return sorted(
        path
        for path in BASE_DIR.rglob("templates/**/*.html")
        if ".venv" not in path.parts and "node_modules" not in path.parts
    )


def test_short_comments_close_on_their_own_line():
    # Django's {# #} comment is one line only: an unclosed one is printed on the page.
    unclosed = [
        f"{path.relative_to(BASE_DIR)}:{number}"
        for path in template_files()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "{#" in line and "#}" not in line[line.index("{#") :]
    ]
    assert template_files() and unclosed == []
