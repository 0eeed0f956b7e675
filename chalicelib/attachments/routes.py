"""POST /uploads (a presigned S3 POST for one file) and GET /attachments/{lead_id}/{n}
(a signed link in the sales email: a redirect to a fresh presigned GET). The handlers
import the attachment modules when called: importing this module loads none of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

if TYPE_CHECKING:
    from chalicelib.runtime import Runtime


def attachments_blueprint(runtime: Runtime) -> Blueprint:
    routes = Blueprint(__name__)

    @routes.route("/uploads", methods=["POST"], content_types=["application/json"])
    def upload() -> Response:
        from chalicelib.attachments.uploads import handle_upload

        return handle_upload(runtime, routes.current_request)

    @routes.route("/attachments/{lead_id}/{number}", methods=["GET"])
    def download(lead_id: str, number: str) -> Response:
        from chalicelib.attachments.downloads import handle_download

        return handle_download(runtime, routes.current_request, lead_id, number)

    return routes
