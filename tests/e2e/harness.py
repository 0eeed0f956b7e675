"""What the browser tests and the screenshot script share: the servers, the browser, the outbox.

The whole service runs as `make run` runs it (admin/local.py: embedded moto, tables from the
CloudFormation template, seed, SES sender, API and demo site on free loopback ports), and
Debian's Chromium is driven by Playwright (never a downloaded browser build).
"""

from __future__ import annotations

import email
import os
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from admin.local import LocalOptions, LocalService

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
DOCS_IMAGES = ROOT / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# The tests send more inquiries than a visitor would; the limits themselves are tested elsewhere.
TEST_SETTINGS = {
    "RATE_LIMIT_PER_IP_PER_HOUR": "1000",
    "RATE_LIMIT_PER_EMAIL_PER_HOUR": "100",
}
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def local_service(
    outbox: Path, env: dict[str, str] | None = None, hooks: tuple[Any, ...] = ()
) -> Iterator[LocalService]:
    """The API, the demo site and the emulator on free ports; os.environ restored afterwards."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            del os.environ[name]
    os.environ.update(FAKE_AWS)
    service = LocalService(
        LocalOptions(
            api_port=0,
            site_port=0,
            outbox=outbox,
            quiet=True,
            env={**TEST_SETTINGS, **(env or {})},
            hooks=hooks,
        )
    )
    try:
        service.start()
        yield service
    finally:
        service.stop()
        os.environ.clear()
        os.environ.update(saved)


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def outbox_messages(outbox: Path) -> list[tuple[Path, EmailMessage]]:
    """Every email the local SES accepted, parsed as a mail client would, oldest first."""
    messages = []
    for path in sorted(outbox.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        messages.append((path, parsed))
    return messages


def emails_for(outbox: Path, lead_id: str) -> list[tuple[Path, EmailMessage]]:
    return [(p, m) for p, m in outbox_messages(outbox) if m["X-Vigor-Lead-Id"] == lead_id]


def sales_email(outbox: Path, lead_id: str, sales: str) -> tuple[Path, EmailMessage]:
    """The one email sales received for this lead (the visitor's acknowledgement aside)."""
    found = [(p, m) for p, m in emails_for(outbox, lead_id) if sales in str(m["To"])]
    assert len(found) == 1, f"expected one sales email for {lead_id}, found {len(found)}"
    return found[0]


def screenshot(page: Any, name: str, directory: Path = ARTIFACTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
