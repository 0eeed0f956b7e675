"""HTTP shapes shared by every route: JSON bodies, the one error shape, caching, CORS."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from chalice.app import Request, Response

from chalicelib.origins import origin_allowed

JSON_CONTENT_TYPE = "application/json; charset=utf-8"

# Chalice answers some requests itself (415, 404, 405, ...) with {"Code", "Message"}.
# The middleware rewrites those into the documented error shape with these codes.
_CHALICE_CODES = {
    "BadRequestError": "bad_request",
    "UnauthorizedError": "unauthorized",
    "ForbiddenError": "forbidden",
    "NotFoundError": "not_found",
    "MethodNotAllowedError": "method_not_allowed",
    "RequestTimeoutError": "timeout",
    "ConflictError": "conflict",
    "UnprocessableEntityError": "unprocessable",
    "TooManyRequestsError": "rate_limited",
    "UnsupportedMediaType": "unsupported_media_type",
    "InternalServerError": "internal_error",
}


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        headers={"Content-Type": JSON_CONTENT_TYPE, **(headers or {})},
    )


def error_response(
    status: int,
    code: str,
    message: str,
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = dict(fields)
    return json_response({"error": error}, status, {"Cache-Control": "no-store", **(headers or {})})


def cacheable_response(request: Request, body: Any, max_age: int) -> Response:
    """A public GET answer with Cache-Control and a strong ETag; 304 when it matches."""
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    etag = '"' + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32] + '"'
    headers: dict[str, str | list[str]] = {
        "Cache-Control": f"public, max-age={max_age}",
        "ETag": etag,
    }
    if _etag_matches(request.headers.get("If-None-Match"), etag):
        return Response(body="", status_code=304, headers=headers)
    return Response(
        body=payload, status_code=200, headers={"Content-Type": JSON_CONTENT_TYPE, **headers}
    )


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [tag.strip() for tag in if_none_match.split(",")]
    # Weak comparison, as RFC 9110 requires for If-None-Match.
    return "*" in candidates or any(tag.removeprefix("W/") == etag for tag in candidates)


class Cors:
    """CORS for a list of allowed origins (Chalice's own CORSConfig takes only one)."""

    ALLOW_HEADERS = "Content-Type, Idempotency-Key, Accept-Language"
    MAX_AGE = "600"

    def __init__(self, allowed_origins: tuple[str, ...]) -> None:
        self._allowed = allowed_origins

    def allows(self, origin: str | None) -> bool:
        return origin_allowed(origin, self._allowed)

    def preflight(self, request: Request, methods: str) -> Response:
        origin = request.headers.get("Origin")
        if not self.allows(origin):
            return error_response(
                403, "origin_not_allowed", "This origin is not allowed to call the API."
            )
        return Response(
            body="",
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin or "",
                "Access-Control-Allow-Methods": methods,
                "Access-Control-Allow-Headers": self.ALLOW_HEADERS,
                "Access-Control-Max-Age": self.MAX_AGE,
                "Vary": "Origin",
            },
        )

    def decorate(self, request: Request, response: Response) -> None:
        """Add the allow headers to an actual (non-preflight) response."""
        vary = response.headers.get("Vary")
        response.headers["Vary"] = "Origin" if not vary else f"{vary}, Origin"
        origin = request.headers.get("Origin")
        if self.allows(origin):
            response.headers["Access-Control-Allow-Origin"] = origin or ""
            response.headers["Access-Control-Expose-Headers"] = "ETag, Retry-After, Location"


def rewrite_chalice_error(response: Response) -> Response:
    """Give Chalice's own {"Code", "Message"} errors (415, 405, 500, ...) the documented shape."""
    body = response.body
    if response.status_code < 400:
        return response
    if isinstance(body, str) and body.startswith('{"Code"'):
        try:
            body = json.loads(body)
        except ValueError:
            return response
    if not isinstance(body, dict) or "Code" not in body:
        return response
    code = _CHALICE_CODES.get(str(body["Code"]), "error")
    message = str(body.get("Message") or "The request could not be handled.")
    if code == "internal_error":
        message = "An internal error occurred. Please try again later."
    rewritten = error_response(response.status_code, code, message)
    for name, value in response.headers.items():
        if name.lower() != "content-type":
            rewritten.headers.setdefault(name, value)
    return rewritten
