"""POST /uploads: a presigned S3 POST for one file, so its bytes go from the browser
straight to S3 (never through API Gateway or Lambda, whose 6-10 MB payload limits and
per-millisecond price file uploads would hit).

The declared name, type and size are checked against the allow-list (kinds.py); the object
key is the server's (`uploads/<id>`), never the file's name; the policy pins the size range,
the Content-Type, the Content-Disposition and the metadata, and lasts UPLOAD_SECONDS. The
file's real bytes are checked when the inquiry naming it is submitted (files.py).
Origin check, the honeypot and the per-IP rate limit are the inquiries' own (routes.py,
LeadsTable.count_request): one UpdateItem, and no other AWS call — signing is local.
"""

from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from typing import Any

from chalice.app import Request, Response

from chalicelib.attachments.files import client_tag, decoy_tag
from chalicelib.attachments.kinds import ALLOWED_EXTENSIONS, MAX_FILE_BYTES, kind_of, stored_type
from chalicelib.http import error_response, json_response
from chalicelib.runtime import Runtime

log = logging.getLogger(__name__)

UPLOAD_SECONDS = 600  # the presigned POST's life: pick a file, upload it, now
MAX_FILENAME = 255
# The name rides percent-encoded in the upload's metadata, and S3 refuses an upload whose
# metadata passes 2 KB (after this 201): 600 UTF-8 bytes are 1800 encoded, with room for
# the client tag. 255 characters of Chinese are 765 bytes.
MAX_FILENAME_BYTES = 600
# Controls, folders, and the explicit bidi controls (U+202E would show "x<U+202E>fdp.exe"
# ... as another name than the one whose extension was checked).
_FORBIDDEN_IN_NAME = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069/\\\\]")


def handle_upload(runtime: Runtime, request: Request) -> Response:
    from chalicelib.inquiries.fields import Invalid, locale_from_accept_language, parse_body
    from chalicelib.inquiries.routes import client_ip, foreign_origin, refusal
    from chalicelib.inquiries.texts import in_locale
    from chalicelib.leads.store import StoreUnavailable

    settings = runtime.settings
    uploads = runtime.uploads
    if uploads is None:
        return error_response(
            404,
            "uploads_not_enabled",
            "This site takes no file uploads: please email the files to us instead.",
        )
    refused = foreign_origin(request, settings)
    if refused is not None:
        return refused
    locale = locale_from_accept_language(request.headers.get("Accept-Language"))
    try:
        body = request.raw_body
        submission = parse_body(
            request.headers.get("Content-Type"),
            body.encode("utf-8") if isinstance(body, str) else body,
        )
        errors, filename, content_type, _ = declared(submission.values)
        if errors:
            raise Invalid(in_locale(errors, locale))
        client = client_ip(request)
        try:
            runtime.leads.count_request(client, settings.rate_limit_per_ip_per_hour)
        except StoreUnavailable as exc:  # the counter is down: a file slot costs little
            log.warning("upload rate counter unavailable (%s): upload allowed", exc)
    except Exception as exc:  # 400, 413, 415, 422, 429 as for inquiries (routes.refusal)
        answer = refusal(exc, locale)
        if answer is None:
            raise
        return answer
    # A bot that filled the honeypot gets an answer like anyone's, for an upload that can
    # never be attached (its client tag is random).
    spam = submission.has_value(settings.honeypot_field)
    upload_id = secrets.token_hex(16)
    post = uploads.presigned_post(
        upload_id,
        filename,
        content_type,
        decoy_tag() if spam else client_tag(client),
        MAX_FILE_BYTES,
        UPLOAD_SECONDS,
    )
    return json_response(
        {
            "id": upload_id,
            "upload": {"url": post["url"], "fields": post["fields"]},
            "expires_at": _expiration(post["fields"]),
            "max_bytes": MAX_FILE_BYTES,
        },
        201,
        {"Cache-Control": "no-store"},
    )


def declared(values: dict[str, Any]) -> tuple[dict[str, str], str, str, int]:
    """(errors by field, file name, content type to store, size) of a declaration."""
    errors: dict[str, str] = {}
    raw_name = values.get("filename")
    filename = ""
    if not isinstance(raw_name, str) or not raw_name.strip():
        errors["filename"] = "is required"
    else:
        filename = unicodedata.normalize("NFC", raw_name.strip())
        if _FORBIDDEN_IN_NAME.search(filename) or re.search("[\ud800-\udfff]", filename):
            errors["filename"] = "must be a file name (no folders, line breaks or controls)"
        elif len(filename) > MAX_FILENAME or len(filename.encode()) > MAX_FILENAME_BYTES:
            errors["filename"] = (
                f"must be at most {MAX_FILENAME} characters ({MAX_FILENAME_BYTES // 3} in Chinese)"
            )
        elif kind_of(filename) is None:
            errors["filename"] = "must be a file of a type we accept: " + ", ".join(
                ALLOWED_EXTENSIONS
            )
    raw_type = values.get("content_type", "")
    content_type = ""
    if raw_type is None:
        raw_type = ""
    if not isinstance(raw_type, str) or len(raw_type) > 255:
        errors["content_type"] = "must be a media type such as image/jpeg"
    elif "filename" not in errors:
        kind = kind_of(filename)
        stored = stored_type(kind, raw_type) if kind is not None else None
        if stored is None:
            errors["content_type"] = "does not match the file name's type"
        else:
            content_type = stored
    raw_size = values.get("size")
    size = 0
    if isinstance(raw_size, bool) or not isinstance(raw_size, int):
        errors["size"] = "must be the file's size in bytes (a whole number)"
    elif not 1 <= raw_size <= MAX_FILE_BYTES:
        errors["size"] = f"must be from 1 byte to {MAX_FILE_BYTES // 2**20} MB"
    else:
        size = raw_size
    return errors, filename, content_type, size


def _expiration(fields: dict[str, str]) -> str:
    """When the signed policy expires, as it says (botocore signs with the real clock)."""
    import base64
    import json

    expiration = str(json.loads(base64.b64decode(fields["policy"]))["expiration"])
    return expiration.split(".")[0].removesuffix("Z") + "Z"
