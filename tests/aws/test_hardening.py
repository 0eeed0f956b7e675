"""Attacks on POST /inquiries that once worked: each test is named after what the user sees.

The promise: every 201 (or 303) ends with the lead in the sales inbox, whatever the visitor
typed, and the service is never a tool against anyone (strangers, customers, sales).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from chalicelib.inquiries.retry import retry_pending
from chalicelib.inquiries.service import Submitted
from chalicelib.leads.model import Inquiry
from tests.conftest import SALES, SITE, body_of, lead_items, post_form, post_json, sent_emails
from tests.data import BUYER

ENCODED_WORD_ADDRESSES = [
    "=?utf-8?q?x?=@example.com",
    "=?utf-8?q?attacker=40evil.com=3e=00?=foo@example.com",
    "a=?b@example.com",
]


def sweep(api: Any) -> Any:
    runtime = api.runtime
    return retry_pending(runtime.leads, runtime.inquiries, runtime.clock)


def to(address: str) -> list[Any]:
    return [message for message in sent_emails() if message["To"] == address]


# ---- 1. a 201 whose lead never reached sales ---------------------------------------------


@pytest.mark.parametrize("address", ENCODED_WORD_ADDRESSES)
def test_an_address_holding_an_encoded_word_is_422_and_nothing_is_taken(
    make_client: Any, settings: Any, address: str
) -> None:
    api = make_client(AUTOREPLY_ENABLED="true")
    response = post_json(api, {**BUYER, "email": address})
    assert response.status_code == 422
    assert "=?" in response.json_body["error"]["fields"]["email"]
    assert lead_items(settings) == [] and sent_emails() == []


def test_an_address_longer_than_64_characters_before_the_at_sign_is_422(
    make_client: Any, settings: Any
) -> None:
    api = make_client()
    assert post_json(api, {**BUYER, "email": "a" * 65 + "@example.com"}).status_code == 422
    assert post_json(api, {**BUYER, "email": "a" * 64 + "@example.com"}).status_code == 201


def test_a_lead_whose_formatted_email_cannot_be_built_reaches_sales_as_plain_text(
    make_client: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    from chalicelib.mail import Templates

    real_render = Templates.render

    def broken(self: Templates, template: str, **context: Any) -> str:
        if template.startswith("sales_notification"):
            raise RuntimeError(f"template bug showing {context['lead']['email']}")
        return real_render(self, template, **context)

    monkeypatch.setattr(Templates, "render", broken)
    api = make_client()
    response = post_json(api, BUYER)
    assert response.status_code == 201
    (lead,) = lead_items(settings)
    assert lead["status"] == "sent"
    (message,) = to(SALES)
    assert message["Subject"] == f"Inquiry {lead['id']} (plain copy)"
    assert message["Reply-To"] is None and message.get_body(("html",)) is None
    text = body_of(message, "plain")
    for value in ["Hans Müller", BUYER["email"], "Delivery to Hamburg.", "Autoteile Nord GmbH"]:
        assert value in text
    assert BUYER["email"] not in caplog.text  # the bug's message quoted it: not logged


def test_an_address_the_mail_headers_cannot_carry_still_reaches_sales_as_plain_text(
    make_client: Any, settings: Any
) -> None:
    """Defence in depth: were validation ever to let such an address through, the lead
    is still mailed (plain, no Reply-To) instead of failing on every retry."""
    api = make_client()
    inquiry = Inquiry(
        name="Mallory", email="=?utf-8?q?x?=@example.com", message="Quote please", locale="en"
    )
    lead_id = api.runtime.inquiries.submit(inquiry, Submitted("198.51.100.7"))
    (lead,) = lead_items(settings)
    assert (lead["id"], lead["status"]) == (lead_id, "sent")
    (message,) = to(SALES)
    assert message["Reply-To"] is None
    assert "=?utf-8?q?x?=@example.com" in body_of(message, "plain")


def test_a_failed_acknowledgement_logs_no_address(
    make_client: Any, faults: Any, caplog: Any
) -> None:
    api = make_client(AUTOREPLY_ENABLED="true")
    calls = {"n": 0}
    original = api.runtime.mailer.send

    def second_send_fails(email: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ValueError(f"cannot address {email.to[0]}")
        return str(original(email))

    api.runtime.mailer.send = second_send_fails
    with caplog.at_level(logging.INFO):
        assert post_json(api, BUYER).status_code == 201
    assert "acknowledgement not sent" in caplog.text
    assert BUYER["email"] not in caplog.text and "hans" not in caplog.text.lower()


# ---- 2. the autoreply aimed at strangers -------------------------------------------------


def test_the_acknowledgement_carries_no_text_the_visitor_typed(make_client: Any) -> None:
    api = make_client(AUTOREPLY_ENABLED="true")
    spam_name = "FREE PRIZE claim at https://evil.example/win"
    response = post_json(api, {**BUYER, "name": spam_name, "email": "target@example.org"})
    assert response.status_code == 201
    (ack,) = to("target@example.org")
    text, html = body_of(ack, "plain"), body_of(ack, "html")
    assert "PRIZE" not in text + html and "evil.example" not in text + html
    assert text.startswith("Dear customer,") and response.json_body["id"] in text


def test_plus_tags_and_gmail_dots_share_one_acknowledgement_per_hour(
    make_client: Any, settings: Any
) -> None:
    api = make_client(AUTOREPLY_ENABLED="true")
    for address in ["target+0@example.org", "target+1@example.org", "TARGET+2@example.org"]:
        assert post_json(api, {**BUYER, "email": address}).status_code == 201
    for address in ["j.doe@gmail.com", "jdoe+x@googlemail.com", "J.D.O.E@gmail.com"]:
        assert post_json(api, {**BUYER, "email": address}).status_code == 201
    acks = [m for m in sent_emails() if m["Auto-Submitted"] == "auto-replied"]
    assert sorted(str(m["To"]) for m in acks) == ["j.doe@gmail.com", "target+0@example.org"]
    assert len(to(SALES)) == 6  # every lead still reaches sales


def test_acknowledgements_stop_at_the_hourly_ceiling_and_leads_still_reach_sales(
    make_client: Any, clock: Any, caplog: Any
) -> None:
    api = make_client(AUTOREPLY_ENABLED="true", AUTOREPLY_MAX_PER_HOUR="2")
    with caplog.at_level(logging.WARNING):
        for n in range(4):
            assert post_json(api, {**BUYER, "email": f"b{n}@example.com"}).status_code == 201
    acks = [m for m in sent_emails() if m["Auto-Submitted"] == "auto-replied"]
    assert len(acks) == 2 and len(to(SALES)) == 4
    assert "acknowledgement ceiling of 2 per hour reached" in caplog.text
    clock.advance(3600)
    post_json(api, {**BUYER, "email": "b9@example.com"})
    assert len(to("b9@example.com")) == 1  # a new hour, a new allowance


# ---- 3. a redirect with non-Latin-1 characters -------------------------------------------


@pytest.mark.parametrize(
    ("path", "encoded"),
    [("/∕x", "/%E2%88%95x"), ("/danke-é.html", "/danke-%C3%A9.html"), ("/a%20b", "/a%20b")],
)
def test_a_redirect_with_non_ascii_characters_gets_a_percent_encoded_location(
    make_client: Any, settings: Any, path: str, encoded: str
) -> None:
    api = make_client()
    response = post_form(api, {**BUYER, "redirect": SITE + path})
    assert response.status_code == 303
    (lead,) = lead_items(settings)
    assert response.headers["Location"] == f"{SITE}{encoded}?inquiry={lead['id']}"
    assert response.headers["Location"].isascii()


# ---- 4. foreign pages posting through their visitors' browsers ----------------------------


@pytest.mark.parametrize("origin", ["http://evil.example", "null", f"{SITE}.evil.example"])
def test_a_post_from_a_foreign_page_is_403_and_nothing_is_stored(
    make_client: Any, settings: Any, origin: str
) -> None:
    api = make_client()
    for post in (post_json, post_form):
        response = post(api, BUYER, Origin=origin)
        assert response.status_code == 403
        assert response.json_body["error"]["code"] == "origin_not_allowed"
    assert lead_items(settings) == [] and sent_emails() == []


def test_a_post_from_the_site_or_without_origin_is_taken(make_client: Any) -> None:
    api = make_client()
    assert post_json(api, BUYER, Origin=SITE.upper()).status_code == 201
    assert post_json(api, {**BUYER, "email": "server@example.com"}).status_code == 201


# ---- 5. locking a customer out -----------------------------------------------------------


def test_a_buyer_over_the_per_address_limit_is_kept_and_reaches_sales_in_the_hourly_summary(
    make_client: Any, settings: Any, clock: Any
) -> None:
    api = make_client(RATE_LIMIT_PER_EMAIL_PER_HOUR="1", AUTOREPLY_ENABLED="true")
    assert post_json(api, BUYER).status_code == 201  # e.g. an attacker using the address
    real = post_json(api, {**BUYER, "email": "HANS.MUELLER+order@example.com", "message": "Real"})
    third = post_json(api, {**BUYER, "message": "Third try"})
    assert real.status_code == third.status_code == 201  # nobody is told to go away
    held = {lead["id"]: lead for lead in lead_items(settings) if lead.get("held_back")}
    assert set(held) == {real.json_body["id"], third.json_body["id"]}
    assert {lead["status"] for lead in held.values()} == {"pending"}
    assert len(to(SALES)) == 1 and len(to(BUYER["email"])) == 1  # held: no email, no autoreply
    assert sweep(api).held_back_sent == 0  # not before the hour is over
    clock.advance(3600 - clock.now % 3600)
    assert sweep(api).held_back_sent == 2
    assert sweep(api).held_back_sent == 0  # once
    summary = to(SALES)[-1]
    assert summary["Subject"] == "2 inquiries over the per-address hourly limit"
    text = body_of(summary, "plain")
    assert "Real" in text and "Third try" in text and "HANS.MUELLER+order@example.com" in text
    assert {lead["status"] for lead in lead_items(settings) if lead.get("held_back")} == {"sent"}


def test_the_per_ip_limit_still_answers_429(make_client: Any, settings: Any) -> None:
    api = make_client(RATE_LIMIT_PER_IP_PER_HOUR="1", RATE_LIMIT_PER_EMAIL_PER_HOUR="1")
    assert post_json(api, BUYER).status_code == 201
    assert post_json(api, BUYER).status_code == 429
    assert len(lead_items(settings)) == 1


def test_a_held_back_summary_that_ses_refuses_is_retried_not_lost(
    make_client: Any, settings: Any, clock: Any, faults: Any
) -> None:
    api = make_client(RATE_LIMIT_PER_EMAIL_PER_HOUR="1")
    post_json(api, BUYER)
    held_id = post_json(api, {**BUYER, "message": "again"}).json_body["id"]
    clock.advance(3600)
    faults.fail("sesv2.SendEmail", "throttle")
    assert sweep(api).still_pending == 1
    faults.heal()
    clock.advance(120)
    assert sweep(api).held_back_sent == 1
    assert {lead["id"]: lead["status"] for lead in lead_items(settings)}[held_id] == "sent"


# ---- 6. a look-alike link shown to sales --------------------------------------------------


def test_a_look_alike_page_is_shown_to_sales_as_text_not_a_link(make_client: Any) -> None:
    api = make_client()
    page = "https://www.vigorautomobile.com@evil.example/login"
    assert post_json(api, {**BUYER, "page": page}).status_code == 201
    html = body_of(to(SALES)[0], "html")
    assert page in html and f'href="{page}"' not in html
    assert "not our site" in html


def test_a_page_on_the_site_is_a_link(make_client: Any) -> None:
    api = make_client()
    assert post_json(api, BUYER).status_code == 201
    assert f'href="{BUYER["page"]}"' in body_of(to(SALES)[0], "html")


# ---- 7. idempotent replay and the single-use captcha -------------------------------------


def test_one_client_cannot_take_another_clients_idempotency_key(
    make_client: Any, settings: Any
) -> None:
    api = make_client()
    service = api.runtime.inquiries
    inquiry = Inquiry(name="Hans", email="hans@example.com", message="Quote", locale="en")
    mine = service.submit(inquiry, Submitted("198.51.100.1", idempotency_key="k-1"))
    theirs = service.submit(inquiry, Submitted("203.0.113.9", idempotency_key="k-1"))
    again = service.submit(inquiry, Submitted("198.51.100.1", idempotency_key="k-1"))
    assert mine != theirs and again == mine
    assert len(lead_items(settings)) == 2


# ---- from reading the code ---------------------------------------------------------------


def test_a_burst_while_dynamodb_is_down_mails_sales_at_most_the_per_ip_limit(
    make_client: Any, faults: Any
) -> None:
    api = make_client(RATE_LIMIT_PER_IP_PER_HOUR="3")
    faults.fail("dynamodb.*", "throttle")
    answers = [post_json(api, {**BUYER, "email": f"b{n}@example.com"}) for n in range(5)]
    assert [a.status_code for a in answers] == [201, 201, 201, 503, 503]
    assert len(to(SALES)) == 3
    assert all(m["Subject"].startswith("[NOT STORED]") for m in to(SALES))


@pytest.mark.parametrize(
    "fields",
    [
        {"website": "0"},
        {"website": " "},
        {"website": "false"},
    ],
)
def test_a_honeypot_with_any_value_is_spam(make_client: Any, settings: Any, fields: Any) -> None:
    api = make_client()
    assert post_form(api, {**BUYER, **fields}).status_code == 201
    assert [lead["status"] for lead in lead_items(settings)] == ["spam"]
    assert sent_emails() == []


@pytest.mark.parametrize(
    "body",
    [
        "website=x&website=",
        "website=&website=x",
    ],
)
def test_a_honeypot_filled_in_any_copy_is_spam(make_client: Any, settings: Any, body: str) -> None:
    from urllib.parse import urlencode

    api = make_client()
    assert post_form(api, f"{urlencode(BUYER)}&{body}").status_code == 201
    assert [lead["status"] for lead in lead_items(settings)] == ["spam"]


@pytest.mark.parametrize("value", [0, False, " ", [], {}])
def test_a_json_honeypot_with_any_value_is_spam(
    make_client: Any, settings: Any, value: Any
) -> None:
    api = make_client()
    assert post_json(api, {**BUYER, "website": value}).status_code == 201
    assert [lead["status"] for lead in lead_items(settings)] == ["spam"]


@pytest.mark.parametrize("value", [None, ""])
def test_an_empty_honeypot_is_not_spam(make_client: Any, settings: Any, value: Any) -> None:
    api = make_client()
    assert post_json(api, {**BUYER, "website": value}).status_code == 201
    assert [lead["status"] for lead in lead_items(settings)] == ["sent"]
