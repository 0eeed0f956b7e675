"""The contact page and the inquiry form, with JavaScript on and off, in Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from devtools.live import outbox_messages
from tests.e2e.harness import emails_for, sales_email, screenshot

LEAD_ID = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
SALES = "sales@vigorautomobile.com"


def fill(page: Any, **values: str) -> None:
    for name, value in values.items():
        page.fill(f"#inquiry-form [name={name}]", value)


def visitor(email: str, **extra: str) -> dict[str, str]:
    return {
        "name": "Li Wei",
        "email": email,
        "message": "Please quote door mirrors for Toyota Corolla, delivery to Mombasa.",
        **extra,
    }


def reference(page: Any) -> str:
    success = page.locator("#form-success")
    expect(success).to_be_visible()
    lead_id = str(page.locator("#reference").text_content())
    assert LEAD_ID.match(lead_id), lead_id
    return lead_id


def test_contact_block_shows_only_the_entries_the_company_has(page: Any, service: Any) -> None:
    page.goto(f"{service.site_url}/contact.html")

    block = page.locator("#contact-block")
    expect(block.locator(".company")).to_have_text("Wenzhou Vigor Automobile Parts Co., Ltd")
    expect(block.locator("dt")).to_have_text(["Contact", "Phone", "Email", "Address"])
    expect(block.locator("dd")).to_have_text(
        [
            "Manager",
            "0086-18367850108",
            SALES,
            re.compile(r"^No\.27 Taian Road, Tianhe Street"),
        ]
    )
    expect(block.get_by_role("link", name="0086-18367850108")).to_have_attribute(
        "href", "tel:+8618367850108"
    )
    expect(block.get_by_role("link", name=SALES)).to_have_attribute("href", f"mailto:{SALES}")


def test_empty_form_shows_an_error_next_to_each_required_field(page: Any, service: Any) -> None:
    page.goto(f"{service.site_url}/contact.html")

    page.get_by_role("button", name="Send inquiry").click()

    expect(page.locator("#form-error")).to_have_text(
        "Some fields need attention. Please check the messages below."
    )
    for name, label in [("name", "Name"), ("email", "Email"), ("message", "Message")]:
        field = page.locator(f"#inquiry-form [name={name}]")
        error = page.locator(f"#f-{name}-error")
        expect(error).to_have_text(f"{label} is required.")
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_attribute("aria-describedby", f"f-{name}-error")
    expect(page.locator("#f-company-error")).to_be_hidden()
    expect(page.locator("#inquiry-form [name=name]")).to_be_focused()


def test_invalid_fields_are_explained_and_cleared_when_fixed(page: Any, service: Any) -> None:
    page.goto(f"{service.site_url}/contact.html")
    page.get_by_role("button", name="Send inquiry").click()
    expect(page.locator("#f-name-error")).to_be_visible()

    fill(page, **visitor("li.wei@example"), quantity="0", phone="call me")
    page.get_by_role("button", name="Send inquiry").click()

    expect(page.locator("#f-quantity-error")).to_have_text(
        "Quantity must be a whole number from 1 to 10,000,000."
    )
    expect(page.locator("#f-phone-error")).to_have_text("Phone must contain a phone number.")
    expect(page.locator("#f-email-error")).to_have_text(re.compile(r"^Email: The part after"))
    expect(page.locator("#inquiry-form [name=email]")).to_be_focused()
    expect(page.locator("#f-name-error")).to_be_hidden()
    expect(page.locator("#inquiry-form [name=name]")).not_to_have_attribute("aria-invalid", "true")
    screenshot(page, "contact-errors")


def test_valid_inquiry_shows_the_reference_and_sales_get_the_email(
    page: Any, service: Any, outbox: Path
) -> None:
    page.goto(f"{service.site_url}/contact.html")
    email = "li.wei@ningbo-parts.example.com"
    fill(
        page,
        **visitor(email),
        company="Ningbo Parts Trading",
        country="Kenya",
        phone="+254 712 345 678",
        product="Door mirror 87910-0K010",
        quantity="200",
    )

    page.get_by_role("button", name="Send inquiry").click()

    lead_id = reference(page)
    expect(page.locator("#form-success")).to_contain_text("Thank you! We received your inquiry.")
    expect(page.locator("#form-success")).to_be_focused()
    expect(page.locator("#inquiry-form [name=name]")).to_have_value("")  # ready for the next
    expect(page.get_by_role("button", name="Send inquiry")).to_be_enabled()
    screenshot(page, "contact-success")

    path, message = sales_email(outbox, lead_id, SALES)
    assert message["Subject"] == (
        "[A] Inquiry from Li Wei, Ningbo Parts Trading, Kenya: Door mirror 87910-0K010 × 200"
    )
    reply_to = message["Reply-To"].addresses
    assert [(a.display_name, a.addr_spec) for a in reply_to] == [("Li Wei", email)]
    acknowledgement = [m for _, m in emails_for(outbox, lead_id) if m["To"] == email]
    assert [m["Subject"] for m in acknowledgement] == [f"We received your inquiry ({lead_id})"]

    page.goto(path.with_suffix(".html").as_uri())
    expect(page.locator("body")).to_contain_text("Door mirror 87910-0K010")
    expect(page.locator("body")).to_contain_text(lead_id)
    screenshot(page, "sales-email")


def test_double_click_sends_one_inquiry(page: Any, service: Any, outbox: Path) -> None:
    posts: list[Any] = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    page.goto(f"{service.site_url}/contact.html")
    fill(page, **visitor("double.click@example.com"))

    page.get_by_role("button", name="Send inquiry").dblclick()

    lead_id = reference(page)
    assert len(posts) == 1
    sales_email(outbox, lead_id, SALES)  # exactly one


def test_lost_answer_retried_gives_the_same_reference_and_one_email(
    page: Any, service: Any, outbox: Path
) -> None:
    """The API took the inquiry but the answer never arrived: pressing Send again repeats the
    request with the same Idempotency-Key and gets the same lead, not a second one."""
    email = "lost.answer@example.com"
    keys: list[str] = []
    taken: list[str] = []

    def lose_first_answer(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers.get("idempotency-key", ""))
        if taken:
            route.continue_()
            return
        taken.append(route.fetch().json()["id"])  # the API stores the lead...
        route.abort("internetdisconnected")  # ...and the browser sees the network fail

    page.route(f"{service.api_url}/inquiries", lose_first_answer)
    page.goto(f"{service.site_url}/contact.html")
    fill(page, **visitor(email))

    page.get_by_role("button", name="Send inquiry").click()
    expect(page.locator("#form-error")).to_contain_text("You seem to be offline")
    expect(page.get_by_role("button", name="Send inquiry")).to_be_enabled()
    page.get_by_role("button", name="Send inquiry").click()

    assert reference(page) == taken[0]
    assert len(keys) == 2 and keys[0] == keys[1] and len(keys[0]) >= 16
    visitor_emails = [m for _, m in outbox_messages(outbox) if email in str(m["Reply-To"])]
    assert len(visitor_emails) == 1

    fill(page, **visitor(email, message="A second, different inquiry."))
    page.get_by_role("button", name="Send inquiry").click()
    assert reference(page) != taken[0]
    assert keys[2] != keys[0]  # a new form fill, a new key


def test_offline_visitor_is_told_and_can_send_again(page: Any, service: Any) -> None:
    page.goto(f"{service.site_url}/contact.html")
    fill(page, **visitor("offline@example.com"))
    page.context.set_offline(True)

    page.get_by_role("button", name="Send inquiry").click()

    expect(page.locator("#form-error")).to_have_text(
        "You seem to be offline, so your inquiry was not sent. Please check your connection"
        " and press “Send inquiry” again."
    )
    expect(page.locator("#inquiry-form [name=email]")).to_have_value("offline@example.com")
    page.context.set_offline(False)
    page.get_by_role("button", name="Send inquiry").click()
    reference(page)


def test_rate_limited_visitor_is_told_when_to_try_again(page: Any, service: Any) -> None:
    def too_many(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        route.fulfill(
            status=429,
            headers={
                "Content-Type": "application/json",
                "Retry-After": "900",
                "Access-Control-Allow-Origin": service.site_url,
                "Access-Control-Expose-Headers": "ETag, Retry-After, Location",
            },
            body=json.dumps({"error": {"code": "rate_limited", "message": "Too many inquiries."}}),
        )

    page.route(f"{service.api_url}/inquiries", too_many)
    page.goto(f"{service.site_url}/contact.html")
    fill(page, **visitor("busy@example.com"))

    page.get_by_role("button", name="Send inquiry").click()

    expect(page.locator("#form-error")).to_have_text(
        "Too many inquiries were sent from your network in a short time."
        " Please try again in 15 minutes."
    )


def test_outage_is_explained_with_the_sales_address(page: Any, service: Any, outage: Any) -> None:
    page.goto(f"{service.site_url}/contact.html")
    expect(page.locator("#contact-block dd").first).to_be_visible()
    fill(page, **visitor("outage@example.com"))
    outage.fail("dynamodb.*", "unreachable")  # neither the table nor the mail can take the
    outage.fail("sesv2.*", "unreachable")  # lead: 503
    try:
        page.get_by_role("button", name="Send inquiry").click()
        expect(page.locator("#form-error")).to_have_text(
            "We could not take your inquiry right now. Please try again in a few minutes,"
            f" or email us at {SALES}."
        )
    finally:
        outage.heal()
    page.get_by_role("button", name="Send inquiry").click()
    reference(page)


def test_form_works_without_javascript(pages: Any, service: Any, outbox: Path) -> None:
    page = pages.open(java_script_enabled=False)
    page.goto(f"{service.site_url}/contact.html")
    form = page.locator("#inquiry-form")
    expect(form).to_have_attribute("action", f"{service.api_url}/inquiries")
    expect(form).to_have_attribute("method", "post")
    expect(page.locator("[name=redirect]")).to_have_value(f"{service.site_url}/thanks.html")
    email = "no.script@example.com"
    fill(page, **visitor(email), product="Wiper blade 85222-02190", quantity="50")

    page.get_by_role("button", name="Send inquiry").click()

    page.wait_for_url(re.compile(r"/thanks\.html\?inquiry="))
    lead_id = parse_qs(urlsplit(page.url).query)["inquiry"][0]
    assert LEAD_ID.match(lead_id)
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.locator(".reference")).to_have_text(f"Your reference: {lead_id}")
    screenshot(page, "thanks")
    _, message = sales_email(outbox, lead_id, SALES)
    assert message["Subject"] == "[B] Inquiry from Li Wei: Wiper blade 85222-02190 × 50"
    assert message["Reply-To"].addresses[0].addr_spec == email


def test_thanks_page_shows_no_reference_that_is_not_a_lead_id(page: Any, service: Any) -> None:
    page.goto(f"{service.site_url}/thanks.html?inquiry=%3Cscript%3Ealert(1)%3C/script%3E")

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.locator(".reference")).to_be_hidden()
    expect(page.locator("#reference")).to_have_text("")


def test_honeypot_is_out_of_sight_and_a_filled_one_emails_nobody(
    page: Any, service: Any, outbox: Path
) -> None:
    page.goto(f"{service.site_url}/contact.html")
    honeypot = page.locator("#inquiry-form [name=website]")
    expect(honeypot).to_have_attribute("tabindex", "-1")
    expect(honeypot).to_have_attribute("autocomplete", "off")
    box = honeypot.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 0  # off screen
    page.locator("#inquiry-form [name=message]").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send inquiry")).to_be_focused()

    fill(page, **visitor("bot@example.com"))
    honeypot.evaluate("input => { input.value = 'http://cheap-pills.example' }")
    page.get_by_role("button", name="Send inquiry").click()

    lead_id = reference(page)  # a bot sees the normal answer...
    assert emails_for(outbox, lead_id) == []  # ...but nobody is emailed


def test_keyboard_focus_is_visible(page: Any, service: Any) -> None:
    page.goto(f"{service.site_url}/contact.html")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert (skip.bounding_box() or {"y": -1})["y"] >= 0  # shown when focused
    page.locator("#inquiry-form [name=name]").focus()
    outline = page.locator("#inquiry-form [name=name]").evaluate(
        "e => [getComputedStyle(e).outlineStyle, getComputedStyle(e).outlineWidth]"
    )
    assert outline == ["solid", "3px"]


def test_chinese_browser_gets_chinese_labels_and_acknowledgement(
    pages: Any, service: Any, outbox: Path
) -> None:
    page = pages.open(locale="zh-CN")
    page.goto(f"{service.site_url}/zh/contact.html")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("联系我们")
    expect(page.get_by_label("姓名")).to_be_visible()
    expect(page.locator("#contact-block dt")).to_have_text(["联系人", "手机", "邮箱", "地址"])

    page.get_by_role("button", name="发送询价").click()
    expect(page.locator("#f-name-error")).to_have_text("请填写姓名。")
    email = "wang.fang@example.cn"
    fill(page, name="王芳", email=email, message="请报价：后视镜 200 个。")
    page.get_by_role("button", name="发送询价").click()

    expect(page.locator("#form-success")).to_contain_text("谢谢！我们已收到您的询价。")
    lead_id = reference(page)
    acknowledgement = [m for _, m in emails_for(outbox, lead_id) if m["To"] == email]
    assert [m["Subject"] for m in acknowledgement] == [f"我们已收到您的询价（{lead_id}）"]


def test_language_link_leads_to_the_same_page_in_the_other_language(
    page: Any, service: Any
) -> None:
    page.goto(f"{service.site_url}/zh/")

    expect(page.get_by_role("heading", level=1)).to_have_text("新闻中心")
    expect(page.locator(".main-nav").get_by_role("link", name="联系我们")).to_have_attribute(
        "href", "/zh/contact.html"
    )
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("News")
    page.goto(f"{service.site_url}/contact.html")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("联系我们")
    assert page.url.endswith("/zh/contact.html")
