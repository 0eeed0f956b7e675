"""Serves the static demo site (site/) for `make run`, on its own origin.

The pages must know where the API is, also with JavaScript off (the plain form's action),
so the server fills tokens in every .html file:

* %API_URL% and %SITE_URL% — where the API and the site are;
* %INQUIRY% — the `?inquiry=` query parameter when it is a lead id (a 26-character ULID),
  else empty: the thanks page a plain form post is redirected to shows the reference
  without JavaScript.

It also serves /config.js (window.VIGOR = {api, site}) for the scripts, and sends a
Content-Security-Policy that allows scripts and styles from the site only and network
calls and form posts to the API only.

A request path that is not ASCII, not UTF-8 once percent-decoded, or holds a control
character (NUL made the file lookup raise and the connection drop) is answered 400; every
error is a short plain-text line.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from chalicelib.ids import is_id
from devtools.api_server import LISTEN_BACKLOG

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def path_problem(target: str) -> str | None:
    """Why the path of a request target cannot name a file of the site, or None."""
    path = urlsplit(target).path
    if not path.isascii():
        return "the path must be ASCII (percent-encode the rest)"
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        return "the path is not UTF-8 once percent-decoded"
    if _CONTROL.search(decoded):
        return "the path holds a control character"
    return None


def inquiry_reference(query: str) -> str:
    """The `inquiry` parameter of a query string if it is a lead id, else ""."""
    values = parse_qs(query, keep_blank_values=True).get("inquiry") or [""]
    value = values[0].strip().upper()
    return html.escape(value) if is_id(value) else ""


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    urls: Mapping[str, str] = {}
    error_message_format = "%(code)d %(message)s: %(explain)s\n"
    error_content_type = "text/plain; charset=utf-8"

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False  # http.server has answered
        problem = path_problem(self.path)
        if problem is not None:
            self.send_error(400, "Bad Request", problem)
            return False
        return True

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        if path == "/config.js":
            self._send(
                "application/javascript; charset=utf-8",
                f"window.VIGOR = {json.dumps(dict(self.urls))};\n".encode(),
            )
            return
        if path.endswith("/"):
            path += "index.html"
        if path.endswith(".html"):
            file = Path(self.translate_path(path))
            if file.is_file():
                text = file.read_text(encoding="utf-8")
                for key, value in self.urls.items():
                    text = text.replace(f"%{key.upper()}_URL%", value)
                text = text.replace("%INQUIRY%", inquiry_reference(parts.query))
                self._send(
                    "text/html; charset=utf-8",
                    text.encode("utf-8"),
                    {"Content-Security-Policy": self._content_security_policy()},
                )
                return
        super().do_GET()

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(404, "File not found")  # no directory listings
        return None

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def _content_security_policy(self) -> str:
        api = self.urls.get("api", "")
        return "; ".join(
            [
                "default-src 'self'",
                f"connect-src 'self' {api}".strip(),
                f"form-action 'self' {api}".strip(),
                "img-src 'self' data:",
                "base-uri 'none'",
                "frame-ancestors 'none'",
            ]
        )

    def _send(
        self, content_type: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def site_server(
    directory: Path, host: str, port: int, urls: Mapping[str, str]
) -> http.server.ThreadingHTTPServer:
    """`urls` ({"api": ..., "site": ...}) may be filled after the server starts."""
    handler = functools.partial(
        type("BoundSiteHandler", (SiteHandler,), {"urls": urls}), directory=str(directory)
    )
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.socket.listen(LISTEN_BACKLOG)  # socketserver's 5 resets connections in a burst
    return server
