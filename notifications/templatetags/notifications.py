"""The bell in the navigation: a link to the inbox with the unread count.

The count is fetched by htmx after the page loads, so the bell adds no query
to any page's render (their query counts are tested); without JavaScript the
bell is a plain link to the inbox.
"""

from django import template

register = template.Library()


@register.inclusion_tag("notifications/bell.html", takes_context=True)
def notification_bell(context):
    known = context.get("unread_count")
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    return {
        "is_current": match is not None and match.app_name == "notifications",
        "unread_count": known or 0,
        "lazy": known is None,
        "bell_oob": False,
    }
