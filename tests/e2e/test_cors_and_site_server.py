"""The API refuses other origins; the site server fills its tokens safely."""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from devtools.site_server import inquiry_reference

EVIL = "http://evil.example"
READ_NEWS = """async (api) => {
  try { await fetch(api + "/news"); return "read"; } catch (error) { return error.name; }
}"""
POST_INQUIRY = """async (api) => {
  try {
    await fetch(api + "/inquiries", {
      method: "POST",
      headers: {"Content-Type": "application/json", "Idempotency-Key": "cors-test"},
      body: JSON.stringify({name: "Eve", email: "eve@example.com", message: "hi"}),
    });
    return "sent";
  } catch (error) { return error.name; }
}"""


def preflight(url: str, origin: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(
        url,
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,idempotency-key",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def get(url: str) -> tuple[str, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode("utf-8"), dict(response.headers)


def test_preflight_from_a_disallowed_origin_is_refused(service: Any) -> None:
    status, headers = preflight(f"{service.api_url}/inquiries", EVIL)

    assert status == 403
    assert "Access-Control-Allow-Origin" not in headers


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_preflight_from_the_demo_site_is_allowed(service: Any, host: str) -> None:
    origin = service.site_url.replace("127.0.0.1", host)

    status, headers = preflight(f"{service.api_url}/inquiries", origin)

    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == origin
    assert "Idempotency-Key" in headers["Access-Control-Allow-Headers"]


@pytest.fixture
def other_origin() -> Iterator[str]:
    """A page on an origin the API does not know (another loopback port)."""

    class Blank(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>elsewhere</title><p>elsewhere</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Blank)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_page_on_another_origin_cannot_use_the_api(
    page: Any, service: Any, other_origin: str
) -> None:
    page.goto(f"{other_origin}/")
    expect(page.locator("p")).to_have_text("elsewhere")

    assert page.evaluate(READ_NEWS, service.api_url) == "TypeError"
    assert page.evaluate(POST_INQUIRY, service.api_url) == "TypeError"

    page.goto(f"{service.site_url}/thanks.html")  # the same script on the site itself
    assert page.evaluate(READ_NEWS, service.api_url) == "read"


def test_site_pages_get_the_api_address_and_a_strict_policy(service: Any) -> None:
    page, headers = get(f"{service.site_url}/contact.html")
    config, _ = get(f"{service.site_url}/config.js")

    assert f'action="{service.api_url}/inquiries"' in page
    assert f'value="{service.site_url}/thanks.html"' in page
    assert "%API_URL%" not in page and "%SITE_URL%" not in page
    assert f'"api": "{service.api_url}"' in config
    policy = headers["Content-Security-Policy"]
    assert f"connect-src 'self' {service.api_url}" in policy
    assert f"form-action 'self' {service.api_url}" in policy
    assert "script-src" not in policy and "'unsafe-inline'" not in policy  # default-src 'self'


def test_thanks_page_gets_the_reference_from_the_query(service: Any) -> None:
    page, _ = get(f"{service.site_url}/thanks.html?inquiry=01KAVTS3Q9X0G0E7ZC5D2W6H8M")

    assert '<strong id="reference" class="reference-id">01KAVTS3Q9X0G0E7ZC5D2W6H8M</strong>' in page


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("inquiry=01KAVTS3Q9X0G0E7ZC5D2W6H8M", "01KAVTS3Q9X0G0E7ZC5D2W6H8M"),
        ("inquiry=01kavts3q9x0g0e7zc5d2w6h8m", "01KAVTS3Q9X0G0E7ZC5D2W6H8M"),
        ("lang=zh&inquiry=01KAVTS3Q9X0G0E7ZC5D2W6H8M", "01KAVTS3Q9X0G0E7ZC5D2W6H8M"),
        ("", ""),
        ("inquiry=", ""),
        ("inquiry=%3Cscript%3Ealert(1)%3C%2Fscript%3E", ""),
        ("inquiry=01KAVTS3Q9X0G0E7ZC5D2W6H8", ""),  # 25 characters
        ("inquiry=01KAVTS3Q9X0G0E7ZC5D2W6H8MM", ""),  # 27 characters
        ("inquiry=01KAVTS3Q9X0G0E7ZC5D2W6H8I", ""),  # I is not Crockford base32
        ("inquiry=81KAVTS3Q9X0G0E7ZC5D2W6H8M", ""),  # beyond the ULID range
        ("inquiry=01KAVTS3Q9X0G0E7ZC5D2W6H8M%0A", "01KAVTS3Q9X0G0E7ZC5D2W6H8M"),
    ],
)
def test_inquiry_reference_accepts_lead_ids_only(query: str, shown: str) -> None:
    assert inquiry_reference(query) == shown


def test_site_server_lists_no_directories(service: Any) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        get(f"{service.site_url}/assets/")

    assert refused.value.code == 404
