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
from markdown_it.common.utils import escapeHtml

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


def _prose(tokens):
    """The text tokens people wrote as prose: not code, not a link's title or an image's
    alt text (an image keeps its alt text in its own children)."""
    for token in tokens:
        if token.type == "inline" and token.children:
            yield from (child for child in token.children if child.type == "text")


def mentioned_usernames(text: str) -> list[str]:
    """The usernames written as @username in the prose of `text`, each once, in order.

    An @word in code is quoted, not addressed to anybody: it mentions no one.
    """
    seen: dict[str, None] = {}
    for token in _prose(_renderer.parse(text or "")):
        for match in MENTION.finditer(token.content):
            seen.setdefault(match.group(1).rstrip("."), None)
    return [name for name in seen if name]


def _render_text(self, tokens, idx, options, env) -> str:
    """A text token, escaped, with each mentioned @username shown as the person's name.

    Mentions are replaced here, in the prose, rather than in the finished HTML, where
    an @word inside code or an attribute would be rewritten too."""
    html = escapeHtml(tokens[idx].content)
    mentions = env.get("mentions")
    if not mentions:
        return html

    def name_for(match: re.Match) -> str:
        username = match.group(1).rstrip(".")
        if username not in mentions:
            return match.group(0)
        trailing = match.group(1)[len(username) :]
        return f'<span class="mention">@{escape(mentions[username])}</span>{trailing}'

    return MENTION.sub(name_for, html)


_renderer.add_render_rule("text", _render_text)


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
    return sanitise(_renderer.render(text or "", {"mentions": dict(mentions or {})}))
