"""POST /inquiries: check the origin, parse and validate, hand the lead to the service,
shape the answer. Every refusal the domain raises becomes HTTP in one place (`refusal`);
a plain form post from a browser (no JavaScript) gets it as a page in the visitor's
language instead of JSON (form_page.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chalice.app import Blueprint, Request, Response

from chalicelib.http import error_response, json_response

if TYPE_CHECKING:
    from chalicelib.inquiries.submission import Submission
    from chalicelib.runtime import Runtime
    from chalicelib.settings import Settings

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

    settings = runtime.settings
    headers = request.headers
    refused = foreign_origin(request, settings)
    if refused is not None:
        return _answer(request, settings, None, refused)
    idempotency_key = headers.get("Idempotency-Key")
    submission = None
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
                client_ip=client_ip(request),
                idempotency_key=idempotency_key,
                honeypot_filled=submission.has_value(settings.honeypot_field),
                captcha_token=submission.values.get(TURNSTILE_FIELD),
            ),
        )
    except Exception as exc:
        answer = refusal(exc, _locale(submission, headers.get("Accept-Language")))
        if answer is None:
            raise
        return _answer(request, settings, submission, answer)
    if submission.is_form and inquiry.redirect:
        return Response(
            body="",
            status_code=303,
            headers={
                "Location": with_query(inquiry.redirect, inquiry=lead_id),
                "X-Inquiry-Id": lead_id,
            },
        )
    if submission.is_form and _wants_html(request):
        from chalicelib.inquiries.form_page import received_page

        return received_page(inquiry.locale, lead_id, _back(submission, settings))
    return json_response({"id": lead_id, "status": "received"}, 201, {"X-Inquiry-Id": lead_id})


def foreign_origin(request: Request, settings: Settings) -> Response | None:
    """403 when a browser on another site posts (POST /inquiries, POST /uploads); None
    when the origin may. A browser always sends Origin with a POST: a page on another site
    (or a sandboxed one, "null") must not submit through its visitors' browsers. No Origin
    at all is a server or curl, which CORS does not govern anyway. The API's own origin is
    its form page (form_page.py) sending a corrected form again."""
    from chalicelib.origins import origin_allowed

    origin = request.headers.get("Origin")
    if (
        origin is None
        or origin_allowed(origin, settings.allowed_origins)
        or _own_origin(origin, request.headers.get("Host"))
    ):
        return None
    return error_response(
        403, "origin_not_allowed", "Inquiries are accepted only from the company's own site."
    )


def refusal(exc: Exception, locale: str = "en") -> Response | None:
    """The HTTP answer for each way the domain refuses a submission; None: not a refusal.
    Validation errors are in the visitor's `locale` (en or zh)."""
    from chalicelib.inquiries.fields import TURNSTILE_FIELD, BadRequest, Invalid
    from chalicelib.inquiries.service import CaptchaFailed, IdempotencyConflict, Unavailable
    from chalicelib.inquiries.texts import SUMMARY, in_locale
    from chalicelib.leads.store import RateLimited

    if isinstance(exc, BadRequest):
        return error_response(exc.status, exc.code, exc.message)
    if isinstance(exc, Invalid):  # its fields are in the locale already (fields.validate)
        return error_response(422, "validation_failed", SUMMARY[locale], exc.fields)
    if isinstance(exc, CaptchaFailed):
        problem = {TURNSTILE_FIELD: "the anti-robot check failed; please try again"}
        fields = in_locale(problem, locale)
        return error_response(422, "validation_failed", SUMMARY[locale], fields)
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


def _answer(
    request: Request, settings: Settings, submission: Submission | None, answer: Response
) -> Response:
    """`answer` as it is, or, for a browser's plain form post, as a page (form_page.py)."""
    if not _wants_html(request):
        return answer
    import json

    from chalicelib.inquiries import form_page

    locale = _locale(submission, request.headers.get("Accept-Language"))
    body = answer.body if isinstance(answer.body, str) else "{}"
    error: dict[str, Any] = json.loads(body).get("error") or {}
    back = _back(submission, settings)
    if submission is not None and answer.status_code == 422:
        honeypot = submission.values.get(settings.honeypot_field)
        return form_page.invalid_page(
            locale,
            dict(error.get("fields") or {}),
            submission.values,
            back,
            honeypot if isinstance(honeypot, str) else "",
            settings.allowed_origins,
        )
    return form_page.message_page(
        answer.status_code,
        str(error.get("code", "")),
        locale,
        str(error.get("message", "")),
        back,
        {k: str(v) for k, v in answer.headers.items() if k == "Retry-After"},
    )


def _wants_html(request: Request) -> bool:
    from chalicelib.inquiries.form_page import wants_html

    return wants_html(request.headers)


def _locale(submission: Submission | None, accept_language: str | None) -> str:
    """The visitor's language: the form's `locale` field, else Accept-Language's."""
    from chalicelib.inquiries.fields import locale_from_accept_language
    from chalicelib.inquiries.texts import locale_of

    value = submission.values.get("locale") if submission is not None else None
    chosen = locale_of(value) if isinstance(value, str) else None
    return chosen or locale_from_accept_language(accept_language)


def _back(submission: Submission | None, settings: Settings) -> str | None:
    """The page the form was on, when it is on the company's site: the way back."""
    from chalicelib.origins import url_on_allowed_origin

    page = submission.values.get("page") if submission is not None else None
    if isinstance(page, str) and url_on_allowed_origin(page, settings.allowed_origins):
        return page
    return None


def _own_origin(origin: str, host: str | None) -> bool:
    """An Origin naming this API's own host: its form page (form_page.py), sending again."""
    if not host:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.strip().lower()


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(query + list(params.items()))))


def _raw_body(request: Request) -> bytes:
    body = request.raw_body
    return body.encode("utf-8") if isinstance(body, str) else body


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_IDEMPOTENCY_KEY and key.isascii() and key.isprintable()


def client_ip(request: Request) -> str:
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")
