"""Emails that many people get with the same subject and bodies, built once per batch.

A reminder goes to every person on an initiative's team with the same text. Django
builds each message through the standard library's header registry, which parses and
folds every header of every MIME part: 20 to 27 ms per reminder on the benchmark machine
under load, most of a 50,000-initiative scan. For the SMTP backend the part the
recipients share (subject, sender, the text and HTML bodies) is built once, with the
standard library's plain MIME classes, and serialised once; each message then adds only
its own To, Date and Message-ID. Every other backend (memory, console, files), and any
message with attachments, headers of its own or more than one recipient, is built as
Django always builds it.
"""

from __future__ import annotations

import email.policy
import email.utils
from datetime import UTC, datetime
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.utils import timezone


class SharedBodyEmail(EmailMultiAlternatives):
    """One of several emails with the same subject, sender and bodies; `shared` is a dict
    the batch's messages share, holding each distinct message's serialised common part."""

    def __init__(self, *args, shared: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self._shared = shared

    def _plain_single_recipient(self) -> bool:
        """One ASCII address, text bodies, no attachment and no header of its own: the only
        case the shortcut writes."""
        if len(self.to) != 1 or self.cc or self.bcc or self.reply_to or self.extra_headers:
            return False
        if self.attachments or any(not kind.startswith("text/") for _, kind in self.alternatives):
            return False
        address = self.to[0]
        return address.isascii() and not any(char in address for char in '\r\n,<>"')

    def message(self, *, policy=email.policy.default):
        if policy is not email.policy.SMTP or not self._plain_single_recipient():
            return super().message(policy=policy)
        key = (self.subject, self.body, tuple(self.alternatives), self.from_email)
        common = self._shared.get(key)
        if common is None:
            common = self._shared[key] = self._common_part()
        zone = timezone.get_current_timezone() if settings.EMAIL_USE_LOCALTIME else UTC
        own = (
            f"To: {self.to[0]}\r\n"
            f"Date: {email.utils.format_datetime(datetime.now(zone))}\r\n"
            f"Message-ID: {email.utils.make_msgid(domain=DNS_NAME)}\r\n"
        )
        return SerialisedMessage(own.encode("ascii") + common)

    def _common_part(self) -> bytes:
        """Subject, From and the bodies as multipart/alternative, in wire form (CRLF)."""
        charset = self.encoding or settings.DEFAULT_CHARSET
        parts = [MIMEText(self.body, "plain", charset)]
        parts += [
            MIMEText(content, kind.split("/", 1)[1], charset) for content, kind in self.alternatives
        ]
        message = parts[0] if len(parts) == 1 else MIMEMultipart("alternative", _subparts=parts)
        subject = str(self.subject)
        if "\n" in subject or "\r" in subject:
            raise ValueError("A subject may not contain a line break.")
        message["Subject"] = subject if subject.isascii() else Header(subject, charset)
        # The sender through the header registry (once per message text): names encoded.
        policy = email.policy.SMTP
        sender = policy.header_factory("From", str(self.from_email)).fold(policy=policy)
        sender = sender.encode("ascii")
        return sender + message.as_bytes(policy=email.policy.compat32.clone(linesep="\r\n"))


class SerialisedMessage:
    """A message already in its wire form: what the SMTP backend asks of it."""

    def __init__(self, data: bytes):
        self._data = data

    def as_bytes(self, *args, **kwargs) -> bytes:
        return self._data

    def __bytes__(self) -> bytes:
        return self._data
