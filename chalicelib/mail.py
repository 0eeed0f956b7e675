"""Email: Jinja2 templates -> a MIME message (stdlib `email`) -> SES v2 raw send.

Jinja2 is imported only when a message is rendered, so routes that send no mail never
pay for it at cold start. HTML templates (*.html) are autoescaped; text templates are not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from chalicelib.aws import error_code

log = logging.getLogger(__name__)
# CRLF line ends for SES. Header lines may run to RFC 5322's hard limit of 998: CPython 3.11
# folds long non-ASCII headers between two encoded-words in place of a space, and mail
# clients then drop that space ("Hans Müller" would read "HansMüller").
_POLICY = SMTP.clone(max_line_length=998)

# In the deployment zip templates/ sits beside chalicelib/ (vendor/templates links to it,
# and Chalice copies vendor/ into the zip root), exactly as in the source tree.
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


class MailError(RuntimeError):
    """SES did not accept the message (rejected, throttled or unreachable)."""


class Mailer(Protocol):
    """What the service needs of a mailer (SesMailer, OutboxMailer, a test fake)."""

    def send(self, email: Email) -> str:
        """Send the message; its provider's message id. Raises MailError."""
        ...


@dataclass(frozen=True)
class Email:
    sender: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None  # None: a text-only message
    reply_to: Address | None = None
    headers: tuple[tuple[str, str], ...] = ()

    @cached_property
    def raw(self) -> bytes:
        """The exact bytes sent (built once, so an outbox copy is identical)."""
        return self.to_mime().as_bytes()

    def to_mime(self) -> EmailMessage:
        message = EmailMessage(policy=_POLICY)
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        if self.reply_to is not None:
            message["Reply-To"] = self.reply_to
        message["Subject"] = self.subject
        message["Date"] = formatdate(localtime=False)
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or None
        message["Message-ID"] = make_msgid(domain=domain)
        for name, value in self.headers:
            message[name] = value
        # Quoted-printable keeps every line 7-bit (safe through any relay) yet readable.
        message.set_content(self.text, charset="utf-8", cte="quoted-printable")
        if self.html is not None:
            message.add_alternative(
                self.html, subtype="html", charset="utf-8", cte="quoted-printable"
            )
        return message


class Templates:
    """The Jinja2 environment over templates/, built on first use."""

    def __init__(self, directory: Path = TEMPLATES_DIR) -> None:
        self._directory = directory
        self._env: Any = None

    def render(self, template: str, **context: Any) -> str:
        return str(self._environment().get_template(template).render(**context))

    def _environment(self) -> Any:
        if self._env is None:
            import jinja2

            self._env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(str(self._directory)),
                autoescape=jinja2.select_autoescape(enabled_extensions=("html",)),
                undefined=jinja2.StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=True,
            )
        return self._env


class SesMailer:
    """Sends through SES v2 (SendEmail with Raw content): one AWS call per message."""

    def __init__(self, sesv2: Any, configuration_set: str | None = None) -> None:
        self._ses = sesv2
        self._configuration_set = configuration_set

    def send(self, email: Email) -> str:
        args: dict[str, Any] = {
            "FromEmailAddress": email.sender,
            "Destination": {"ToAddresses": list(email.to)},
            "Content": {"Raw": {"Data": email.raw}},
        }
        if self._configuration_set:
            args["ConfigurationSetName"] = self._configuration_set
        try:
            return str(self._ses.send_email(**args)["MessageId"])
        except Exception as exc:  # botocore raises many types; all mean "not sent"
            # Only the error's code: SES messages can quote addresses (no personal data in logs).
            reason = error_code(exc) or type(exc).__name__
            raise MailError(f"SES did not accept the message ({reason})") from exc


class OutboxMailer:
    """Local runs: after SES accepted a message, keep a copy a person can open.

    Writes <time>-<id>.eml (the raw message) and .html (the HTML part), and prints one line.
    """

    def __init__(self, inner: Mailer, directory: str) -> None:
        self._inner = inner
        self._directory = Path(directory)

    def send(self, email: Email) -> str:
        message_id = str(self._inner.send(email))
        self._directory.mkdir(parents=True, exist_ok=True)
        stem = self._directory / f"{_timestamp()}-{_safe(message_id)}"
        stem.with_suffix(".eml").write_bytes(email.raw)
        if email.html is not None:
            stem.with_suffix(".html").write_text(email.html, encoding="utf-8")
        # The path and the lead id only: the console is a log, and logs hold no personal data.
        lead_id = dict(email.headers).get("X-Vigor-Lead-Id", "-")
        print(f"outbox: {stem}.eml (lead {lead_id})", flush=True)
        return message_id


def _timestamp() -> str:
    import datetime

    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%f")


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)[:80] or "message"
