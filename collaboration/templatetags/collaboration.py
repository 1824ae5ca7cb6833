"""What the initiative page and the board show of the discussion, without the
initiatives and gates apps knowing this app: their templates load these tags.

Each tag fetches for a whole list at once, so a page's query count does not
grow with its comments or files.
"""

from django import template
from django.conf import settings
from django.utils.safestring import mark_safe

from collaboration import selectors

register = template.Library()


@register.simple_tag
def attach_comment_counts(cards_or_columns) -> str:
    """Give every board card `comment_count`; takes cards, or columns that have `cards`."""
    cards = []
    for entry in cards_or_columns or ():
        cards.extend(getattr(entry, "cards", None) or ([entry] if hasattr(entry, "pk") else []))
    selectors.attach_comment_counts(cards)
    return ""


@register.simple_tag(takes_context=True)
def attach_item_collaboration(context, items) -> str:
    """Give checklist items `comment_count` and `files` (one item or a list), and mark
    the files the person looking may delete."""
    if items is None or items == "":
        return ""
    items = list(items) if isinstance(items, list | tuple) else [items]
    fresh = [item for item in items if not hasattr(item, "files")]
    selectors.attach_item_collaboration(fresh)
    user, initiative = context.get("user"), context.get("initiative")
    if user is not None and initiative is not None:
        selectors.mark_deletable(user, initiative, [f for item in fresh for f in item.files])
    return ""


@register.simple_tag(takes_context=True)
def discussion_panel(context, initiative) -> str:
    """The initiative's discussion, watch switch and live poll."""
    from collaboration.views import render_discussion_panel

    html = render_discussion_panel(
        context["request"], initiative, gate=context.get("gate"), items=context.get("items")
    )
    return mark_safe(html)


@register.simple_tag
def upload_limit_mb() -> int:
    return settings.TOLLGATE_UPLOAD_MAX_MB
