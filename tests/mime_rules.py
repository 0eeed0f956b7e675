"""The rules every message the app sends must keep, as checks the tests share.

* 7-bit ASCII, CRLF line ends only;
* header lines of at most 78 characters (RFC 5322 2.1.1), except a line that holds nothing
  but one address (an address cannot be folded), and each continuation line starts with
  white space;
* encoded-words of at most 75 characters (RFC 2047 2), each decoding to UTF-8 on its own;
* quoted-printable and base64 body lines of at most 76 characters (RFC 2045 6.7, 6.8);
* the standard library's parser finds no defect in the message or any part.

And how a mail client reads a header back: by RFC 2047's rules (6.2: white space between two
encoded-words is not shown), which `email.header.decode_header` follows. CPython's address
parser does not follow 6.2 inside a display name (it keeps the white space between two
encoded-words), so a display name is read with decode_header as clients read it.
"""

from __future__ import annotations

import email
import re
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import default as default_policy

ENCODED_WORD = re.compile(r"=\?([^?]*)\?([qQbB])\?([^?]*)\?=")
MAX_HEADER_LINE = 78
MAX_BODY_LINE = 76


def read_back(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def problems(raw: bytes) -> list[str]:
    """Every rule above the message breaks (an empty list: it keeps them all)."""
    found: list[str] = []
    if not raw.isascii():
        found.append("not 7-bit")
    if re.search(rb"(?<!\r)\n|\r(?!\n)", raw):
        found.append("a line end that is not CRLF")
    head, _, _ = raw.partition(b"\r\n\r\n")
    for number, line in enumerate(head.decode("ascii", "replace").split("\r\n")):
        if number and line[:1] not in (" ", "\t") and ":" not in line:
            found.append(f"header line {line!r} is neither a field nor a continuation")
        if len(line) > MAX_HEADER_LINE and not _one_address(line):
            found.append(f"header line of {len(line)} characters: {line!r}")
        for word in ENCODED_WORD.finditer(line):
            if len(word.group(0)) > 75:
                found.append(f"encoded-word of {len(word.group(0))} characters")
            try:
                (decoded, charset), *_ = decode_header(word.group(0))
                bytes(decoded).decode(charset or "ascii")  # type: ignore[arg-type]
            except (UnicodeDecodeError, ValueError, LookupError) as exc:
                found.append(f"encoded-word {word.group(0)!r} does not decode alone: {exc}")
    message = read_back(raw)
    for part in message.walk():
        found += [f"{part.get_content_type()}: defect {d!r}" for d in part.defects]
        if part.is_multipart():
            continue
        encoding = str(part.get("Content-Transfer-Encoding", "7bit")).lower()
        body = part.get_payload(decode=False)
        assert isinstance(body, str)
        for line in body.splitlines():
            if encoding in ("quoted-printable", "base64") and len(line) > MAX_BODY_LINE:
                found.append(f"{encoding} line of {len(line)} characters")
            elif len(line) > 998:
                found.append(f"body line of {len(line)} characters")
    return found


def _one_address(line: str) -> bool:
    """Nothing but one (unfoldable) address on the line: `To: a@b`, ` <a@b>`."""
    value = line.partition(":")[2] if not line.startswith(" ") else line
    tokens = value.strip().rstrip(",").split()
    return len(tokens) == 1 and "@" in tokens[0]


def raw_header(message: EmailMessage, name: str) -> str:
    return str(dict(message.raw_items())[name])


def unfolded(value: str) -> str:
    """RFC 5322 2.2.3: a line break followed by white space is removed, the space kept."""
    return re.sub(r"\r?\n(?=[ \t])", "", value)


def as_mail_clients_read(message: EmailMessage, name: str) -> str:
    """The header unfolded and decoded by RFC 2047's rules (what a mail client shows)."""
    return str(make_header(decode_header(unfolded(raw_header(message, name)))))


def display_name_as_clients_read(message: EmailMessage, name: str) -> str:
    """The display name of an address header (one address) as a mail client shows it."""
    value = unfolded(raw_header(message, name))
    phrase = value.rpartition("<")[0].strip()
    if not phrase:
        return ""
    if phrase.startswith('"') and phrase.endswith('"'):
        return re.sub(r"\\(.)", r"\1", phrase[1:-1])
    return str(make_header(decode_header(phrase)))


def lines(text: str) -> str:
    """Mail transport turns any line ending into CRLF; a reader sees line breaks either way."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    assert body is not None, f"no text/{subtype} part"
    return str(body.get_content())
