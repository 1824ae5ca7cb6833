"""Response headers every answer carries: what the browser may keep and what it may use."""

from __future__ import annotations

from django.conf import settings

# Tollgate uses none of these browser features; a page (or an uploaded file rendered by
# mistake) may not ask for them either.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)
PRIVATE = "private, no-store"


def is_private(request, response) -> bool:
    """Whether the answer is for one person only: signed in, API, or an export."""
    if request.path.startswith("/api/"):
        return True
    if response.get("Content-Disposition", "").startswith("attachment"):
        return True
    # Signed in: a session cookie. Asking request.user would cost a query on answers
    # that never read it; with a stale cookie the answer is merely not cached.
    return settings.SESSION_COOKIE_NAME in request.COOKIES


class ResponseHeadersMiddleware:
    """`Permissions-Policy` on every answer; `Cache-Control: private, no-store` on every
    answer meant for one person (signed-in pages, exports, the API), so neither a shared
    proxy nor the browser's history keeps a copy after sign-out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if is_private(request, response):
            response["Cache-Control"] = PRIVATE
        return response
