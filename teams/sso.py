"""Optional OpenID Connect single sign-on (loaded only when OIDC_RP_CLIENT_ID is set)."""

from mozilla_django_oidc.auth import OIDCAuthenticationBackend


def sso_username(email: str) -> str:
    """Single sign-on users are named by their email address (OIDC_USERNAME_ALGO)."""
    return email.strip().lower()[:150]


class SingleSignOnBackend(OIDCAuthenticationBackend):
    """Matches people by verified email address; creates newcomers without any portfolio role."""

    def filter_users_by_claims(self, claims):
        email = claims.get("email")
        # Only a provider's explicit "verified" links an existing account: an address
        # anybody could claim must not sign them in as someone else.
        if not email or claims.get("email_verified") is not True:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email, is_active=True)
