"""What the browser tests and the screenshot script share on top of the live-service harness
(devtools/live.py: the whole service as `make run` runs it, on free loopback ports): the
browser, screenshots, the emails of one lead. Debian's Chromium is driven by Playwright
(never a downloaded browser build).
"""

from __future__ import annotations

import base64
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


def tiny_pdf() -> bytes:
    """A valid one-page PDF (cross-reference table and all), a few hundred bytes."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def tiny_jpeg(page: Any) -> bytes:
    """An 8 × 8 JPEG, encoded by the browser itself (no imaging library needed)."""
    data_url = page.evaluate(
        """() => {
            const canvas = document.createElement("canvas");
            canvas.width = canvas.height = 8;
            const context = canvas.getContext("2d");
            context.fillStyle = "#0b3d91";
            context.fillRect(0, 0, 8, 8);
            return canvas.toDataURL("image/jpeg");
        }"""
    )
    return base64.b64decode(str(data_url).split(",", 1)[1])


def screenshot(page: Any, name: str, directory: Path = ARTIFACTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
