"""The API server of `make run`: `chalice local` (chalice.local), with a front door that
chalice local lacks (API Gateway answers such requests itself, the function never sees them).

chalice local reads `int(Content-Length)` bytes: a header that is not a number raised in the
server thread (a traceback in the console, the connection dropped), a huge number made it
try to allocate that much. Here every request body is checked before chalice local sees the
request, and refused in the API's error shape (README), with the connection closed since
the body is left unread:

* Content-Length not a plain decimal number, or two different ones -> 400 `bad_request`;
* a body over MAX_REQUEST_BODY_BYTES -> 413 `body_too_large`, without reading it;
* Transfer-Encoding (chunked; chalice local would ignore the body) -> 411 `length_required`.
"""

from __future__ import annotations

import functools
import json
import re
from email.message import Message
from typing import Any, ClassVar

from chalice.app import Chalice
from chalice.config import Config
from chalice.local import ChaliceRequestHandler, LocalDevServer, create_local_server

# Twice POST /inquiries' own 64 KiB limit: a body up to here reaches the app, which answers
# the documented 413 itself; beyond it the server refuses without reading (API Gateway's
# own limit is 10 MB, far more than a laptop demo needs to buffer).
MAX_REQUEST_BODY_BYTES = 128 * 1024
_DECIMAL = re.compile(r"[0-9]+")


def body_refusal(headers: Message) -> tuple[int, str, str] | None:
    """(status, code, message) when the request's body framing is unacceptable, else None."""
    if headers.get("Transfer-Encoding") is not None:
        return (
            411,
            "length_required",
            "Send the body with a Content-Length header (no Transfer-Encoding).",
        )
    values = {str(value).strip(" \t") for value in headers.get_all("Content-Length") or []}
    if not values:
        return None
    if len(values) > 1 or not all(_DECIMAL.fullmatch(value) for value in values):
        return 400, "bad_request", "Content-Length must be one whole number of bytes."
    digits = values.pop().lstrip("0") or "0"
    if len(digits) > len(str(MAX_REQUEST_BODY_BYTES)) or int(digits) > MAX_REQUEST_BODY_BYTES:
        return (
            413,
            "body_too_large",
            f"The request body is larger than the local server accepts"
            f" ({MAX_REQUEST_BODY_BYTES} bytes).",
        )
    return None


class ApiRequestHandler(ChaliceRequestHandler):
    """chalice local's handler, refusing bad body framing first (see the module docstring)."""

    quiet: ClassVar[bool] = False  # no access-log line per request (tests, bench)

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False  # http.server has answered (400, 431, 505, ...)
        refusal = body_refusal(self.headers)
        if refusal is None:
            return True
        self._refuse(*refusal)
        return False

    def _refuse(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": {"code": code, "message": message}}).encode("utf-8")
        self.close_connection = True  # the body, if any, is still in the socket
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(format, *args)


class _QuietApiRequestHandler(ApiRequestHandler):
    quiet = True


LISTEN_BACKLOG = 128


def api_server(app: Chalice, config: Config, host: str, port: int, quiet: bool) -> LocalDevServer:
    """`chalice local`'s server for `app` on host:port (0: a free port), not yet serving."""
    server = create_local_server(app, config, host, port)
    handler = _QuietApiRequestHandler if quiet else ApiRequestHandler
    server.server.RequestHandlerClass = functools.partial(
        handler, app_object=server.app_object, config=config
    )
    # socketserver listens with a backlog of 5: a burst of concurrent clients (the load
    # test's 20, a browser's parallel requests) on a busy machine then sees connections
    # reset. Listening again widens the queue of the already bound socket.
    server.server.socket.listen(LISTEN_BACKLOG)
    return server
