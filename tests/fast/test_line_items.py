"""Requests for quotation (issue 12): the rows of `items`, as JSON or as a plain form's
items[N].field fields, and the shipping and messenger fields; what sales receive and what
the export holds. No AWS: the parser, the emails and the export are plain functions."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import pytest

from admin.export import write_export
from chalicelib.inquiries.fields import Invalid, parse_body, validate
from chalicelib.inquiries.messages import (
    owner_for,
    plain_sales_notification,
    recipients,
    sales_notification,
)
from chalicelib.leads.model import Inquiry, Lead, LineItem
from chalicelib.mail import Templates
from chalicelib.settings import RoutingRule, Settings
from tests.conftest import SITE, settings_env

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
GOOD = {"name": "Hans Müller", "email": "hans@example.com", "message": "Please quote."}
PAD = {"part_number": "4711-A", "description": "Brake pad", "quantity": 200, "unit": "pcs"}


def inquiry_of(values: dict[str, Any], form: bool = False, language: str | None = None) -> Inquiry:
    body = urlencode(values) if form else json.dumps(values, ensure_ascii=False)
    submission = parse_body(FORM if form else JSON, body.encode("utf-8"))
    return validate(submission, language, (SITE,), lambda address: address)


def errors_of(values: dict[str, Any], form: bool = False, language: str | None = None) -> Any:
    with pytest.raises(Invalid) as refused:
        inquiry_of(values, form, language)
    return refused.value.fields


def form_row(index: int, **fields: Any) -> dict[str, Any]:
    return {f"items[{index}].{name}": value for name, value in fields.items()}


# ---- what is taken ---------------------------------------------------------------------


def test_json_rows_and_shipping_fields_are_kept_cleaned_up() -> None:
    inquiry = inquiry_of(
        {
            **GOOD,
            "items": [
                {**PAD, "unit": "PCS", "target_price": "012.50", "currency": "usd"},
                {
                    "description": " Cafe\u0301 disc",
                    "quantity": "4",
                    "target_price": 7.5,
                    "currency": "EUR",
                },
            ],
            "incoterm": "fob",
            "destination_port": "Hamburg",
            "whatsapp": "+49 (40) 123-4567",
            "wechat": "hans_mueller-1",
        }
    )
    assert inquiry.items == (
        LineItem("4711-A", "Brake pad", 200, "pcs", "12.50", "USD"),
        LineItem(None, "Café disc", 4, None, "7.5", "EUR"),  # NFC; a JSON number as its text
    )
    assert (inquiry.incoterm, inquiry.destination_port) == ("FOB", "Hamburg")
    assert (inquiry.whatsapp, inquiry.wechat) == ("+49 (40) 123-4567", "hans_mueller-1")
    assert inquiry.product is None and inquiry.rows == inquiry.items


def test_a_plain_form_sends_rows_as_indexed_fields_and_its_blank_rows_are_left_out() -> None:
    inquiry = inquiry_of(
        {
            **GOOD,
            **form_row(0, part_number="4711-A", quantity="200", unit="sets", currency="USD"),
            **form_row(1, part_number="", description=" ", quantity="", currency="USD"),
            **form_row(2, description="刹车盘", quantity="10", target_price="3", currency="cny"),
            "product": "",
            "quantity": "",
        },
        form=True,
    )
    assert inquiry.items == (
        LineItem("4711-A", None, 200, "sets"),  # a currency without a price is not kept
        LineItem(None, "刹车盘", 10, None, "3", "CNY"),
    )


def test_todays_single_product_and_quantity_are_one_row() -> None:
    inquiry = inquiry_of({**GOOD, "product": "Brake pads 04465-33450", "quantity": "200"})
    assert (inquiry.product, inquiry.quantity, inquiry.items) == ("Brake pads 04465-33450", 200, ())
    assert inquiry.rows == (LineItem(description="Brake pads 04465-33450", quantity=200),)
    assert errors_of({**GOOD, "product": "x", "quantity": 2, "items": [PAD]}) == {
        "product": "cannot be sent with items (make it a row)",
        "quantity": "cannot be sent with items (make it a row)",
    }


# ---- what is refused -------------------------------------------------------------------


def test_every_bad_row_field_is_named_with_its_row() -> None:
    rows = [
        PAD,
        {"part_number": "A\nB", "quantity": 0, "unit": "dozen"},
        {"description": "=?utf-8?q?pad?=", "quantity": "2", "target_price": "1.234"},
        {"quantity": 1, "target_price": "0", "currency": "US"},
        {"part_number": "C", "quantity": 1, "target_price": 5, "colour": "red", "x" * 99: 1},
        {"part_number": ["C"], "quantity": True},
    ]
    assert errors_of({**GOOD, "items": rows}) == {
        "items[1].part_number": "must be a single line (no line breaks or control characters)",
        "items[1].quantity": "must be a whole number from 1 to 10,000,000",
        "items[1].unit": "must be one of pcs, pairs, sets, boxes, cartons, pallets, kg, t, m, l",
        "items[2].description": "must not contain the characters =?",
        "items[2].target_price": "must be a price above 0 with at most 2 decimals, like 12.50",
        "items[3].part_number": "is required (or a description)",
        "items[3].currency": "must be a three-letter ISO 4217 code like USD",
        "items[3].target_price": "must be a price above 0 with at most 2 decimals, like 12.50",
        "items[4]": f"has unknown fields: colour, {'x' * 40}",
        "items[4].currency": "is required with a target_price",
        "items[5].part_number": "must be a string",
        "items[5].quantity": "must be a whole number from 1 to 10,000,000",
    }


def test_row_errors_are_in_chinese_for_a_chinese_visitor() -> None:
    rows = [PAD, {"part_number": "A", "quantity": 0, "target_price": "9.99"}]
    assert errors_of({**GOOD, "items": rows, "locale": "zh", "incoterm": "FOBB"}) == {
        "items[1].quantity": "第 2 行的数量必须是 1 到 10,000,000 之间的整数。",
        "items[1].currency": "填写目标价格时必须填写第 2 行的币种。",
        "incoterm": "贸易术语必须是以下之一：EXW, FCA, FAS, FOB, CFR, CIF, CPT, CIP, DAP, DPU,"
        " DDP。",
    }


@pytest.mark.parametrize(
    ("items", "error"),
    [
        ([PAD] * 51, "must have at most 50 rows"),
        ("4711-A x 2", "must be an array of rows (objects)"),
        ({"0": PAD}, "must be an array of rows (objects)"),
        ([PAD, "4711-A"], "must be an array of rows (objects): row 1 is not one"),
    ],
)
def test_what_is_wrong_with_the_rows_as_a_whole_is_named_items(items: Any, error: str) -> None:
    assert errors_of({**GOOD, "items": items}) == {"items": error}


def test_fifty_rows_are_taken() -> None:
    assert len(inquiry_of({**GOOD, "items": [PAD] * 50}).items) == 50


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        (
            {**form_row(0, **PAD), **form_row(2, **PAD)},
            "must be numbered items[0], items[1], ... without gaps",
        ),
        (form_row(50, **PAD), "must have at most 50 rows"),
        (form_row(10**30, **PAD), "must have at most 50 rows"),  # refused by its length
        (form_row(1, **PAD), "must be numbered items[0], items[1], ... without gaps"),
        (
            {"items[01].quantity": "1"},
            "must be sent as fields named items[N].field, N from 0 to 49",
        ),
        ({"items[0]": "4711-A"}, "must be sent as fields named items[N].field, N from 0 to 49"),
        (
            {**form_row(0, **PAD), "items": "x"},
            "must be sent as an array or as items[N] fields, not both",
        ),
    ],
)
def test_indexed_form_fields_must_be_numbered_from_zero_without_gaps(
    fields: dict[str, Any], error: str
) -> None:
    assert errors_of({**GOOD, **fields}, form=True) == {"items": error}


def test_a_row_field_sent_twice_with_different_values_is_refused() -> None:
    body = urlencode(
        [
            *GOOD.items(),
            ("items[0].part_number", "A"),
            ("items[0].quantity", "1"),
            ("items[0].quantity", "2"),
        ]
    )
    with pytest.raises(Invalid) as form:
        validate(parse_body(FORM, body.encode()), None, (SITE,), lambda a: a)
    raw = json.dumps(GOOD)[:-1] + ', "items": [{"part_number": "A", "quantity": 1, "quantity": 2}]}'
    with pytest.raises(Invalid) as as_json:
        validate(parse_body(JSON, raw.encode()), None, (SITE,), lambda a: a)
    assert (
        form.value.fields
        == as_json.value.fields
        == {"items[0].quantity": "was given more than once"}
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("whatsapp", "12345"),
        ("whatsapp", "+49 40 ext. 1234567"),
        ("wechat", "1hans_m"),
        ("wechat", "hans"),
        ("wechat", "hans müller"),
        ("incoterm", "FOB Shanghai"),
    ],
)
def test_messenger_ids_and_incoterms_follow_their_rules(name: str, value: str) -> None:
    assert list(errors_of({**GOOD, name: value})) == [name]


# ---- what sales receive ---------------------------------------------------------------

HOSTILE = "<b>Pad</b> & \u202eevil"


def rfq_lead() -> Lead:
    inquiry = Inquiry(
        name="Hans Müller",
        email="hans@example.com",
        message="Please quote.",
        locale="en",
        items=(
            LineItem("4711-A", HOSTILE, 2, "pcs", "12.50", "USD"),
            LineItem(None, "Brake disc", 4, "pairs"),
            LineItem("90915-YZZD4", None, 10),
        ),
        incoterm="CIF",
        destination_port="Hamburg",
        whatsapp="+49 40 1234567",
        wechat="hans_mueller",
    )
    return Lead.new(
        inquiry, "01KCVY8Z4Q5M7T0V2W3X4Y5Z6A", 1_795_000_000, spam=False, retention_days=730
    )


@pytest.fixture(scope="module")
def mail_settings() -> Settings:
    return Settings.from_env(settings_env())


def test_the_sales_email_shows_the_rows_as_a_table_and_names_the_first_part(
    mail_settings: Settings,
) -> None:
    email = sales_notification(rfq_lead(), mail_settings, Templates())
    assert email.subject == "[B] Inquiry from Hans Müller: 4711-A × 2 and 2 more parts"
    assert (
        "Items (3):\n"
        f" 1. 2 pcs × 4711-A ({HOSTILE}) @ 12.50 USD\n"
        " 2. 4 pairs × Brake disc\n"
        " 3. 10 × 90915-YZZD4\n"
    ) in email.text
    for line in (
        "WhatsApp: +49 40 1234567",
        "WeChat:   hans_mueller",
        "Incoterm: CIF",
        "Port:     Hamburg",
    ):
        assert line in email.text
    html = email.html or ""
    assert (
        '<td align="right">1</td><td>4711-A</td><td>&lt;b&gt;Pad&lt;/b&gt; &amp; \u202eevil</td>'
        '<td align="right">2</td><td>pcs</td><td align="right">12.50 USD</td>'
    ) in html
    assert '<td align="right">3</td><td>90915-YZZD4</td><td></td><td align="right">10</td>' in html
    assert "<b>Pad" not in html


def test_text_direction_overrides_cannot_reorder_the_subject(mail_settings: Settings) -> None:
    lead = rfq_lead()
    rows = lead.inquiry.items
    first = replace(rows[0], part_number="\u202e4711-A")  # would show "2 × A-1174"
    inquiry = replace(lead.inquiry, name="Hans \u2067Müller\u202d", items=(first, *rows[1:]))
    email = sales_notification(replace(lead, inquiry=inquiry), mail_settings, Templates())
    assert email.subject == "[B] Inquiry from Hans Müller: 4711-A × 2 and 2 more parts"


def test_a_routing_rule_on_product_matches_any_row_and_makes_the_owner() -> None:
    rules = (RoutingRule("product", "brake disc", ("discs@example.com",)),)
    assert recipients(rfq_lead(), ("sales@example.com",), rules) == ("discs@example.com",)
    # The owner is who the sales email goes to: the same rule must pick them.
    env = settings_env(
        ROUTING_RULES='[{"field": "product", "match": "brake disc", "to": ["discs@example.com"]}]'
    )
    lead = rfq_lead()
    assert owner_for(lead.inquiry, lead.id, Settings.from_env(env)) == "discs@example.com"
    rules = (RoutingRule("product", "wiper", ("wipers@example.com",)),)
    assert recipients(rfq_lead(), ("sales@example.com",), rules) == ("sales@example.com",)


def test_the_plain_copy_carries_every_row() -> None:
    email = plain_sales_notification(rfq_lead(), Settings.from_env(settings_env()))
    assert f"item 1: 2 pcs × 4711-A ({HOSTILE}) @ 12.50 USD\n" in email.text
    assert "item 3: 10 × 90915-YZZD4\n" in email.text
    assert "incoterm: CIF\n" in email.text and "wechat: hans_mueller\n" in email.text


# ---- the export ------------------------------------------------------------------------


def test_the_export_has_the_rows_as_an_array_in_jsonl_and_one_readable_cell_in_csv() -> None:
    legacy = Lead.new(
        Inquiry(
            name="A", email="a@example.com", message="m", locale="en", product="=cmd", quantity=5
        ),
        "01KCVY8Z4Q5M7T0V2W3X4Y5Z6B",
        1_795_000_000,
        spam=False,
        retention_days=730,
    )
    pages = [("2026-11", [rfq_lead(), legacy])]
    jsonl, table = io.StringIO(), io.StringIO(newline="")
    write_export(pages, jsonl, "jsonl")
    write_export(pages, table, "csv")
    first, second = (json.loads(line) for line in jsonl.getvalue().splitlines())
    assert first["items"][0] == {
        "part_number": "4711-A",
        "description": HOSTILE,
        "quantity": 2,
        "unit": "pcs",
        "target_price": "12.50",
        "currency": "USD",
    }
    assert len(first["items"]) == 3 and first["incoterm"] == "CIF"
    assert second["items"] == [{"description": "=cmd", "quantity": 5}]
    rfq, old = csv.DictReader(io.StringIO(table.getvalue().lstrip("\ufeff"), newline=""))
    assert rfq["items"] == (
        f"2 pcs × 4711-A ({HOSTILE}) @ 12.50 USD\n4 pairs × Brake disc\n10 × 90915-YZZD4"
    )
    assert (rfq["whatsapp"], rfq["wechat"], rfq["destination_port"]) == (
        "'+49 40 1234567",
        "hans_mueller",
        "Hamburg",
    )
    assert old["items"] == "5 × =cmd" and old["product"] == "'=cmd"
