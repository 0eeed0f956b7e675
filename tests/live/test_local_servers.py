"""`make run`'s two servers answer malformed requests with a clear 4xx, never a dropped
connection or a traceback in the console (issue 9, finding 8).

The real servers (devtools.local.LocalService, as `make run` starts them: API, demo site,
embedded moto) run on free loopback ports picked for this module and are stopped after it.
Requests are written byte by byte on a socket, since well-behaved clients cannot send them.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from devtools.live import running_service

MAX_BODY = 64 * 1024  # what the API itself accepts (README: 413 body_too_large)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def error_code(self) -> str:
        return str(json.loads(self.body)["error"]["code"])


def exchange(base_url: str, request: bytes, timeout: float = 10.0) -> Answer:
    """Send raw bytes, read one HTTP answer. A dropped connection raises (RemoteDisconnected),
    a server still waiting for a body it will never get times out."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock, method=request.split(b" ", 1)[0].decode())
        response.begin()
        return Answer(response.status, response.msg, response.read())


def post(headers: str, body: bytes = b"") -> bytes:
    return (
        b"POST /inquiries HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + headers.encode("utf-8")
        + b"Connection: close\r\n\r\n"
        + body
    )


def get(path: str, method: str = "GET") -> bytes:
    request = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    return request.encode("latin-1")  # "\xff" is the raw byte 0xff


@pytest.fixture(scope="module")
def service() -> Iterator[Any]:
    with running_service() as running:
        yield running


@pytest.fixture
def console(capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """The servers' threads print tracebacks to stderr: none may appear."""
    yield
    assert "Traceback" not in capsys.readouterr().err


# ---- the demo-site server ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/contact.html%00.txt", "/contact%00.html", "/assets/site.js%00", "/%0a.html", "/a\x00b"],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_site_server_answers_400_to_a_nul_in_the_path(
    service: Any, console: None, path: str, method: str
) -> None:
    answer = exchange(service.site_url, get(path, method))

    assert answer.status == 400
    assert answer.headers["Content-Type"].startswith("text/plain")
    if method == "GET":
        assert b"control character" in answer.body
        assert len(answer.body) < 200


@pytest.mark.parametrize("path", ["/%ff.html", "/contact%ed%a0%80.html", "/%c3", "/\xff.html"])
def test_site_server_answers_400_to_a_path_that_is_not_utf8(
    service: Any, console: None, path: str
) -> None:
    answer = exchange(service.site_url, get(path))

    assert answer.status == 400
    assert b"UTF-8" in answer.body or b"ASCII" in answer.body


def test_site_server_serves_pages_after_bad_requests(service: Any, console: None) -> None:
    exchange(service.site_url, get("/contact.html%00.txt"))

    answer = exchange(service.site_url, get("/contact.html"))

    assert answer.status == 200
    assert b"%API_URL%" not in answer.body


# ---- the API server (chalice local) ------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "-5", "+5", "1_0", " ", "5, 5", "0x10", "٥"])
def test_api_answers_400_to_a_content_length_that_is_not_a_number(
    service: Any, console: None, value: str
) -> None:
    answer = exchange(service.api_url, post(f"Content-Length: {value}\r\n"))

    assert answer.status == 400
    assert answer.error_code() == "bad_request"
    assert "Content-Length" in json.loads(answer.body)["error"]["message"]


def test_api_answers_400_to_two_different_content_lengths(service: Any, console: None) -> None:
    answer = exchange(service.api_url, post("Content-Length: 2\r\nContent-Length: 7\r\n", b"{}"))

    assert answer.status == 400
    assert answer.error_code() == "bad_request"


@pytest.mark.parametrize(
    "length", [MAX_BODY * 4, 10**8, 10**20, 10**400], ids=["256KiB", "100MB", "1e20", "1e400"]
)
def test_api_answers_413_to_a_huge_content_length_without_waiting_for_the_body(
    service: Any, console: None, length: int
) -> None:
    answer = exchange(service.api_url, post(f"Content-Length: {length}\r\n"))

    assert answer.status == 413
    assert answer.error_code() == "body_too_large"


def test_api_answers_411_to_a_chunked_body(service: Any, console: None) -> None:
    chunked = post("Transfer-Encoding: chunked\r\n", b"2\r\n{}\r\n0\r\n\r\n")

    answer = exchange(service.api_url, chunked)

    assert answer.status == 411
    assert answer.error_code() == "length_required"


def test_api_itself_still_judges_a_body_just_over_its_limit(service: Any, console: None) -> None:
    body = b'{"message": "' + b"x" * MAX_BODY + b'"}'

    answer = exchange(service.api_url, post(f"Content-Length: {len(body)}\r\n", body))

    assert answer.status == 413
    assert answer.error_code() == "body_too_large"
    assert "local server" not in json.loads(answer.body)["error"]["message"]  # the app's own


def test_api_takes_inquiries_after_bad_requests(service: Any, console: None) -> None:
    exchange(service.api_url, post("Content-Length: abc\r\n"))
    body = json.dumps(
        {"name": "Hans Müller", "email": "hans@example.com", "message": "200 brake pads"}
    ).encode()

    answer = exchange(service.api_url, post(f"Content-Length: {len(body)}\r\n", body))

    assert answer.status == 201


def test_a_file_goes_from_the_demo_site_straight_to_s3_and_into_the_outbox(
    service: Any, console: None
) -> None:
    import email
    import time
    from email.policy import default

    import requests

    site = service.site_url
    pdf = b"%PDF-1.7\n" + b"0" * 2000
    declared = {"filename": "图纸 04465.pdf", "content_type": "application/pdf", "size": len(pdf)}
    answer = requests.post(f"{service.api_url}/uploads", json=declared, headers={"Origin": site})
    assert answer.status_code == 201, answer.text
    upload = answer.json()
    url = upload["upload"]["url"]
    assert url.startswith("http://127.0.0.1:")  # the browser reaches the emulator's S3
    preflight = requests.options(
        url, headers={"Origin": site, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.headers.get("Access-Control-Allow-Origin") in (site, "*")
    fields = upload["upload"]["fields"]
    sent = requests.post(url, data=fields, files={"file": ("x.pdf", pdf)}, headers={"Origin": site})
    assert sent.status_code == 204, sent.text
    inquiry = {
        "name": "Li Na",
        "email": "li.na@example.com",
        "message": "See the drawing.",
        "attachments": [upload["id"]],
    }
    answer = requests.post(f"{service.api_url}/inquiries", json=inquiry, headers={"Origin": site})
    assert answer.status_code == 201, answer.text
    lead_id = answer.json()["id"]
    outbox = service.options.outbox
    for _ in range(50):  # written before the 201, read back here
        mails = [
            email.message_from_bytes(path.read_bytes(), policy=default)
            for path in outbox.glob("*.eml")
        ]
        mails = [m for m in mails if m["X-Vigor-Lead-Id"] == lead_id]
        if mails:
            break
        time.sleep(0.1)
    files = [
        (part.get_filename(), part.get_payload(decode=True))
        for mail in mails
        for part in mail.iter_attachments()
    ]
    assert ("图纸 04465.pdf", pdf) in files
