"""GET /attachments/{lead_id}/{n}?exp=&sig=: a download link from the sales email, valid as
long as the lead is kept (exp is the lead's expiry) and signed with the current or the
previous LINK_KEY (chalicelib/signing.py). A valid link is a 302 to a presigned S3 GET of a
few minutes, so the link itself never grows stale with the credentials that sign S3 URLs.
No AWS call (the key: one SSM read per instance)."""

from __future__ import annotations

from chalice.app import Request, Response

from chalicelib.attachments.kinds import MAX_FILES
from chalicelib.http import error_response
from chalicelib.ids import is_id
from chalicelib.runtime import Runtime


def handle_download(runtime: Runtime, request: Request, lead_id: str, number: str) -> Response:
    files = runtime.attachments
    query: dict[str, str] = dict(request.query_params or {})
    expires, signature = query.get("exp", ""), query.get("sig", "")
    if (
        files is None
        or not is_id(lead_id)
        or not (number.isascii() and number.isdigit() and 1 <= int(number) <= MAX_FILES)
    ):
        return error_response(404, "not_found", "There is no such file.")
    if not (expires.isascii() and expires.isdigit() and len(expires) <= 12) or not signature:
        return error_response(403, "link_invalid", "This download link is not valid.")
    if int(expires) < runtime.clock():
        return error_response(
            410, "link_expired", "This download link has expired with its inquiry."
        )
    from chalicelib.attachments.files import FilesUnavailable

    try:
        url = files.download(lead_id, int(number), int(expires), signature)
    except FilesUnavailable:  # the key could not be read: the link may well be good
        return error_response(
            503, "service_unavailable", "Please try again in a minute.", None, {"Retry-After": "60"}
        )
    if url is None:
        return error_response(403, "link_invalid", "This download link is not valid.")
    return Response(
        body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store"}
    )
