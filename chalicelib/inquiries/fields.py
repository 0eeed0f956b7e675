"""Turn a raw POST /inquiries body into a validated Inquiry, or say exactly what is wrong.

Parsing errors (the body cannot be read at all) are BadRequest (400); field problems are
collected into one Invalid (422) that names every bad field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from chalicelib.inquiries.submission import (
    JsonObject,
    Submission,
    clean_text,
    quantity_of,
)
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
    "incoterm": (20, False, False),
    "destination_port": (100, False, False),
    "whatsapp": (40, False, False),
    "wechat": (20, False, False),
    # the first-touch source (Inquiry.source), flat as the site sends it
    **{name: (200, False, False) for name in SOURCE_FIELDS},
    "referrer": (2000, False, False),
    "landing_page": (2000, False, False),
}
# Upload ids (POST /uploads): a JSON array, or the form field repeated.
ATTACHMENTS_FIELD = "attachments"
MAX_ATTACHMENTS = 5
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}\Z")
LOCALES = ("en", "zh")
# "=?" opens an RFC 2047 encoded-word: in a header, mail clients would decode it and show
# sales something other than what the visitor typed.
HEADER_FIELDS = ("name", "company", "country", "product")
INCOTERMS = ("EXW", "FCA", "FAS", "FOB", "CFR", "CIF", "CPT", "CIP", "DAP", "DPU", "DDP")  # 2020
# A number WhatsApp can reach: E.164 has at most 15 digits; the usual separators are fine.
_WHATSAPP = re.compile(r"\+?[0-9 ().-]+\Z")
# WeChat's own rule for a WeChat ID.
_WECHAT = re.compile(r"[A-Za-z][A-Za-z0-9_-]{5,19}\Z")


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
        value = JsonObject(items)
        if len(value) < len(items):  # a key given twice: with another value it is a 422
            seen: dict[str, Any] = {}
            for key, inner in items:
                if key in seen and seen[key] != inner:
                    value.repeated = (*value.repeated, key)
                seen[key] = inner
        return value

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
        if is_form and key == ATTACHMENTS_FIELD:  # repeated on purpose: one id each
            if value:
                values.setdefault(key, []).append(value)
                filled.add(key)
            continue
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
        text, problem = clean_text(raw, max_length, multi_line, name in HEADER_FIELDS)
        if problem is not None:
            errors[name] = problem
        else:
            clean[name] = text

    if "email" in clean:
        try:
            clean["email"] = check_email(clean["email"])
        except ValueError as exc:
            errors["email"] = str(exc)
    if "phone" in clean and not any(ch.isdigit() for ch in clean["phone"]):
        errors["phone"] = "must contain a phone number"
    if "incoterm" in clean:
        clean["incoterm"] = clean["incoterm"].upper()
        if clean["incoterm"] not in INCOTERMS:
            errors["incoterm"] = f"must be one of {', '.join(INCOTERMS)}"
    if "whatsapp" in clean and not (
        _WHATSAPP.match(clean["whatsapp"])
        and 7 <= sum(c.isdigit() for c in clean["whatsapp"]) <= 15
    ):
        errors["whatsapp"] = "must be a phone number of 7 to 15 digits (+, spaces, - . ( ) allowed)"
    if "wechat" in clean and not _WECHAT.match(clean["wechat"]):
        errors["wechat"] = (
            "must be a WeChat ID: 6 to 20 letters, digits, _ or -, starting with a letter"
        )
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
        quantity = quantity_of(values.get("quantity"))
        if isinstance(quantity, str):
            errors["quantity"] = quantity
        elif quantity is not None:
            clean["quantity"] = quantity
    if submission.has_rows():
        from chalicelib.inquiries.line_items import rows_of

        rows, row_errors = rows_of(submission)
        errors.update(row_errors)
        if rows:
            clean["items"] = rows
        if rows or row_errors:
            for name in ("product", "quantity"):  # one row or many, never both kinds
                if name in clean:
                    errors[name] = "cannot be sent with items (make it a row)"
    upload_ids = _upload_ids(values.get(ATTACHMENTS_FIELD), errors)
    if upload_ids:
        clean[ATTACHMENTS_FIELD] = upload_ids
    if errors:
        from chalicelib.inquiries.texts import in_locale

        # in the visitor's language: the inquiry's locale, else Accept-Language's
        locale = clean.get("locale") or locale_from_accept_language(accept_language)
        raise Invalid(in_locale(errors, locale))
    return Inquiry(**clean)


def _upload_ids(raw: Any, errors: dict[str, str]) -> tuple[str, ...]:
    """The upload ids as sent (their files are checked by the service), or () with the
    problem recorded in `errors`."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        errors[ATTACHMENTS_FIELD] = "must be a list of upload ids"
        return ()
    if len(raw) > MAX_ATTACHMENTS:
        errors[ATTACHMENTS_FIELD] = f"must be at most {MAX_ATTACHMENTS} files"
        return ()
    for index, upload_id in enumerate(raw):
        if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
            errors[f"{ATTACHMENTS_FIELD}[{index}]"] = "must be an upload id from POST /uploads"
    return tuple(raw) if not any(k.startswith(ATTACHMENTS_FIELD) for k in errors) else ()


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
