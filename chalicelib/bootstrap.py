"""Builds the Chalice app: blueprints, CORS preflights, the middleware, the retry schedule."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from chalice.app import Chalice, CloudWatchEvent, Rate, Request, Response

from chalicelib.actions.routes import actions_blueprint
from chalicelib.attachments.routes import attachments_blueprint
from chalicelib.content.routes import content_blueprint
from chalicelib.http import Cors, error_response, rewrite_chalice_error
from chalicelib.inquiries.routes import inquiries_blueprint
from chalicelib.metrics import emit
from chalicelib.runtime import Runtime

APP_NAME = "vigor-leads"
# path -> the methods a browser may ask for in a CORS preflight
PUBLIC_PATHS = {
    "/contact": "GET",
    "/news": "GET",
    "/news/categories": "GET",
    "/news/{slug}": "GET",
    "/inquiries": "POST",
    "/uploads": "POST",
}
RETRY_EVERY_MINUTES = 5
SWEEP_BUDGET_SECONDS = 24.0  # of the function's 30 s: the last chat alert's 2 s timeouts fit
request_log = logging.getLogger("vigor_leads.requests")


def create_app(runtime: Runtime | None = None) -> Chalice:
    runtime = runtime or Runtime.from_environment()
    app = Chalice(app_name=APP_NAME)
    app.log.setLevel(logging.INFO)
    app.register_blueprint(content_blueprint(runtime))
    app.register_blueprint(inquiries_blueprint(runtime))
    app.register_blueprint(attachments_blueprint(runtime))
    app.register_blueprint(actions_blueprint(runtime))
    cors = Cors(runtime.settings.allowed_origins)
    for path, methods in PUBLIC_PATHS.items():
        name = "preflight_" + "".join(ch if ch.isalnum() else "_" for ch in path)
        # Any Content-Type: a preflight has no body, and a 415 here would be undocumented.
        app.route(path, methods=["OPTIONS"], name=name, content_types=["*/*"])(
            _preflight(app, cors, methods)
        )
    app.register_middleware(_http_middleware(cors, runtime.settings.leads_table), "http")

    @app.schedule(Rate(RETRY_EVERY_MINUTES, unit=Rate.MINUTES), name="retry_pending_leads")
    def retry_pending_leads(event: CloudWatchEvent) -> dict[str, int]:
        from chalicelib.inquiries.retry import pending_backlog, retry_pending

        started = time.monotonic()
        report = retry_pending(runtime.leads, runtime.inquiries, runtime.clock)
        # Every run reports what is left, 0 included: the backlog alarm treats a missing
        # report as a sweep that stopped running.
        pending, oldest_age = pending_backlog(runtime.leads, runtime.clock())
        emit(
            runtime.settings.leads_table,
            PendingLeads=pending,
            OldestPendingLeadAgeSeconds=oldest_age,
        )
        # Then the follow-ups (chat alerts, reminders, the daily digest), in what is left
        # of the function's 30 s: one function, one schedule, one error alarm for all sweeps.
        from chalicelib.followup.sweeps import run_follow_ups

        follow_ups = run_follow_ups(runtime, stop_at=started + SWEEP_BUDGET_SECONDS)
        return {**report.__dict__, **follow_ups}

    return app


def _preflight(app: Chalice, cors: Cors, methods: str) -> Callable[..., Response]:
    def preflight(**_: str) -> Response:
        assert app.current_request is not None
        return cors.preflight(app.current_request, methods)

    return preflight


def _http_middleware(
    cors: Cors, leads_table: str
) -> Callable[[Request, Callable[[Request], Response]], Response]:
    def middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
        started = time.perf_counter()
        try:
            response = get_response(request)
        except Exception:
            request_log.exception("unhandled error")
            response = error_response(500, "internal_error", "An internal error occurred.")
        response = rewrite_chalice_error(response)
        if request.method != "OPTIONS":
            cors.decorate(request, response)
        # One line per request, no personal data: route, status, latency, inquiry id.
        request_log.info(
            json.dumps(
                {
                    "route": (request.context or {}).get("resourcePath"),
                    "method": request.method,
                    "status": response.status_code,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                    "inquiry_id": response.headers.get("X-Inquiry-Id"),
                }
            )
        )
        if response.status_code >= 500:
            emit(leads_table, ServerErrors=1)  # the API 5xx alarm's metric; no AWS call
        return response

    return middleware
