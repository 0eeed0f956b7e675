"""POST /inquiries: check the origin, parse and validate, hand the lead to the service,
shape the answer. Every refusal the domain raises becomes HTTP in one place (`refusal`)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chalice.app import Blueprint, Request, Response

from chalicelib.http import error_response, json_response

if TYPE_CHECKING:
    from chalicelib.runtime import Runtime

# Chalice itself refuses content types not listed here (415, reshaped by the middleware).
# The inquiry modules are imported by the handler, so GET routes never load them.
ACCEPTED_TYPES = ["application/json", "application/x-www-form-urlencoded"]
MAX_IDEMPOTENCY_KEY = 255


def inquiries_blueprint(runtime: Runtime) -> Blueprint:
    routes = Blueprint(__name__)

    @routes.route("/inquiries", methods=["POST"], content_types=ACCEPTED_TYPES)
    def submit() -> Response:
        return handle_submission(runtime, routes.current_request)

    return routes


def handle_submission(runtime: Runtime, request: Request) -> Response:
    from chalicelib.inquiries.fields import TURNSTILE_FIELD, parse_body, validate
    from chalicelib.inquiries.service import Submitted
    from chalicelib.origins import origin_allowed

    settings = runtime.settings
    headers = request.headers
    # A browser always sends Origin with a POST: a page on another site (or a sandboxed
    # one, "null") must not submit leads through its visitors' browsers. No Origin at all
    # is a server or curl, which CORS does not govern anyway.
    origin = headers.get("Origin")
    if origin is not None and not origin_allowed(origin, settings.allowed_origins):
        return error_response(
            403, "origin_not_allowed", "Inquiries are accepted only from the company's own site."
        )
    idempotency_key = headers.get("Idempotency-Key")
    try:
        submission = parse_body(headers.get("Content-Type"), _raw_body(request))
        if idempotency_key is not None and not _valid_key(idempotency_key):
            return error_response(
                400,
                "invalid_idempotency_key",
                f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters.",
            )
        inquiry = validate(
            submission,
            headers.get("Accept-Language"),
            settings.allowed_origins,
            runtime.check_email,
        )
        lead_id = runtime.inquiries.submit(
            inquiry,
            Submitted(
                client_ip=_client_ip(request),
                idempotency_key=idempotency_key,
                honeypot_filled=submission.has_value(settings.honeypot_field),
                captcha_token=submission.values.get(TURNSTILE_FIELD),
            ),
        )
    except Exception as exc:
        answer = refusal(exc)
        if answer is None:
            raise
        return answer
    if submission.is_form and inquiry.redirect:
        return Response(
            body="",
            status_code=303,
            headers={
                "Location": with_query(inquiry.redirect, inquiry=lead_id),
                "X-Inquiry-Id": lead_id,
            },
        )
    return json_response({"id": lead_id, "status": "received"}, 201, {"X-Inquiry-Id": lead_id})


def refusal(exc: Exception) -> Response | None:
    """The HTTP answer for each way the domain refuses a submission; None: not a refusal."""
    from chalicelib.inquiries.fields import TURNSTILE_FIELD, BadRequest, Invalid
    from chalicelib.inquiries.service import CaptchaFailed, IdempotencyConflict, Unavailable
    from chalicelib.leads.store import RateLimited

    if isinstance(exc, BadRequest):
        return error_response(exc.status, exc.code, exc.message)
    if isinstance(exc, Invalid):
        return error_response(422, "validation_failed", "Some fields need attention.", exc.fields)
    if isinstance(exc, CaptchaFailed):
        problem = {TURNSTILE_FIELD: "the anti-robot check failed; please try again"}
        return error_response(422, "validation_failed", "Some fields need attention.", problem)
    if isinstance(exc, RateLimited):
        return error_response(
            429,
            "rate_limited",
            "Too many inquiries in a short time. Please try again later.",
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, IdempotencyConflict):
        return error_response(
            409,
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different inquiry.",
        )
    if isinstance(exc, Unavailable):
        return error_response(
            503,
            "service_unavailable",
            "We could not take your inquiry right now. Please try again in a few minutes"
            " or email us directly.",
            headers={"Retry-After": "120"},
        )
    return None


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
