"""POST /inquiries: what visitors, sales staff and the lead table see."""

from __future__ import annotations

import json
from email.headerregistry import Address
from typing import Any

import pytest

from tests.conftest import (
    SALES,
    SENDER,
    SITE,
    body_of,
    lead_items,
    post_form,
    post_json,
    sent_emails,
    stored_lead,
)
from tests.data import BUYER


@pytest.fixture
def api(make_client: Any) -> Any:
    return make_client()


def only_email() -> Any:
    emails = sent_emails()
    assert len(emails) == 1, [e["Subject"] for e in emails]
    return emails[0]


def test_json_inquiry_is_received_stored_and_emailed(api: Any, settings: Any) -> None:
    response = post_json(api, BUYER)
    assert response.status_code == 201
    body = response.json_body
    assert set(body) == {"id", "status"} and body["status"] == "received"
    (lead,) = lead_items(settings)
    assert lead["id"] == body["id"]
    assert lead["status"] == "sent"
    assert lead["name"] == "Hans Müller" and lead["quantity"] == 200
    assert lead["email"] == "hans.mueller@example.com"
    read_back = stored_lead(settings, body["id"])
    assert read_back.next_attempt_at is None and read_back.claim_token is None
    message = only_email()
    assert message["From"] == SENDER
    assert message["To"] == SALES
    assert message["Reply-To"].addresses[0] == Address("Hans Müller", addr_spec=BUYER["email"])
    assert message["Subject"] == (
        "[A] Inquiry from Hans Müller, Autoteile Nord GmbH, Germany: Brake pads 04465-33450 × 200"
    )
    text, html = body_of(message, "plain"), body_of(message, "html")
    for value in [body["id"], "Autoteile Nord GmbH", "+49 40 1234567", "Delivery to Hamburg."]:
        assert value in text and value in html
    assert BUYER["page"] in text and f'href="{BUYER["page"]}"' in html


def test_non_ascii_headers_are_encoded_for_mail_clients(api: Any) -> None:
    assert post_json(api, {**BUYER, "name": "张伟", "company": "上海汽配"}).status_code == 201
    message = only_email()
    raw = message.as_bytes()
    assert b"=?utf-8?" in raw  # RFC 2047 encoded words, not raw UTF-8 in headers
    assert message["Reply-To"].addresses[0].display_name == "张伟"
    assert message["Subject"].startswith("[A] Inquiry from 张伟, 上海汽配")


def test_html_in_fields_is_escaped_in_the_html_email(api: Any) -> None:
    script = "<script>alert('x')</script>"
    fields = {**BUYER, "name": f"Eve {script}", "company": script, "message": script}
    assert post_json(api, fields).status_code == 201
    html = body_of(only_email(), "html")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("field", ["name", "email", "company", "country", "product", "phone"])
def test_header_injection_in_a_single_line_field_is_422_and_nothing_sent(
    api: Any, settings: Any, field: str
) -> None:
    response = post_json(api, {**BUYER, field: "A\r\nBcc: x@evil.test"})
    assert response.status_code == 422
    assert field in response.json_body["error"]["fields"]
    assert lead_items(settings) == [] and sent_emails() == []


def test_nul_in_message_is_422(api: Any) -> None:
    response = post_json(api, {**BUYER, "message": "hello\x00world"})
    assert response.status_code == 422
    assert "message" in response.json_body["error"]["fields"]


def test_every_bad_field_is_named_in_one_422(api: Any, settings: Any) -> None:
    response = post_json(
        api,
        {
            "name": "x" * 101,
            "email": "not-an-address",
            "message": "",
            "quantity": 0,
            "page": "javascript:alert(1)",
            "locale": "fr",
            "phone": "call me",
        },
    )
    assert response.status_code == 422
    error = response.json_body["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {
        "name",
        "email",
        "message",
        "quantity",
        "page",
        "locale",
        "phone",
    }
    assert lead_items(settings) == []


@pytest.mark.parametrize("quantity", ["0", "-3", "2.5", "ten", True, 1.5, 10_000_001, "１２"])
def test_quantity_must_be_a_positive_whole_number(api: Any, quantity: Any) -> None:
    response = post_json(api, {**BUYER, "quantity": quantity})
    assert response.status_code == 422
    assert "quantity" in response.json_body["error"]["fields"]


def test_quantity_may_be_a_numeric_string(api: Any, settings: Any) -> None:
    assert post_json(api, {**BUYER, "quantity": " 50 "}).status_code == 201
    assert lead_items(settings)[0]["quantity"] == 50


def test_internationalized_local_part_is_refused_since_ses_has_no_smtputf8(api: Any) -> None:
    response = post_json(api, {**BUYER, "email": "张伟@example.com"})
    assert response.status_code == 422
    assert "email" in response.json_body["error"]["fields"]


def test_email_is_normalized(api: Any, settings: Any) -> None:
    assert post_json(api, {**BUYER, "email": "  Hans@EXAMPLE.com "}).status_code == 201
    assert lead_items(settings)[0]["email"] == "Hans@example.com"


def test_fields_are_trimmed(api: Any, settings: Any) -> None:
    assert post_json(api, {**BUYER, "name": "  Hans  ", "company": "  "}).status_code == 201
    lead = lead_items(settings)[0]
    assert lead["name"] == "Hans" and "company" not in lead


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", "malformed_json"),
        ("[1, 2]", "not_an_object"),
        ('"a string"', "not_an_object"),
        ("", "not_an_object"),
        (b"\xff\xfe{}", "bad_encoding"),
    ],
)
def test_unreadable_json_is_400(api: Any, body: Any, code: str) -> None:
    response = post_json(api, body)
    assert response.status_code == 400
    assert response.json_body["error"]["code"] == code


def test_body_over_the_limit_is_413(api: Any) -> None:
    response = post_json(api, {**BUYER, "message": "x" * 70_000})
    assert response.status_code == 413
    assert response.json_body["error"]["code"] == "body_too_large"


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x"])
def test_other_content_types_are_415(api: Any, content_type: str) -> None:
    response = api.http.post("/inquiries", body="x", headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert response.json_body["error"]["code"] == "unsupported_media_type"


def test_non_string_field_is_422(api: Any) -> None:
    response = post_json(api, {**BUYER, "name": ["Hans"], "company": {"x": 1}})
    assert response.status_code == 422
    assert response.json_body["error"]["fields"] == {
        "name": "must be a string",
        "company": "must be a string",
    }


def test_plain_form_post_without_redirect_gets_201(api: Any, settings: Any) -> None:
    response = post_form(api, {**BUYER, "quantity": "200"})
    assert response.status_code == 201
    assert lead_items(settings)[0]["quantity"] == 200


def test_form_post_with_allowed_redirect_gets_303_with_the_id(api: Any, settings: Any) -> None:
    response = post_form(api, {**BUYER, "redirect": f"{SITE}/thanks.html?lang=zh"})
    assert response.status_code == 303
    (lead,) = lead_items(settings)
    assert response.headers["Location"] == f"{SITE}/thanks.html?lang=zh&inquiry={lead['id']}"


@pytest.mark.parametrize(
    "redirect",
    [
        "https://evil.example/thanks",
        "//evil.example/thanks",
        "javascript:alert(1)",
        f"{SITE}.evil.example/",
        "https://www.vigorautomobile.com@evil.example/",
    ],
)
def test_form_post_with_foreign_redirect_is_422(api: Any, settings: Any, redirect: str) -> None:
    response = post_form(api, {**BUYER, "redirect": redirect})
    assert response.status_code == 422
    assert "redirect" in response.json_body["error"]["fields"]
    assert lead_items(settings) == []


def test_form_with_invalid_utf8_is_400(api: Any) -> None:
    response = post_form(api, b"name=%FF%FE&email=a%40example.com&message=x")
    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "bad_encoding"


def test_repeated_form_field_with_different_values_is_422(api: Any) -> None:
    response = post_form(api, "name=A&name=B&email=a%40example.com&message=hi")
    assert response.status_code == 422
    assert "name" in response.json_body["error"]["fields"]


def test_honeypot_gets_normal_201_but_is_kept_as_spam_and_not_emailed(
    api: Any, settings: Any
) -> None:
    response = post_form(api, {**BUYER, "website": "http://spam.example"})
    assert response.status_code == 201
    assert set(response.json_body) == {"id", "status"}
    (lead,) = lead_items(settings)
    assert lead["status"] == "spam" and lead["spam"] is True
    assert stored_lead(settings, lead["id"]).next_attempt_at is None  # never retried
    assert sent_emails() == []


def test_custom_honeypot_field_name(make_client: Any, settings: Any) -> None:
    api = make_client(HONEYPOT_FIELD="fax")
    assert post_json(api, {**BUYER, "fax": "123"}).status_code == 201
    assert lead_items(settings)[0]["status"] == "spam"


def test_ip_rate_limit_is_429_with_retry_after(make_client: Any, settings: Any) -> None:
    api = make_client(RATE_LIMIT_PER_IP_PER_HOUR="2")
    for number in range(2):
        assert post_json(api, {**BUYER, "email": f"b{number}@example.com"}).status_code == 201
    response = post_json(api, {**BUYER, "email": "b9@example.com"})
    assert response.status_code == 429
    assert response.json_body["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    assert len(lead_items(settings)) == 2 and len(sent_emails()) == 2


def test_idempotency_key_returns_the_first_answer_and_sends_once(api: Any, settings: Any) -> None:
    first = post_json(api, BUYER, **{"Idempotency-Key": "form-123"})
    again = post_json(api, BUYER, **{"Idempotency-Key": "form-123"})
    assert first.status_code == again.status_code == 201
    assert first.json_body == again.json_body
    assert len(lead_items(settings)) == 1 and len(sent_emails()) == 1


def test_idempotency_key_reused_for_another_inquiry_is_409(api: Any, settings: Any) -> None:
    assert post_json(api, BUYER, **{"Idempotency-Key": "k1"}).status_code == 201
    response = post_json(api, {**BUYER, "message": "other"}, **{"Idempotency-Key": "k1"})
    assert response.status_code == 409
    assert response.json_body["error"]["code"] == "idempotency_key_reused"
    assert len(lead_items(settings)) == 1


def test_bad_idempotency_key_is_400(api: Any) -> None:
    response = post_json(api, BUYER, **{"Idempotency-Key": "x" * 300})
    assert response.status_code == 400
    assert response.json_body["error"]["code"] == "invalid_idempotency_key"


def test_routing_rules_pick_recipients_by_country(make_client: Any) -> None:
    rules = [{"field": "country", "match": "germany", "to": ["eu@vigorautomobile.com"]}]
    api = make_client(ROUTING_RULES=json.dumps(rules))
    post_json(api, BUYER)
    post_json(api, {**BUYER, "email": "li@example.com", "country": "China"})
    recipients = sorted(message["To"] for message in sent_emails())
    assert recipients == ["eu@vigorautomobile.com", SALES]


def test_acknowledgement_in_chinese_from_accept_language(make_client: Any) -> None:
    api = make_client(AUTOREPLY_ENABLED="true")
    response = post_json(api, {**BUYER, "name": "王伟"}, **{"Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.status_code == 201
    ack = next(m for m in sent_emails() if m["To"] == BUYER["email"])
    assert ack["Subject"] == f"我们已收到您的询价（{response.json_body['id']}）"
    assert ack["Auto-Submitted"] == "auto-replied"
    html, text = body_of(ack, "html"), body_of(ack, "plain")
    assert "您的参考编号" in text and response.json_body["id"] in html
    # Nothing the visitor typed, not even the name, goes to an unverified address.
    for typed in ["王伟", "Brake pads", "Hamburg", "Autoteile"]:
        assert typed not in html and typed not in text


def test_acknowledgement_locale_field_wins_over_header(make_client: Any) -> None:
    api = make_client(AUTOREPLY_ENABLED="true")
    post_json(api, {**BUYER, "locale": "en"}, **{"Accept-Language": "zh-CN"})
    ack = next(m for m in sent_emails() if m["To"] == BUYER["email"])
    assert ack["Subject"].startswith("We received your inquiry")


def test_at_most_one_acknowledgement_per_address_per_hour(
    make_client: Any, settings: Any, clock: Any
) -> None:
    api = make_client(AUTOREPLY_ENABLED="true")
    for _ in range(3):
        assert post_json(api, BUYER).status_code == 201
    acks = [m for m in sent_emails() if m["To"] == BUYER["email"]]
    assert len(acks) == 1
    assert len(lead_items(settings)) == 3  # every lead is still taken and sent to sales
    clock.advance(3601)
    post_json(api, BUYER)
    assert len([m for m in sent_emails() if m["To"] == BUYER["email"]]) == 2


def test_no_acknowledgement_for_spam(make_client: Any) -> None:
    api = make_client(AUTOREPLY_ENABLED="true")
    post_json(api, {**BUYER, "website": "x"})
    assert sent_emails() == []


def test_happy_path_costs_at_most_four_aws_calls(make_client: Any, counter: Any) -> None:
    api = make_client(AUTOREPLY_ENABLED="true")
    post_json(api, {**BUYER, "email": "warmup@example.com"})
    counter.reset()
    assert post_json(api, BUYER, **{"Idempotency-Key": "k"}).status_code == 201
    assert counter.calls == [
        "dynamodb.TransactWriteItems",
        "sesv2.SendEmail",
        "sesv2.SendEmail",
        "dynamodb.UpdateItem",
    ]


def test_idempotency_key_expires_after_a_day(api: Any, settings: Any, clock: Any) -> None:
    first = post_json(api, BUYER, **{"Idempotency-Key": "daily"}).json_body["id"]
    clock.advance(24 * 3600 + 1)
    second = post_json(api, BUYER, **{"Idempotency-Key": "daily"}).json_body["id"]
    assert first != second and len(lead_items(settings)) == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Hans\x85Müller"),  # NEL: a line break to mail headers
        ("company", "ACME\u2028GmbH"),
        ("name", "Hans \ud800"),  # a lone surrogate from JSON "\\ud800"
        ("message", "broken \udfff text"),
        ("name", "=?utf-8?q?Bill_Gates?="),  # would be decoded by mail clients
    ],
)
def test_text_that_cannot_be_mailed_faithfully_is_422(
    api: Any, settings: Any, field: str, value: str
) -> None:
    response = post_json(api, json.dumps({**BUYER, field: value}))
    assert response.status_code == 422
    assert field in response.json_body["error"]["fields"]
    assert lead_items(settings) == [] and sent_emails() == []


def test_absurdly_long_numbers_are_422_not_a_crash(api: Any) -> None:
    response = post_json(api, {**BUYER, "quantity": "9" * 5000})
    assert response.status_code == 422
    assert "quantity" in response.json_body["error"]["fields"]


def test_long_non_ascii_name_keeps_its_spaces_in_headers(api: Any) -> None:
    name = "Łukasz Søren An Hans 采购部 采购部 Çelik Ørsted Søren"
    assert post_json(api, {**BUYER, "name": name, "company": "采购部 Çelik"}).status_code == 201
    message = only_email()
    assert message["Reply-To"].addresses[0].display_name == name
    assert message["Subject"].startswith(f"[A] Inquiry from {name}, 采购部 Çelik")


@pytest.mark.parametrize("field", ["page", "redirect"])
def test_unparseable_url_is_422_not_a_crash(api: Any, field: str) -> None:
    response = post_form(api, {**BUYER, field: "http://[::1"})
    assert response.status_code == 422
    assert field in response.json_body["error"]["fields"]


def test_address_cannot_smuggle_fields_into_the_reply_links(api: Any) -> None:
    address = "sales?cc=attacker%40evil.com&body=pay@example.com"
    assert post_json(api, {**BUYER, "email": address}).status_code == 201
    html = body_of(only_email(), "html")
    assert 'href="mailto:sales?cc' not in html
    assert 'href="mailto:sales%3Fcc%3Dattacker%2540evil.com%26body%3Dpay%40example.com' in html
