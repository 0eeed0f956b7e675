"""The invariant, end to end: every POST /inquiries answered 201 ends with the lead in the
sales inbox (now or through the retry sweep), whatever odd but validator-accepted address
and name the visitor typed; and every message's To header names exactly the address SES
was asked to deliver to.

Checked through the emails moto's SES received, parsed back as a mail client would.
"""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from admin.provision import deploy_stack, verify_sender
from chalicelib.inquiries.retry import retry_pending
from chalicelib.settings import Settings
from tests.conftest import REGION, SALES, SENDER, STAGE, make_runtime, post_json, settings_env

# Pieces of addresses that email-validator accepts (or nearly): encoded words, quotes,
# comments, IDN domains, RTL and zero-width marks, plus-tags, every atext symbol.
LOCAL_PIECES = [
    "hans",
    "a.b",
    "x+tag",
    "=?utf-8?q?x?=",
    "=?utf-8?b?eA==?=",
    "?=",
    "=",
    "'",
    "`",
    "{}",
    "|~",
    "#!$%&*/^_",
    '"q"',
    "(comment)",
    "\u200f",
    "\u202e",
    "\u200b",
    "ü",
    "-",
]
DOMAINS = [
    "example.com",
    "münchen.de",
    "例子.测试",
    "xn--mnchen-3ya.de",
    "EXAMPLE.COM",
    "a-b.example.org",
    "[127.0.0.1]",
    "example.com.",
    "اختبار.com",
]
NAME_PIECES = [
    "Hans",
    "Müller",
    "张伟",
    "=?utf-8?q?Bill?=",
    '"Quoted"',
    "(comment)",
    "<x@evil.example>",
    "\u200f",
    "\u202eevil",
    "O'Brien",
    "a,b;c:",
    "\\",
    "=?",
    "http://evil.example/win",
]

addresses = st.builds(
    lambda local, domain: "".join(local) + "@" + domain,
    st.lists(st.sampled_from(LOCAL_PIECES), min_size=1, max_size=4),
    st.sampled_from(DOMAINS),
)
names = st.lists(st.sampled_from(NAME_PIECES), min_size=1, max_size=4).map(" ".join)
# Line items with hostile text: HTML, bidi marks, an encoded word (refused: it would reach
# the Subject), CJK. The first row names the inquiry in the Subject.
ROW_PIECES = [
    "4711-A",
    "<b>pad</b>",
    "\u200f",
    "\u202eevil",
    "刹车片",
    "&amp;",
    "'\"",
    "=?utf-8?q?x?=",
]
row_texts = st.lists(st.sampled_from(ROW_PIECES), min_size=1, max_size=3).map(" ".join)
line_items = st.lists(
    st.fixed_dictionaries(
        {"part_number": row_texts, "quantity": st.integers(1, 10_000_000)},
        optional={"description": row_texts, "unit": st.just("pcs")},
    ),
    max_size=3,
)


@pytest.fixture(scope="module")
def app() -> Iterator[Any]:
    """One app and one moto for all examples (a stack per example would take minutes)."""
    from chalice.test import Client

    from chalicelib.bootstrap import create_app

    with mock_aws():
        deploy_stack(boto3.client("cloudformation", region_name=REGION), STAGE)
        verify_sender(boto3.client("sesv2", region_name=REGION), SENDER)
        env = settings_env(
            AUTOREPLY_ENABLED="true",
            RATE_LIMIT_PER_IP_PER_HOUR="100000",
            RATE_LIMIT_PER_EMAIL_PER_HOUR="100000",
            AUTOREPLY_MAX_PER_HOUR="100000",
        )
        runtime = make_runtime(Settings.from_env(env))
        with Client(create_app(runtime)) as client:
            client.runtime = runtime
            yield client


def sent() -> list[Any]:
    """Every message moto's SES took, in order."""
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def delivered(since: int) -> list[tuple[list[str], EmailMessage]]:
    """The messages sent after the first `since`, parsed (only those: parsing every message
    again for each example made the test quadratic)."""
    return [
        (list(message.destinations), email.message_from_string(raw, policy=default_policy))
        for message in sent()[since:]
        if (raw := getattr(message, "raw_data", None)) is not None
    ]


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(address=addresses, name=names, items=line_items)
def test_every_201_reaches_the_sales_inbox(
    app: Any, address: str, name: str, items: list[dict[str, Any]]
) -> None:
    before = len(sent())
    body = {"name": name, "email": address, "message": "Quote please", "items": items}
    response = post_json(app, body)
    assert response.status_code in (201, 422), response.json_body
    if response.status_code == 422:
        row_fields = {f"items[{n}].{f}" for n in range(3) for f in ("part_number", "description")}
        assert set(response.json_body["error"]["fields"]) <= {"email", "name", *row_fields}
        assert len(sent()) == before
        return
    lead_id = response.json_body["id"]
    runtime = app.runtime
    retry_pending(runtime.leads, runtime.inquiries, runtime.clock)  # nothing should be due
    new = delivered(before)
    to_sales = [m for to, m in new if set(to) == {SALES} and m["X-Vigor-Lead-Id"] == lead_id]
    assert len(to_sales) == 1
    lead = runtime.leads.get(lead_id)
    assert lead is not None and lead.status == "sent"
    for destinations, message in new:
        # What the reader sees as the recipient is exactly where SES delivered it.
        # (moto lists the SendEmail destination and the To header's addresses together)
        assert {a.addr_spec for a in message["To"].addresses} == set(destinations)
        assert "\x00" not in message.as_string()
