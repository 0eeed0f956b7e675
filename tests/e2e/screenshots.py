"""Regenerate the images the docs show: `python -m tests.e2e.screenshots`.

docs/images/contact-page.png  the contact page with an inline field error, as a visitor sees it
docs/images/sales-email.png   the email sales receive for an inquiry (its HTML part), with
                              its one-click action links
docs/images/sales-action.png  the page an action link opens: confirm with one button

The browser tests run `capture_docs_images` too (into test-artifacts/), so this cannot rot.
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from pathlib import Path
from typing import Any

from devtools.live import HIGH_RATE_LIMITS, running_service
from tests.e2e.harness import DOCS_IMAGES, launch_chromium, sales_email

EXAMPLE = {
    "name": "Amina Otieno",
    "email": "amina.otieno@example.com",
    "company": "Rift Valley Motor Spares Ltd",
    "country": "Kenya",
    "phone": "+254 712 345 678",
    "product": "Door mirror, OE 87910-0K010",
    "quantity": "200",
    "message": (
        "Hello,\n\nplease quote 200 pieces of the left door mirror (OE 87910-0K010), "
        "CIF Mombasa, with your lead time.\n\nBest regards,\nAmina"
    ),
}


def capture_docs_images(browser: Any, service: Any, directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(f"{service.site_url}/contact.html")
        page.locator("#contact-block dd").first.wait_for()
        for name, value in EXAMPLE.items():
            page.fill(f"[name={name}]", value)
        page.fill("[name=email]", "amina.otieno@example")  # a typo, to show an inline error
        page.click("button[type=submit]")
        page.locator("#f-email-error").wait_for()
        contact = directory / "contact-page.png"
        page.screenshot(path=str(contact), full_page=True)

        lead_id = _submit(service, EXAMPLE)
        eml, message = sales_email(service.options.outbox, lead_id, "sales@")
        page.set_viewport_size({"width": 760, "height": 700})
        page.goto(eml.with_suffix(".html").as_uri())
        email = directory / "sales-email.png"
        page.screenshot(path=str(email), full_page=True)

        text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        page.goto(re.findall(r"Quoted: (http://\S+)", text)[0])
        action = directory / "sales-action.png"
        page.screenshot(path=str(action), full_page=True)
    finally:
        context.close()
    return {"contact": contact, "email": email, "action": action}


def _submit(service: Any, fields: dict[str, str]) -> str:
    request = urllib.request.Request(
        f"{service.api_url}/inquiries",
        data=json.dumps({**fields, "page": f"{service.site_url}/contact.html"}).encode(),
        headers={"Content-Type": "application/json", "Origin": service.site_url},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.load(response)["id"])


def main() -> int:
    from playwright.sync_api import sync_playwright

    with (
        running_service(HIGH_RATE_LIMITS) as service,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        try:
            images = capture_docs_images(browser, service, DOCS_IMAGES)
        finally:
            browser.close()
    for path in images.values():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
