"""Password reset, throttled per address and per client without telling who has an account."""

from __future__ import annotations

import hashlib
import logging

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.views import PasswordResetView

from core.limits import hit

logger = logging.getLogger(__name__)


class ThrottledPasswordResetForm(PasswordResetForm):
    """Sends the link only while the address and the client are under their rates.

    Every request counts, for addresses with an account and without, and the answer is the
    same "check your email" page either way, so the throttle tells nothing about who exists.
    """

    def save(self, *, request=None, **kwargs):
        email = self.cleaned_data["email"].strip().lower()
        address = hashlib.sha256(email.encode()).hexdigest()  # no addresses in the cache
        client = (request and get_client_ip_address(request)) or "unknown"
        address_ok = hit("password-reset-address", address, settings.TOLLGATE_PASSWORD_RESET_RATE)
        client_ok = hit(
            "password-reset-client", client, settings.TOLLGATE_PASSWORD_RESET_CLIENT_RATE
        )
        if not (address_ok and client_ok):
            logger.warning("Password reset throttled (client %s)", client)
            return None
        return super().save(request=request, **kwargs)


password_reset = PasswordResetView.as_view(form_class=ThrottledPasswordResetForm)
