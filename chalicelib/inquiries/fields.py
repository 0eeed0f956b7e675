"""Turn a raw POST /inquiries body into a validated Inquiry, or say exactly what is wrong.

Parsing errors (the body cannot be read at all) are BadRequest (400); field problems are
collected into one Invalid (422) that names every bad field.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from chalicelib.leads.model import SOURCE_FIELDS, Inquiry
from chalicelib.origins import ascii_url, url_on_allowed_origin

MAX_BODY_BYTES = 64 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"
JSON_MEDIA_TYPE = "application/json"
TURNSTILE_FIELD = "cf-turnstile-response"

# name -> (max length, required, multi-line)
TEXT_FIELDS: dict[str, tuple[int, bool, bool]] = {
    "name": (100, True, False),
    "email": (254, True, False),
    "message": (5000, True, True),
    "phone": (40, False, False),
    "company": (200, False, False),
    "country": (100, False, False),
    "product": (200, False, False),
    "page": (2000, False, False),
    "locale": (20, False, False),
    "redirect": (2000, False, False),
    # the first-touch source (Inquiry.source), flat as the site sends it
    **{name: (200, False, False) for name in SOURCE_FIELDS},
    "referrer": (2000, False, False),
    "landing_page": (2000, False, False),
}
MAX_QUANTITY = 10_000_000
LOCALES = ("en", "zh")
# C0 and C1 controls (NEL, U+0085, is a line break to str.splitlines and to mail headers),
# DEL and the Unicode line/paragraph separators: never in a one-line field.
_SINGLE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# In the message: newlines and tabs are fine, other control characters are not.
_MULTI_LINE_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# A lone surrogate (JSON "\ud800") is not a character: it cannot be stored or mailed.
_SURROGATE = re.compile("[\ud800-\udfff]")
# "=?" opens an RFC 2047 encoded-word: in a header, mail clients would decode it and show
# sales something other than what the visitor typed.
HEADER_FIELDS = ("name", "company", "country", "product")
MAX_DIGITS = 9


class BadRequest(ValueError):
    """The body cannot be read: (status, code, message)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Invalid(ValueError):
    """One or more fields are wrong: field name -> what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class Submission:
    """What the visitor sent, parsed but not yet validated."""

    values: dict[str, Any]
    is_form: bool
    duplicates: tuple[str, ...] = field(default=())
    # Fields with a non-empty value in any copy: a bot that fills the honeypot and repeats
    # it empty (`website=x&website=`) is still a bot.
    filled: frozenset[str] = field(default=frozenset())

    def has_value(self, name: str) -> bool:
        return name in self.filled


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    if not content_type:
        return "", {}
    kind, _, rest = content_type.partition(";")
    params = {}
    for part in rest.split(";"):
        key, _, value = part.partition("=")
        if key.strip():
            params[key.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), params


def parse_body(content_type: str | None, body: bytes | None) -> Submission:
    kind, params = media_type(content_type)
    if kind not in (JSON_MEDIA_TYPE, FORM_TYPE):
        raise BadRequest(
            415,
            "unsupported_media_type",
            "Send the inquiry as application/json or application/x-www-form-urlencoded.",
        )
    body = body or b""
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(
            413, "body_too_large", f"The request body is larger than {MAX_BODY_BYTES} bytes."
        )
    charset = params.get("charset", "utf-8")
    if charset not in ("utf-8", "utf8"):
        raise BadRequest(400, "bad_encoding", "The body must be encoded as UTF-8.")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(400, "bad_encoding", "The body is not valid UTF-8.") from exc
    if kind == JSON_MEDIA_TYPE:
        return _parse_json(text)
    return _parse_form(text)


def _parse_json(text: str) -> Submission:
    objects: list[list[tuple[str, Any]]] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        objects.append(items)  # inner objects first: the body's own object comes last
        return dict(items)

    try:
        values = json.loads(text, object_pairs_hook=pairs) if text.strip() else None
    except (ValueError, RecursionError) as exc:
        raise BadRequest(400, "malformed_json", "The body is not valid JSON.") from exc
    if not isinstance(values, dict):
        raise BadRequest(400, "not_an_object", "The JSON body must be an object of fields.")
    return _submission(objects[-1], is_form=False)


def _parse_form(text: str) -> Submission:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(400, "bad_encoding", "The form body is not valid UTF-8.") from exc
    return _submission(pairs, is_form=True)


def _submission(pairs: list[tuple[str, Any]], is_form: bool) -> Submission:
    """Last copy wins; a field repeated with another value is flagged for a 422."""
    values: dict[str, Any] = {}
    duplicates: list[str] = []
    filled: set[str] = set()
    for key, value in pairs:
        if key in values and values[key] != value:
            duplicates.append(key)
        values[key] = value
        if value is not None and value != "":
            filled.add(key)
    return Submission(values, is_form, tuple(dict.fromkeys(duplicates)), frozenset(filled))


def validate(
    submission: Submission,
    accept_language: str | None,
    allowed_origins: tuple[str, ...],
    check_email: Callable[[str], str],
) -> Inquiry:
    """Every bad field is named in one Invalid, in the visitor's language (texts.py).
    `check_email` returns the normalized address or raises ValueError with a sentence."""
    values = submission.values
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name in submission.duplicates:
        if name in TEXT_FIELDS or name == "quantity":
            errors[name] = "was given more than once"
    for name, (max_length, required, multi_line) in TEXT_FIELDS.items():
        if name in errors:
            continue
        raw = values.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                errors[name] = "is required"
            continue
        if not isinstance(raw, str):
            errors[name] = "must be a string"
            continue
        text = unicodedata.normalize("NFC", raw.strip())
        forbidden = _MULTI_LINE_FORBIDDEN if multi_line else _SINGLE_LINE_FORBIDDEN
        if _SURROGATE.search(text):
            errors[name] = "contains characters that are not valid text"
        elif forbidden.search(text):
            errors[name] = (
                "must not contain control characters"
                if multi_line
                else "must be a single line (no line breaks or control characters)"
            )
        elif len(text) > max_length:
            errors[name] = f"must be at most {max_length} characters"
        elif name in HEADER_FIELDS and "=?" in text:
            errors[name] = "must not contain the characters =?"
        else:
            clean[name] = text

    if "email" in clean:
        try:
            clean["email"] = check_email(clean["email"])
        except ValueError as exc:
            errors["email"] = str(exc)
    if "phone" in clean and not any(ch.isdigit() for ch in clean["phone"]):
        errors["phone"] = "must contain a phone number"
    for name in ("page", "referrer", "landing_page"):
        if name in clean and not _is_web_url(clean[name]):
            errors[name] = "must be an http(s) URL"
    source = {name: clean.pop(name) for name in SOURCE_FIELDS if name in clean}
    if source:
        clean["source"] = source
    if "redirect" in clean:
        if url_on_allowed_origin(clean["redirect"], allowed_origins):
            clean["redirect"] = ascii_url(clean["redirect"])  # a Location header is ASCII
        else:
            errors["redirect"] = "must be a URL on the company's own site"
    if "locale" in clean:
        locale = _locale_of(clean["locale"])
        if locale is None:
            errors["locale"] = "must be en or zh"
        else:
            clean["locale"] = locale
    else:
        clean["locale"] = locale_from_accept_language(accept_language)
    if "quantity" not in errors:
        quantity = _quantity(values.get("quantity"))
        if isinstance(quantity, str):
            errors["quantity"] = quantity
        elif quantity is not None:
            clean["quantity"] = quantity
    if errors:
        from chalicelib.inquiries.texts import in_locale

        # in the visitor's language: the inquiry's locale, else Accept-Language's
        locale = clean.get("locale") or locale_from_accept_language(accept_language)
        raise Invalid(in_locale(errors, locale))
    return Inquiry(**clean)


def _quantity(raw: Any) -> int | str | None:
    """The quantity, None when absent, or a sentence saying what is wrong."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    message = f"must be a whole number from 1 to {MAX_QUANTITY:,}"
    if isinstance(raw, bool):
        return message
    if isinstance(raw, int):
        value = raw
    elif (
        isinstance(raw, str)
        and raw.strip().isascii()
        and raw.strip().isdigit()
        and len(raw.strip().lstrip("0")) <= MAX_DIGITS  # int() of huge strings is refused
    ):
        value = int(raw.strip())
    else:
        return message
    return value if 1 <= value <= MAX_QUANTITY else message


def _is_web_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 literal)
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _locale_of(tag: str) -> str | None:
    primary = tag.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in LOCALES else None


def locale_from_accept_language(header: str | None) -> str:
    """The best of en/zh by the header's q-values; English when nothing matches."""
    best, best_q = "en", 0.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        locale = _locale_of(tag)
        if locale is None:
            continue
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        if q > best_q:
            best, best_q = locale, q
    return best
