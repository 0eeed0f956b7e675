"""Serves the static demo site (site/) for `make run`, on its own origin.

The pages must know where the API is, also with JavaScript off (the plain form's action),
so the server fills two tokens in every .html file — %API_URL% and %SITE_URL% — and
serves /config.js (window.VIGOR = {api, site}) for the scripts.
"""

from __future__ import annotations

import functools
import http.server
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    urls: Mapping[str, str] = {}

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
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
                self._send("text/html; charset=utf-8", text.encode("utf-8"))
                return
        super().do_GET()

    def _send(self, content_type: str, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
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
    return http.server.ThreadingHTTPServer((host, port), handler)
