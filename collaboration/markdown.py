"""Comment text: Markdown rendered on the server, then sanitised to an allow-list.

markdown-it-py renders CommonMark with raw HTML turned off (typed tags come out
as text); nh3 then keeps only the tags, attributes and URL schemes below, so a
script, an event handler, a `javascript:` link or an inline SVG never reaches a
page even if the renderer let one through.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import nh3
from django.utils.html import escape
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "span": {"class"}, "ol": {"start"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}

# @username, as Django spells usernames; a trailing full stop ends the sentence, not the name.
MENTION = re.compile(r"(?<![\w@/])@([\w.+-]+)")

_renderer = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(
    ["table", "strikethrough"]
)


def mentioned_usernames(text: str) -> list[str]:
    """The usernames written as @username in `text`, each once, in order."""
    seen: dict[str, None] = {}
    for match in MENTION.finditer(text or ""):
        seen.setdefault(match.group(1).rstrip("."), None)
    return [name for name in seen if name]


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render(text: str, mentions: Mapping[str, str] | None = None) -> str:
    """Safe HTML for a comment; `mentions` maps usernames to the names shown for them."""
    html = _renderer.render(text or "")
    if mentions:

        def name_for(match: re.Match) -> str:
            username = match.group(1).rstrip(".")
            if username not in mentions:
                return match.group(0)
            trailing = match.group(1)[len(username) :]
            return f'<span class="mention">@{escape(mentions[username])}</span>{trailing}'

        html = MENTION.sub(name_for, html)
    return sanitise(html)
