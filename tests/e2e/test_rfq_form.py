"""The contact form as a request for quotation, in Chromium on the running demo: the line-item
table (rows added and removed from the keyboard), files uploaded straight to storage with a
progress bar each, per-row errors, the first-touch source, and what sales receive: the rows
in the email's table and the files attached to the outbox `.eml`."""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.audits import axe_violations
from tests.e2e.harness import sales_email, screenshot, tiny_jpeg, tiny_pdf

SALES = "sales@vigorautomobile.com"
PREFIX = {"en": "", "zh": "/zh"}
LOCALE = {"en": "en-GB", "zh": "zh-CN"}
TEXT = {
    "en": {
        "add": "Add a part",
        "send": "Send inquiry",
        "done": "Uploaded",
        "progress": "Upload of {name}",
        "remove": "Remove row {n}",
        "part": "Part number (OE/OEM), row {n}",
    },
    "zh": {
        "add": "添加配件",
        "send": "发送询价",
        "done": "已上传",
        "progress": "{name} 的上传进度",
        "remove": "删除第 {n} 行",
        "part": "配件编号（OE/OEM）（第 {n} 行）",
    },
}
HTML = b"<!doctype html><script>alert(1)</script>"
ROWS = [
    {"part_number": "87910-0K010", "description": "Door mirror, left", "quantity": "200"},
    {"part_number": "04465-0K240", "description": "Brake pads, front", "quantity": "50"},
    {"part_number": "", "description": "Wiper blade 24 inch", "quantity": "300"},
]


def fill_row(page: Any, index: int, row: dict[str, str]) -> None:
    for name, value in row.items():
        page.fill(f"#item-{index}-{name}", value)


def attachments(message: EmailMessage) -> dict[str, bytes]:
    found = {}
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found[str(part.get_filename())] = payload
    return found


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_three_rows_and_two_files_reach_sales_as_a_table_and_attachments(
    pages: Any, service: Any, outbox: Path, lang: str
) -> None:
    text = TEXT[lang]
    page = pages.open(locale=LOCALE[lang])
    # the first page view records the source; the inquiry sends it from the contact page
    page.goto(f"{service.site_url}{PREFIX[lang]}/?utm_source=newsletter&utm_campaign=spring")
    page.goto(f"{service.site_url}{PREFIX[lang]}/contact.html?utm_source=other")
    page.fill("#f-name", "Amina Otieno")
    page.fill("#f-email", f"amina.{lang}@rift-valley-spares.example.com")
    page.fill("#f-message", "Please quote CIF Mombasa, with your lead time.")
    page.select_option("#f-incoterm", "CIF")
    page.fill("#f-destination_port", "Mombasa")

    add = page.get_by_role("button", name=text["add"])
    for index in (1, 2):
        add.click()
        expect(page.get_by_label(text["part"].format(n=index + 1))).to_be_focused()
    for index, row in enumerate(ROWS):
        fill_row(page, index, row)
    photo, drawing = tiny_jpeg(page), tiny_pdf()
    page.set_input_files(
        "#f-files",
        [
            {"name": "mirror.jpg", "mimeType": "image/jpeg", "buffer": photo},
            {"name": "drawing.pdf", "mimeType": "application/pdf", "buffer": drawing},
        ],
    )
    for name in ("mirror.jpg", "drawing.pdf"):
        bar = page.get_by_role("progressbar", name=text["progress"].format(name=name))
        expect(bar).to_have_js_property("value", 100)
        expect(page.locator("#file-list li", has_text=name)).to_contain_text(text["done"])
    screenshot(page, f"rfq-ready-{lang}")

    with page.expect_request(f"{service.api_url}/inquiries") as sent:
        page.get_by_role("button", name=text["send"]).click()

    expect(page.locator("#form-success")).to_be_visible()
    lead_id = str(page.locator("#reference").text_content())
    body = json.loads(sent.value.post_data or "{}")
    assert body["utm_source"] == "newsletter" and body["utm_campaign"] == "spring"
    assert body["landing_page"].endswith(
        f"{PREFIX[lang]}/?utm_source=newsletter&utm_campaign=spring"
    )
    assert "referrer" not in body  # the site itself is no referrer
    assert len(body["attachments"]) == 2
    expect(page.locator("#items tbody tr")).to_have_count(1)  # ready for the next
    expect(page.locator("#file-list li")).to_have_count(0)

    _, message = sales_email(outbox, lead_id, SALES)
    assert attachments(message) == {"mirror.jpg": photo, "drawing.pdf": drawing}
    plain = message.get_body(("plain",))
    assert plain is not None
    table = plain.get_content()
    for row in ROWS:
        assert re.search(rf"{row['quantity']} pcs × .*{re.escape(row['description'])}", table)
    assert "87910-0K010" in str(message["Subject"])
    source = re.search(r"^Source: +(.*)$", table, re.M)  # the first touch, for sales
    assert source is not None
    assert source.group(1).startswith("utm_source=newsletter · utm_campaign=spring · ")


def test_rows_are_added_and_removed_from_the_keyboard(page: Any, service: Any) -> None:
    page.goto(f"{service.site_url}/contact.html")
    page.get_by_role("button", name="Add a part").focus()

    page.keyboard.press("Enter")
    page.keyboard.type("A-1")
    page.get_by_role("button", name="Add a part").focus()
    page.keyboard.press("Enter")
    page.keyboard.type("B-2")

    part = page.locator("#items tbody td[data-col=part_number] input")
    expect(part.nth(1)).to_have_value("A-1")
    expect(page.get_by_label("Part number (OE/OEM), row 3")).to_have_value("B-2")
    page.get_by_role("button", name="Remove row 2").focus()
    page.keyboard.press("Enter")

    # the row that took its place has the focus, renumbered
    expect(page.get_by_label("Part number (OE/OEM), row 2")).to_be_focused()
    expect(page.get_by_label("Part number (OE/OEM), row 2")).to_have_value("B-2")
    expect(page.locator("#items tbody th")).to_have_text(["1", "2"])
    expect(page.locator("#item-1-part_number")).to_have_attribute("name", "items[1].part_number")
    expect(page.locator("#form-status")).to_have_text("Row 2 removed.")
    page.get_by_role("button", name="Remove row 2").click()  # the last one: focus goes up
    expect(page.get_by_label("Part number (OE/OEM), row 1")).to_be_focused()
    expect(page.get_by_role("button", name=re.compile("^Remove row"))).to_have_count(0)


def test_row_and_file_problems_are_shown_where_they_are_and_pass_the_audit(
    pages: Any, service: Any
) -> None:
    page = pages.open(bypass_csp=True)  # axe is injected
    page.goto(f"{service.site_url}/contact.html")
    page.fill("#f-name", "Hans Müller")
    page.fill("#f-email", "hans@example.com")
    page.fill("#f-message", "Please quote.")
    page.get_by_role("button", name="Add a part").click()
    fill_row(page, 0, {"part_number": "87910-0K010", "quantity": "10"})
    fill_row(page, 1, {"part_number": "04465-0K240", "quantity": "0"})
    page.set_input_files(
        "#f-files",
        [{"name": "setup.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ\x90\x00"}],
    )
    expect(page.locator("#f-files-error")).to_have_text(
        re.compile(r"^setup\.exe: this kind of file cannot be sent")
    )
    expect(page.locator("#file-list li")).to_have_count(0)
    page.set_input_files(  # a name the browser accepts; the API reads the content
        "#f-files", [{"name": "drawing.pdf", "mimeType": "application/pdf", "buffer": HTML}]
    )
    expect(page.locator("#file-list li", has_text="drawing.pdf")).to_contain_text("Uploaded")

    page.get_by_role("button", name="Send inquiry").click()

    quantity = page.locator("#item-1-quantity")
    expect(page.locator("#item-1-quantity-error")).to_have_text(
        "Quantity must be a whole number from 1 to 10,000,000."
    )
    expect(quantity).to_have_attribute("aria-invalid", "true")
    expect(quantity).to_have_attribute("aria-describedby", "item-1-quantity-error")
    expect(quantity).to_be_focused()
    expect(page.locator("#item-0-quantity")).not_to_have_attribute("aria-invalid", "true")
    assert axe_violations(page) == []

    quantity.fill("5")  # the rows are right now: the API reads the file, and refuses it
    page.get_by_role("button", name="Send inquiry").click()

    expect(page.locator("#f-files-error")).to_have_text(re.compile(r"^drawing\.pdf: \S"))
    expect(page.locator("#f-files")).to_have_attribute("aria-invalid", "true")
    entry = page.locator("#file-list li", has_text="drawing.pdf")
    expect(entry).to_contain_text("Not uploaded")
    expect(page.locator("#item-1-quantity-error")).to_be_hidden()
    assert axe_violations(page) == []


def test_a_failed_upload_can_be_retried(page: Any, service: Any) -> None:
    failures: list[str] = []

    def fail_once(route: Any) -> None:
        if route.request.method == "POST" and not failures:
            failures.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(re.escape(service.endpoint_url) + r"/.*"), fail_once)
    page.goto(f"{service.site_url}/contact.html")
    page.set_input_files(
        "#f-files", [{"name": "list.csv", "mimeType": "text/csv", "buffer": b"part,qty\nA-1,2\n"}]
    )

    entry = page.locator("#file-list li", has_text="list.csv")
    expect(entry).to_contain_text("Not uploaded: the connection was interrupted.")
    page.get_by_role("button", name="Retry list.csv").click()

    expect(entry).to_contain_text("Uploaded")
    expect(page.get_by_role("button", name="Retry list.csv")).to_be_hidden()
    assert len(failures) == 1
    page.get_by_role("button", name="Remove list.csv").click()
    expect(page.locator("#f-files")).to_be_focused()
