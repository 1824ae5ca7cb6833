"""Password reset, throttled per address and per client without telling who has an account."""

from __future__ import annotations

import hashlib
import logging

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.views import PasswordResetView
from django.template.loader import render_to_string

from core import background
from core.limits import hit
from core.tasks import email_send_task

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

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        """Render the email here and send it outside the request (a slow mail server
        never holds the page; without a broker a background thread sends it)."""
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        html = None
        if html_email_template_name is not None:
            html = render_to_string(html_email_template_name, context)
        background.dispatch(email_send_task, subject, body, [to_email], html, from_email)


password_reset = PasswordResetView.as_view(form_class=ThrottledPasswordResetForm)
