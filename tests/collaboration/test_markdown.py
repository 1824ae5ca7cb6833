"""Comment text and file names: nothing a person types runs in somebody else's browser."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from collaboration.files import detect_type, safe_name
from collaboration.markdown import ALLOWED_TAGS, mentioned_usernames, render, sanitise
from tests.collaboration.conftest import HTML, PDF, SVG

PAYLOADS = [
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<img src=x onerror=alert(1)>",
    '<p onclick="alert(1)">x</p>',
    '<svg onload="alert(1)"><script>alert(2)</script></svg>',
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    "![x](javascript:alert(1))",
    '<iframe src="https://example.com"></iframe>',
    "<style>body{display:none}</style>",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
]


class _Elements(HTMLParser):
    """Every element and attribute of an HTML fragment, as a browser would parse them."""

    def __init__(self, html: str):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def assert_harmless(html: str) -> None:
    for tag, attrs in _Elements(html).elements:
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs.items():
            assert not name.startswith("on"), (name, html)
            if name == "href":
                scheme = urlsplit(value or "").scheme.lower()
                assert scheme in ("http", "https", "mailto", ""), (value, html)


@pytest.mark.parametrize("text", PAYLOADS)
def test_comment_html_carries_no_script_handler_or_dangerous_link(text):
    html = render(text)
    assert_harmless(html)
    assert "<script" not in html.lower() and "<svg" not in html.lower()


@pytest.mark.parametrize("text", PAYLOADS)
def test_the_sanitiser_alone_removes_what_a_renderer_might_let_through(text):
    # Fed as raw HTML, as if the Markdown renderer had passed it on unescaped.
    html = sanitise(text)
    assert_harmless(html)
    assert "alert(2)" not in html  # script and style contents go with their tags


def test_markdown_renders_the_usual_formatting():
    html = render("**bold** _it_ `code`\n\n- one\n- two\n\n[docs](https://example.com/a)")
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html and "<code>code</code>" in html
    assert "<li>one</li>" in html
    assert 'href="https://example.com/a"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_mentions_show_the_name_and_are_escaped():
    html = render("Thanks @pat.", {"pat": "Pat <b>O'Neil</b>"})
    assert '<span class="mention">@Pat &lt;b&gt;O' in html
    assert "<b>" not in html
    assert html.rstrip().endswith(".</p>")


def test_mentioned_usernames_are_found_once_each():
    assert mentioned_usernames("@pat and @sam, again @pat. mail a@b.com") == ["pat", "sam"]


@pytest.mark.parametrize(
    "text",
    [
        "Run `@pat` in the shell",
        "```\n@pat\n```",
        '[the plan](https://example.com "by @pat")',
        "![chart by @pat](https://example.com/chart.png)",
    ],
)
def test_an_at_word_in_code_or_a_link_title_mentions_nobody_and_keeps_the_markup(text):
    """Only prose mentions: the names of code and attributes stay as written, so no notice
    goes out for them and no span is written into an attribute, which broke the link."""
    assert mentioned_usernames(text) == []
    html = render(text, {"pat": 'Pat "P" O'})
    assert "mention" not in html
    assert html == render(text)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        # The slash of the closing tag counts as a folder: only the last part is kept.
        ("<script>alert(1)</script>.pdf", "script_.pdf"),
        ("<svg onload=alert(1)>.svg", "_svg onload_alert(1)_.svg"),
        ("eval\x00\x1b[31m.pdf", "eval_31m.pdf"),
        ("   ", "file"),
        ("a" * 300 + ".pdf", "a" * 146 + ".pdf"),
    ],
)
def test_file_names_lose_paths_markup_and_control_codes(name, expected):
    assert safe_name(name) == expected


def test_type_comes_from_the_content_not_the_name():
    assert detect_type(PDF) == "application/pdf"
    assert detect_type(HTML) == "text/html"
    assert detect_type(SVG) == "text/html"
    assert detect_type(b"plain notes\n") == "text/plain"
    assert detect_type(bytes(range(256))) == "application/octet-stream"
