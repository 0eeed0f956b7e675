"""POST /inquiries: parse and validate, hand the lead to the service, shape the answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chalice.app import Blueprint, Request, Response

from chalicelib.http import error_response, header, json_response

if TYPE_CHECKING:
    from chalicelib.inquiries.fields import Submission

# Chalice itself refuses content types not listed here (415, reshaped by the middleware).
# The inquiry modules are imported by the handler, so GET routes never load them.
ACCEPTED_TYPES = ["application/json", "application/x-www-form-urlencoded"]
MAX_IDEMPOTENCY_KEY = 255


def inquiries_blueprint(runtime: Any) -> Blueprint:
    routes = Blueprint(__name__)

    @routes.route("/inquiries", methods=["POST"], content_types=ACCEPTED_TYPES)
    def submit() -> Response:
        return handle_submission(runtime, routes.current_request)

    return routes


def handle_submission(runtime: Any, request: Request) -> Response:
    from chalicelib.inquiries.fields import (
        TURNSTILE_FIELD,
        BadRequest,
        Invalid,
        parse_body,
        validate,
    )
    from chalicelib.inquiries.service import IdempotencyConflict, Unavailable
    from chalicelib.inquiries.store import RateLimited
    from chalicelib.origins import origin_allowed

    settings = runtime.settings
    origin = header(request, "Origin")
    # A browser always sends Origin with a POST: a page on another site (or a sandboxed
    # one, "null") must not submit leads through its visitors' browsers. No Origin at all
    # is a server or curl, which CORS does not govern anyway.
    if origin is not None and not origin_allowed(origin, settings.allowed_origins):
        return error_response(
            403, "origin_not_allowed", "Inquiries are accepted only from the company's own site."
        )
    try:
        submission = parse_body(header(request, "Content-Type"), _raw_body(request))
    except BadRequest as exc:
        return error_response(exc.status, exc.code, exc.message)
    idempotency_key = header(request, "Idempotency-Key")
    if idempotency_key is not None and not _valid_key(idempotency_key):
        return error_response(
            400,
            "invalid_idempotency_key",
            f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters.",
        )
    try:
        inquiry = validate(
            submission,
            header(request, "Accept-Language"),
            settings.allowed_origins,
            runtime.check_email,
        )
    except Invalid as exc:
        return error_response(422, "validation_failed", "Some fields need attention.", exc.fields)
    client_ip = _client_ip(request)
    # Any non-empty value, in any copy of the field, is a bot's.
    spam = submission.has_value(settings.honeypot_field)
    extra: dict[str, Any] = {}
    if settings.turnstile_secret:
        if idempotency_key is not None:
            # A retry carries the same single-use token: answer it before the captcha would.
            try:
                replayed = runtime.inquiries.replay(
                    inquiry, client_ip=client_ip, spam=spam, idempotency_key=idempotency_key
                )
            except IdempotencyConflict:
                return _key_reused()
            except Unavailable:
                return _unavailable()
            if replayed is not None:
                return _taken(submission.is_form, inquiry.redirect, replayed)
        verdict = _captcha(runtime, submission, client_ip)
        if verdict is False:
            return error_response(
                422,
                "validation_failed",
                "Some fields need attention.",
                {TURNSTILE_FIELD: "the anti-robot check failed; please try again"},
            )
        extra["captcha"] = "verified" if verdict else "unverified"
    try:
        lead_id = runtime.inquiries.submit(
            inquiry,
            client_ip=client_ip,
            spam=spam,
            idempotency_key=idempotency_key,
            extra=extra,
        )
    except RateLimited as exc:
        return error_response(
            429,
            "rate_limited",
            "Too many inquiries in a short time. Please try again later.",
            headers={"Retry-After": str(exc.retry_after)},
        )
    except IdempotencyConflict:
        return _key_reused()
    except Unavailable:
        return _unavailable()
    return _taken(submission.is_form, inquiry.redirect, lead_id)


def _taken(is_form: bool, redirect: str | None, lead_id: str) -> Response:
    if is_form and redirect:
        return Response(
            body="",
            status_code=303,
            headers={"Location": with_query(redirect, inquiry=lead_id), "X-Inquiry-Id": lead_id},
        )
    return json_response({"id": lead_id, "status": "received"}, 201, {"X-Inquiry-Id": lead_id})


def _key_reused() -> Response:
    return error_response(
        409,
        "idempotency_key_reused",
        "This Idempotency-Key was already used for a different inquiry.",
    )


def _unavailable() -> Response:
    return error_response(
        503,
        "service_unavailable",
        "We could not take your inquiry right now. Please try again in a few minutes"
        " or email us directly.",
        headers={"Retry-After": "120"},
    )


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(query + list(params.items()))))


def _raw_body(request: Request) -> bytes:
    body = request.raw_body
    return body.encode("utf-8") if isinstance(body, str) else body


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_IDEMPOTENCY_KEY and key.isascii() and key.isprintable()


def _client_ip(request: Request) -> str:
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def _captcha(runtime: Any, submission: Submission, client_ip: str) -> bool | None:
    from chalicelib.inquiries.captcha import VERIFY_URL, verify_turnstile
    from chalicelib.inquiries.fields import TURNSTILE_FIELD

    token = submission.values.get(TURNSTILE_FIELD)
    # Turnstile tokens are short ASCII: anything else is refused without asking Cloudflare.
    if not isinstance(token, str) or not token.strip() or len(token) > 2048:
        return False
    if not token.isascii() or not token.strip().isprintable():
        return False
    url = runtime.settings.turnstile_verify_url or VERIFY_URL
    return verify_turnstile(runtime.settings.turnstile_secret, token.strip(), client_ip, url)
