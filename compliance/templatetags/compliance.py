"""What the initiative page and the board show of the AI Act classification, without the
initiatives and gates apps knowing this app: their templates load these tags.

Each tag fetches for a whole list at once, so a page's query count does not grow with
its cards or obligations.
"""

from django import template
from django.utils.safestring import mark_safe

from compliance import selectors
from compliance.models import Tier

register = template.Library()

TIER_LABELS = dict(Tier.choices)


@register.simple_tag
def attach_ai_tiers(cards_or_columns) -> str:
    """Give every board card `ai_tier` and `ai_tier_label` ("" when unclassified); takes
    cards, or columns that have `cards`."""
    cards = []
    for entry in cards_or_columns or ():
        cards.extend(getattr(entry, "cards", None) or ([entry] if hasattr(entry, "pk") else []))
    tiers = selectors.tiers_of(card.pk for card in cards) if cards else {}
    for card in cards:
        card.ai_tier = tiers.get(card.pk, "")
        card.ai_tier_label = TIER_LABELS.get(card.ai_tier, "")
    return ""


@register.simple_tag(takes_context=True)
def classification_panel(context, initiative) -> str:
    """The initiative's AI Act classification, its obligations and the way to (re)classify."""
    from compliance.views import render_classification_panel

    return mark_safe(render_classification_panel(context["request"], initiative, context["access"]))


@register.filter
def tier_label(value) -> str:
    return TIER_LABELS.get(value, "Not classified")
