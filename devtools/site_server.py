"""Serves the built static site (`manage.py site build`, admin/site_build.py) for `make run`,
on its own origin, as a static host would, plus what a static host cannot do:

* the thanks page's reference: `<!--inquiry-->` becomes the `?inquiry=` query parameter when
  it is a lead id (a 26-character ULID), so it shows without JavaScript (on a static host
  site.js fills it in);
* /config.js (window.VIGOR = {api, site}) from the running service's addresses;
* a Content-Security-Policy that allows scripts and styles from the site only, network
  calls to the API and to the storage that takes the uploads (`uploads`), and form posts to
  the API only.

A path with no file is answered 404 with the site's 404 page (the Chinese one under /zh/),
as docs/site.md sets up CloudFront to do. A request path that is not ASCII, not UTF-8 once
percent-decoded, or holds a control character is answered 400 with a short plain-text line.
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


INQUIRY_MARKER = "<!--inquiry-->"  # admin/site_build.py writes it into thanks.html


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
                f"window.VIGOR = {json.dumps(self._config())};\n".encode(),
            )
            return
        if path.endswith("/"):
            path += "index.html"
        file = Path(self.translate_path(path))
        if file.is_dir() and not path.endswith("/"):
            super().do_GET()  # 301 to the folder's address with a slash
            return
        if not file.is_file():
            self._not_found(path)
            return
        if path.endswith(".html"):
            text = file.read_text(encoding="utf-8")
            text = text.replace(INQUIRY_MARKER, inquiry_reference(parts.query))
            self._send_html(200, text)
            return
        super().do_GET()

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self._not_found(self.path)  # no directory listings
        return None

    def _not_found(self, path: str) -> None:
        zh = path == "/zh" or path.startswith("/zh/")
        page = Path(self.translate_path("/zh/404.html" if zh else "/404.html"))
        if page.is_file():
            self._send_html(404, page.read_text(encoding="utf-8"))
        else:
            self.send_error(404, "File not found")

    def _send_html(self, status: int, text: str) -> None:
        self._send(
            "text/html; charset=utf-8",
            text.encode("utf-8"),
            {"Content-Security-Policy": self._content_security_policy()},
            status,
        )

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def _config(self) -> dict[str, str]:
        return {name: self.urls[name] for name in ("api", "site") if name in self.urls}

    def _content_security_policy(self) -> str:
        api = self.urls.get("api", "")
        uploads = self.urls.get("uploads", "")
        return "; ".join(
            [
                "default-src 'self'",
                f"connect-src 'self' {api} {uploads}".strip(),
                f"form-action 'self' {api}".strip(),
                "img-src 'self' data:",
                "base-uri 'none'",
                "frame-ancestors 'none'",
            ]
        )

    def _send(
        self,
        content_type: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        status: int = 200,
    ) -> None:
        self.send_response(status)
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
