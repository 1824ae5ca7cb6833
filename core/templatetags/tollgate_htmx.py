"""{% htmx_config %}: htmx's settings for every page, from core.htmx."""

from django import template
from django.utils.safestring import mark_safe

from core.htmx import htmx_config_meta

register = template.Library()


@register.simple_tag
def htmx_config() -> str:
    return mark_safe(htmx_config_meta())  # built from constants, escaped
