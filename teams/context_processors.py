from django.conf import settings


def sign_in(request) -> dict:
    """Whether the sign-in page offers single sign-on."""
    return {"oidc_enabled": settings.OIDC_ENABLED}
