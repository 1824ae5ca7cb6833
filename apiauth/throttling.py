from django.conf import settings
from rest_framework.throttling import BaseThrottle

from apiauth.models import ApiToken
from core.limits import hit, retry_after


class TokenRateThrottle(BaseThrottle):
    """Limits each token (not browser sessions) to TOLLGATE_API_TOKEN_RATE requests.

    The count lives in the shared cache and is one atomic increment per request (Redis),
    so every worker counts against the same limit; DRF's own throttles keep a list of
    timestamps that two workers can overwrite at once.
    """

    scope = "token"

    def get_rate(self) -> str:
        # Read at request time so the rate can be changed in settings (and in tests).
        return getattr(settings, "TOLLGATE_API_TOKEN_RATE", "1000/hour")

    def allow_request(self, request, view) -> bool:
        if not isinstance(request.auth, ApiToken):
            return True
        # The hash, not the pk: a pk can be reused (e.g. after a rollback), a secret cannot.
        return hit(self.scope, request.auth.secret_hash, self.get_rate())

    def wait(self) -> int:
        return retry_after(self.get_rate())
