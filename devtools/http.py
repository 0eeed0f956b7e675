"""A tiny HTTP client (stdlib urllib) for the live tests and the bench."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 303 is an answer to look at, not to follow


_OPENER = urllib.request.build_opener(_NoRedirects)


def request(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Answer:
    prepared = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _OPENER.open(prepared, timeout=timeout) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Answer(error.code, dict(error.headers), error.read())


def post_json(base_url: str, fields: dict[str, Any], **headers: str) -> Answer:
    return request(
        "POST",
        f"{base_url}/inquiries",
        json.dumps(fields).encode("utf-8"),
        {"Content-Type": "application/json", **headers},
    )


def buyer(number: int, **fields: Any) -> dict[str, Any]:
    """A plausible inquiry; each number has its own email address."""
    return {
        "name": f"Buyer {number}",
        "email": f"buyer{number}@example.com",
        "message": f"Please quote 200 sets of brake pads (inquiry {number}).",
        "company": "Autoteile Nord GmbH",
        "country": "Germany",
        "product": "Brake pads 04465-33450",
        "quantity": 200,
        **fields,
    }
