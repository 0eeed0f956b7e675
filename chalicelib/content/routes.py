"""GET /contact, /news/categories, /news, /news/{slug}: parse, call the repository, shape."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib.content import is_cursor_shaped, is_slug
from chalicelib.http import cacheable_response, error_response

if TYPE_CHECKING:
    from chalicelib.runtime import Runtime

# The repository (and boto3's DynamoDB type helpers) load with the first request, not at
# import: cold start is paid by every new Lambda instance before it can answer anything.

NEWS_MAX_AGE = 60
CONTACT_MAX_AGE = 300
DEFAULT_LIMIT = 10
MAX_LIMIT = 50
# A GET has no body, so its Content-Type means nothing: without this Chalice would answer
# any type but application/json with a 415 that the GET routes do not document.
ANY_CONTENT_TYPE = ["*/*"]


def content_blueprint(runtime: Runtime) -> Blueprint:
    routes = Blueprint(__name__)

    @routes.route("/contact", methods=["GET"], content_types=ANY_CONTENT_TYPE)
    def contact() -> Response:
        block = runtime.content.contact()
        if block is None:
            return error_response(404, "not_found", "The contact block has not been published.")
        return cacheable_response(routes.current_request, block, CONTACT_MAX_AGE)

    @routes.route("/news/categories", methods=["GET"], content_types=ANY_CONTENT_TYPE)
    def categories() -> Response:
        items = runtime.content.categories()
        return cacheable_response(routes.current_request, {"items": items}, NEWS_MAX_AGE)

    @routes.route("/news", methods=["GET"], content_types=ANY_CONTENT_TYPE)
    def news() -> Response:
        params = dict(routes.current_request.query_params or {})
        problems: dict[str, str] = {}
        limit = _limit(params.get("limit"), problems)
        # Every key-bearing parameter is checked here, before any AWS call: DynamoDB answers
        # an over-long key with a ValidationException (a 500), not with "nothing found".
        category = params.get("category") or None
        if category is not None and not is_slug(category):
            problems["category"] = "is not a known category"
        cursor = params.get("cursor") or None
        if cursor is not None and not is_cursor_shaped(cursor):
            problems["cursor"] = "is not a cursor this API gave out"
        if problems:
            return _bad_parameters(problems)
        from chalicelib.content.repository import InvalidCursor, UnknownCategory

        try:
            page = runtime.content.news(limit, cursor, category)
        except InvalidCursor:
            return _bad_parameters({"cursor": "is not a cursor this API gave out"})
        except UnknownCategory:
            return _bad_parameters({"category": "is not a known category"})
        body = {"items": page.items, "next_cursor": page.next_cursor}
        return cacheable_response(routes.current_request, body, NEWS_MAX_AGE)

    @routes.route("/news/{slug}", methods=["GET"], content_types=ANY_CONTENT_TYPE)
    def article(slug: str) -> Response:
        found = runtime.content.article(slug) if is_slug(slug) else None
        if found is None:
            return error_response(404, "not_found", f"No article is published as {slug!r}.")
        return cacheable_response(routes.current_request, found, NEWS_MAX_AGE)

    return routes


def _limit(raw: str | None, problems: dict[str, str]) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= MAX_LIMIT:
        return int(raw)
    problems["limit"] = f"must be a whole number from 1 to {MAX_LIMIT}"
    return DEFAULT_LIMIT


def _bad_parameters(problems: dict[str, str]) -> Response:
    return error_response(
        400, "invalid_parameter", "Some query parameters are not valid.", problems
    )
