from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from apiauth.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """Limits each token (not browser sessions) to TOLLGATE_API_TOKEN_RATE requests."""

    scope = "token"

    def get_rate(self):
        # Read at request time so the rate can be changed in settings (and in tests).
        return getattr(settings, "TOLLGATE_API_TOKEN_RATE", "1000/hour")

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        # The hash, not the pk: a pk can be reused (e.g. after a rollback), a secret cannot.
        return self.cache_format % {"scope": self.scope, "ident": request.auth.secret_hash}
