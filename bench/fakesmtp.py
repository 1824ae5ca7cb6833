"""A tiny SMTP server for the fault tests: accepts, delays or refuses mail, and records it.

Only what Django's SMTP backend says: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
"""

from __future__ import annotations

import email
import email.header
import email.parser
import email.policy
import socketserver
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Mailbox:
    mode: str = "ok"  # "ok", "slow" (delay each message) or "fail" (refuse each message)
    delay: float = 0.3
    received: list[tuple[str, str]] = field(default_factory=list)  # (recipient, subject)
    # With `keep`, every message as parsed (tests read them; the benchmark does not).
    keep: bool = False
    messages: list = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.refused = 0
            self.messages.clear()


class _Handler(socketserver.StreamRequestHandler):
    mailbox: Mailbox

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        mailbox = self.server.mailbox
        recipients: list[str] = []
        self.reply("220 fakesmtp ready")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            command = raw.decode(errors="replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 fakesmtp")
            elif verb == "MAIL":
                if mailbox.mode == "fail":
                    with mailbox.lock:
                        mailbox.refused += 1
                    self.reply("451 4.3.0 Mail server temporarily unavailable")
                else:
                    recipients = []
                    self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while True:
                    line = self.rfile.readline()
                    if not line or line == b".\r\n":
                        break
                    lines.append(line)
                data = b"".join(lines)
                # The sender waits for the reply below: reading only the headers, with the
                # legacy parser, keeps the sink from being what a benchmark measures.
                headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(
                    data
                )
                subject = str(
                    email.header.make_header(email.header.decode_header(headers["Subject"] or ""))
                )
                if mailbox.mode == "slow":
                    time.sleep(mailbox.delay)
                with mailbox.lock:
                    for recipient in recipients:
                        mailbox.received.append((recipient, subject))
                    if mailbox.keep:
                        mailbox.messages.append(
                            email.message_from_bytes(data, policy=email.policy.default)
                        )
                self.reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def start(port: int) -> tuple[Mailbox, _Server]:
    """Serve on 127.0.0.1:port in a background thread; shut down with server.shutdown()."""
    server = _Server(("127.0.0.1", port), _Handler)
    server.mailbox = Mailbox()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.mailbox, server
