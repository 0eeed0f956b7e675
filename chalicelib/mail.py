"""Email: templates -> a MIME message written here -> SES v2 raw send (and an outbox copy).

The message is written directly as the bytes SES receives, standards-conformant by
construction (the fast tier checks every rule below on generated messages):

* 7-bit ASCII with CRLF line ends throughout;
* header lines of at most 78 characters (RFC 5322), folded only where a space was: plain
  words stay as they are, every run of other words (non-ASCII, specials, "=?") becomes
  RFC 2047 encoded-words of at most 75 characters, split between characters, with the
  spaces inside them. Whitespace between two encoded-words is not shown (RFC 2047 6.2),
  so a fold between them loses nothing; a fold next to a plain word is a space that was
  there. (CPython 3.11's own folder put a fold between two encoded-words in place of a
  space, and mail clients then showed "HansMüller".) The one line that may be longer is a
  single address too long for any line (an address cannot be folded);
* bodies in quoted-printable (binascii.b2a_qp: lines of at most 76, RFC 2045);
* a multipart/alternative boundary that quoted-printable can never produce ("=_" ...);
* files (attachments) in a multipart/mixed after the body: base64 lines of 76, names as
  RFC 2231 parameters (UTF-8, percent-encoded, continued when long).

Writing the few headers this app sends is about 35 times cheaper than the standard library's
`email` package with its header registry and folding policy (see docs/performance.md), and
loads none of it at cold start.
"""

from __future__ import annotations

import binascii
import logging
import os
import re
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from chalicelib.aws import error_code

log = logging.getLogger(__name__)

# In the deployment zip templates/ sits beside chalicelib/ (vendor/templates links to it,
# and Chalice copies vendor/ into the zip root), exactly as in the source tree.
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

MAX_LINE = 78  # a header line (RFC 5322 2.1.1)
MAX_ENCODED_WORD = 75  # RFC 2047 2
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"  # RFC 5322 atext
_ATOM = re.compile(rf"{_ATEXT}+\Z")
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_ADDRESS = re.compile(rf'(?:{_DOT_ATOM}|"[!#-\[\]-~]*")@(?:{_DOT_ATOM}|\[[!-Z^-~]*\])\Z')
_PRINTABLE_WORDS = re.compile(r"[!-~]+(?: [!-~]+)*\Z")  # printable ASCII, single spaces
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Characters a Q encoded-word may carry as themselves anywhere, phrases included (RFC 2047
# 5(3)); everything else is =XX, and a space is "_".
_Q_LITERAL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!*+-/")
_Q_BYTE = [chr(b) if chr(b) in _Q_LITERAL else f"={b:02X}" for b in range(256)]
_Q_BYTE[0x20] = "_"


class MailError(RuntimeError):
    """SES did not accept the message (rejected, throttled or unreachable)."""


class Mailer(Protocol):
    """What the service needs of a mailer (SesMailer, OutboxMailer, a test fake)."""

    def send(self, email: Email) -> str:
        """Send the message; its provider's message id. Raises MailError."""
        ...


@dataclass(frozen=True)
class MailFile:
    """A file carried by a message (multipart/mixed), named as the visitor named it."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Email:
    sender: str  # an address, optionally with a display name: "Vigor <leads@example.com>"
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None  # None: a text-only message
    reply_to: tuple[str, str] | None = None  # (display name, address)
    headers: tuple[tuple[str, str], ...] = ()
    attachments: tuple[MailFile, ...] = ()

    @cached_property
    def raw(self) -> bytes:
        """The exact bytes sent (built once, so an outbox copy is identical). ValueError
        when an address cannot be written into a header faithfully."""
        return mime(self)


def mime(email: Email) -> bytes:
    name, address = _parse_sender(email.sender)
    lines = [
        _header("From", _address_items("From", name, address)),
        _header("To", _list_items(email.to)),
    ]
    if email.reply_to is not None:
        lines.append(_header("Reply-To", _address_items("Reply-To", *email.reply_to)))
    lines.append(_header("Subject", _text_items("Subject", email.subject)))
    lines.append(f"Date: {_date()}")
    lines.append(f"Message-ID: <{_message_id(address)}>")
    for header, value in email.headers:
        lines.append(_header(header, _text_items(header, value)))
    lines.append("MIME-Version: 1.0")
    if not email.attachments:
        lines += _body(email)
    else:  # multipart/mixed: the body first, then each file
        boundary = "=_" + os.urandom(12).hex()
        lines += [f'Content-Type: multipart/mixed; boundary="{boundary}"', "", f"--{boundary}"]
        lines += _body(email, closing=False)
        for attached in email.attachments:
            lines += [f"--{boundary}", *_attachment(attached)]
        lines.append(f"--{boundary}--\r\n")
    return "\r\n".join(lines).encode("ascii")


def _body(email: Email, closing: bool = True) -> list[str]:
    """The text (and HTML) entity: its headers, a blank line and its content."""
    if email.html is None:
        return [_TEXT_HEADERS.format("plain"), "", _quoted_printable(email.text)]
    boundary = "=_" + os.urandom(12).hex()  # "=_" never occurs in quoted-printable
    return [
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "",
        f"--{boundary}",
        _TEXT_HEADERS.format("plain"),
        "",
        _quoted_printable(email.text),
        f"--{boundary}",
        _TEXT_HEADERS.format("html"),
        "",
        _quoted_printable(email.html),
        f"--{boundary}--\r\n" if closing else f"--{boundary}--",
    ]


_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*\Z")


def _attachment(attached: MailFile) -> list[str]:
    """A file part: base64 in lines of 76, its name as RFC 2231 parameters (UTF-8,
    percent-encoded, continued over several lines when long)."""
    media_type = attached.content_type.lower()
    if not _MEDIA_TYPE.match(media_type):
        media_type = "application/octet-stream"
    data = binascii.b2a_base64(attached.data, newline=False).decode("ascii")
    body = "\r\n".join(data[i : i + 76] for i in range(0, len(data), 76))
    return [
        f"Content-Type: {media_type}",
        "Content-Transfer-Encoding: base64",
        _rfc2231("Content-Disposition: attachment", "filename", attached.filename),
        "",
        body,
    ]


def _rfc2231(head: str, parameter: str, value: str) -> str:
    """`head; parameter*=utf-8''...` (RFC 2231 4), split into parameter*0*, *1* ...
    continuations (section 3) when it would pass MAX_LINE; never splits an %XX."""
    encoded = quote(value, safe="!#$&+-.^_`|~")
    single = f"{head}; {parameter}*=utf-8''{encoded}"
    if len(single) <= MAX_LINE:
        return single
    pieces: list[str] = []
    rest = encoded
    while rest:
        prefix = f" {parameter}*{len(pieces)}*=" + ("utf-8''" if not pieces else "")
        room = MAX_LINE - len(prefix) - 1  # the ";" after it
        cut = min(room, len(rest))
        if "%" in rest[max(cut - 2, 0) : cut]:  # do not cut inside a %XX
            cut = rest.rindex("%", 0, cut)
        pieces.append(prefix + rest[:cut])
        rest = rest[cut:]
    return ";\r\n".join([head, *pieces])


_TEXT_HEADERS = (
    'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable'
)


def _quoted_printable(text: str) -> str:
    """The body as quoted-printable lines of at most 76 characters, CRLF after each (a body
    ends with a line break: the CRLF before a boundary belongs to the boundary)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n")
    if not lines.endswith("\n"):
        lines += "\n"
    data = lines.replace("\n", "\r\n").encode("utf-8")
    return binascii.b2a_qp(data, quotetabs=False, istext=True, header=False).decode("ascii")


def _date() -> str:
    from email.utils import formatdate

    return formatdate(localtime=False)


def _message_id(address: str) -> str:
    domain = address.rpartition("@")[2] or "localhost"
    return f"{time.time_ns()}.{os.urandom(8).hex()}@{domain}"


# ---- headers -----------------------------------------------------------------------------


def _header(name: str, items: list[str]) -> str:
    """`Name: item item ...`, folded before an item where a line would pass MAX_LINE."""
    line = f"{name}:"
    lines = []
    for item in items:
        if len(line) + 1 + len(item) > MAX_LINE and line != f"{name}:":
            lines.append(line)
            line = " " + item
        else:
            line += " " + item
    lines.append(line)
    return "\r\n".join(lines)


def _room(name: str) -> int:
    """The longest item that fits on any line of this header (the first included)."""
    return min(MAX_ENCODED_WORD, MAX_LINE - len(name) - 2)


def _text_items(name: str, value: str) -> list[str]:
    """An unstructured value: printable ASCII words as they are, other runs encoded."""
    return _items(value, _room(name), lambda word: bool(_PRINTABLE_WORDS.match(word)))


def _phrase_items(name: str, phrase: str) -> list[str]:
    """A display name: atoms (RFC 5322 atext) as they are, other runs encoded."""
    return _items(phrase, _room(name), lambda word: bool(_ATOM.match(word)))


def _items(value: str, room: int, plain: Any) -> list[str]:
    if _CONTROL.search(value):
        raise ValueError("a header value holds a control character")
    words = value.split(" ")
    if (  # the common case: every word plain
        _PRINTABLE_WORDS.match(value)
        and "=?" not in value
        and all(plain(word) and len(word) <= room for word in words)
    ):
        return words
    if "" in words:  # leading, trailing or repeated spaces: the encoded-words keep them
        return _encoded_words(value, room)
    items: list[str] = []
    run: list[str] = []
    for word in words:
        if plain(word) and "=?" not in word and len(word) <= room:
            if run:
                items += _encoded_words(" ".join(run), room)
                run = []
            items.append(word)
        else:
            run.append(word)
    if run:
        items += _encoded_words(" ".join(run), room)
    return items


def _encoded_words(text: str, room: int) -> list[str]:
    """RFC 2047 encoded-words (UTF-8; Q or B, whichever is shorter), each at most `room`
    characters and split between characters, so each decodes on its own."""
    data = text.encode("utf-8")
    use_b = (len(data) + 2) // 3 * 4 < sum(len(_Q_BYTE[byte]) for byte in data)
    budget = room - len("=?utf-8?q??=")
    chunks: list[bytes] = []
    chunk, length = b"", 0
    for char in text:
        encoded = char.encode("utf-8")
        q_length = sum(len(_Q_BYTE[byte]) for byte in encoded)
        grown = (len(chunk) + len(encoded) + 2) // 3 * 4 if use_b else length + q_length
        if grown > budget and chunk:
            chunks.append(chunk)
            chunk = b""
            grown = (len(encoded) + 2) // 3 * 4 if use_b else q_length
        chunk += encoded
        length = grown
    chunks.append(chunk)
    if use_b:
        return [f"=?utf-8?b?{binascii.b2a_base64(c, newline=False).decode()}?=" for c in chunks]
    return ["=?utf-8?q?" + "".join(_Q_BYTE[byte] for byte in c) + "?=" for c in chunks]


def _address_items(name: str, display_name: str, address: str) -> list[str]:
    spec = _address(address)
    if not display_name:
        return [spec]
    return [*_phrase_items(name, display_name), f"<{spec}>"]


def _list_items(addresses: tuple[str, ...]) -> list[str]:
    specs = [_address(address) for address in addresses]
    if not specs:
        raise ValueError("a message needs a recipient")
    return [spec + "," for spec in specs[:-1]] + specs[-1:]


def _address(address: str) -> str:
    """The address as a header carries it, or ValueError when it cannot be written so that
    every reader reads it back as itself: printable ASCII without spaces, a dot-atom (or a
    quoted local part), @, a dot-atom (or a [literal]), nothing that reads as an
    encoded-word. Validation (inquiries/email_check.py) refuses such addresses before a
    lead is taken; this is the last line, so that a message is never sent to the wrong
    place."""
    if "=?" in address or not _ADDRESS.match(address):
        raise ValueError("an email address cannot be written into a header")
    return address


def _parse_sender(sender: str) -> tuple[str, str]:
    """("Vigor Leads", "leads@example.com") from "Vigor Leads <leads@example.com>"."""
    name, bracket, rest = sender.rpartition("<")
    if not bracket:
        return "", sender.strip()
    name = name.strip()
    if len(name) > 1 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return name, rest.rstrip().removesuffix(">").strip()


# ---- templates ---------------------------------------------------------------------------


class Templates:
    """The email templates in templates/, rendered by chalicelib.templating (the subset of
    Jinja2's syntax they use: no Jinja2 at run time). *.html output is HTML-escaped."""

    def __init__(self, directory: Path = TEMPLATES_DIR) -> None:
        self._directory = directory
        self._compiled: dict[str, Any] = {}

    def render(self, template: str, **context: Any) -> str:
        compiled = self._compiled.get(template)
        if compiled is None:
            from chalicelib.templating import Template

            source = (self._directory / template).read_text(encoding="utf-8")
            compiled = Template(source, autoescape=template.endswith(".html"))
            self._compiled[template] = compiled
        return str(compiled.render(context))


# ---- sending -----------------------------------------------------------------------------


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
