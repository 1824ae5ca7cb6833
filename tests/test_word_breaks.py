"""How words break, in every stylesheet: only a word that cannot fit its box breaks.

The browser test (tests/browser/test_every_page.py) measures it on every page; this
keeps the two declarations that broke ordinary words from coming back unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

STYLESHEETS = sorted((Path(settings.BASE_DIR) / "static" / "css").glob("*.css"))


def _rules(css: str) -> list[tuple[str, str]]:
    css = re.sub(r"(?s)/\*.*?\*/", "", css)
    return [(s.strip(), body) for s, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)]


def test_no_stylesheet_breaks_words_at_any_letter():
    offending = [
        f"{path.name}: {selector}"
        for path in STYLESHEETS
        for selector, body in _rules(path.read_text())
        if re.search(r"word-break:\s*break-(all|word)", body)
    ]
    assert offending == []


def test_the_page_breaks_only_words_that_cannot_fit():
    """The body's rule is break-word: "anywhere" there lets every narrow cell split words."""
    rules = dict(_rules((Path(settings.BASE_DIR) / "static/css/tollgate.css").read_text()))
    assert re.search(r"overflow-wrap:\s*break-word", rules["body"])
    assert re.search(r"white-space:\s*nowrap", rules[".key,\n.badge"])
