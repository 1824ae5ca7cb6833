"""{{ url|in_app }}: a link to Tollgate itself as a path, so it works on whatever host and
port the page was served from, not only on SITE_URL's (which emails need)."""

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def in_app(url: str) -> str:
    site = settings.SITE_URL.rstrip("/")
    if url and url.startswith(site + "/"):
        return url[len(site) :]
    return url
