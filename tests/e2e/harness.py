"""What the browser tests and the screenshot script share on top of the live-service harness
(devtools/live.py: the whole service as `make run` runs it, on free loopback ports): the
browser, screenshots, the emails of one lead. Debian's Chromium is driven by Playwright
(never a downloaded browser build).
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

from devtools.live import outbox_messages

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


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


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
