"""The MIME chalicelib/mail.py writes keeps the rules of tests/mime_rules.py — 7-bit, headers
folded to at most 78 characters without losing a space, quoted-printable lines of at most 76,
no parser defect — and reads back as written, whatever the values (Hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.inquiries.email_check import PLAIN_ADDRESS, reads_back_from_a_header
from chalicelib.inquiries.messages import (
    acknowledgement,
    held_back_summary,
    plain_sales_notification,
    sales_notification,
)
from chalicelib.leads.model import Inquiry, Lead
from chalicelib.mail import Email, Templates
from chalicelib.settings import Settings
from tests.conftest import SALES, SENDER, SITE, settings_env
from tests.data import BUYER
from tests.mime_rules import (
    as_mail_clients_read,
    display_name_as_clients_read,
    lines,
    part,
    problems,
    raw_header,
    read_back,
)

LEAD_ID = "01KCVY8Z4Q5M7T0V2W3X4Y5Z6A"
EXAMPLES = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

# What a header may carry: any text but control characters (validation refuses them in every
# field that reaches a header) and lone surrogates, stripped as every field is.
header_text = (
    st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=250)
    .map(str.strip)
    .filter(bool)
)
body_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=1500)
atoms = st.text("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/^_`{|}~", min_size=1, max_size=12)
addresses = st.builds(
    "{}@{}.{}".format,
    st.lists(atoms, min_size=1, max_size=3).map(".".join),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True),
    st.sampled_from(["com", "de", "cn", "co.uk", "xn--fiqs8s"]),
)


@EXAMPLES
@given(
    subject=header_text,
    name=st.none() | header_text.filter(lambda s: len(s) <= 100),
    address=addresses,
    text=body_text,
    html=st.none() | body_text,
    lead_ids=st.lists(st.just(LEAD_ID), min_size=1, max_size=12).map(" ".join),
)
def test_every_message_keeps_the_rules_and_reads_back_as_written(
    subject: str, name: str | None, address: str, text: str, html: str | None, lead_ids: str
) -> None:
    email = Email(
        sender=SENDER,
        to=(SALES, address),
        subject=subject,
        text=text,
        html=html,
        reply_to=None if name is None else (name, address),
        headers=(("X-Vigor-Lead-Ids", lead_ids),),
    )
    assert problems(email.raw) == []
    message = read_back(email.raw)
    assert str(message["Subject"]) == as_mail_clients_read(message, "Subject") == subject
    assert [a.addr_spec for a in message["To"].addresses] == [SALES, address]
    assert as_mail_clients_read(message, "X-Vigor-Lead-Ids") == lead_ids
    assert str(message["From"]) == SENDER
    if name is not None:
        (reply_to,) = message["Reply-To"].addresses
        assert reply_to.addr_spec == address
        assert display_name_as_clients_read(message, "Reply-To") == name
    ending = "" if lines(text).endswith("\n") else "\n"
    assert lines(part(message, "plain")) == lines(text) + ending
    if html is None:
        assert not message.is_multipart()
    else:
        ending = "" if lines(html).endswith("\n") else "\n"
        assert lines(part(message, "html")) == lines(html) + ending


@pytest.fixture(scope="module")
def mail_settings() -> Settings:
    return Settings.from_env(settings_env())


def buyer_lead(**changes: Any) -> Lead:
    values = {k: v for k, v in BUYER.items() if k != "quantity"}
    inquiry = Inquiry(**values, locale="en", quantity=200)  # type: ignore[arg-type]
    return Lead.new(inquiry, LEAD_ID, 1_795_000_000, spam=False, retention_days=730, **changes)


def test_the_sales_subject_is_folded_and_every_email_keeps_the_rules(
    mail_settings: Settings,
) -> None:
    # Before: the subject was one line of 97 characters and the quoted-printable bodies had
    # lines of 80 to 182 (SpamAssassin's MIME_QP_LONG_LINE on both emails).
    lead = buyer_lead()
    templates = Templates()
    emails = {
        "sales": sales_notification(lead, mail_settings, templates),
        "not stored": sales_notification(lead, mail_settings, templates, stored=False),
        "plain": plain_sales_notification(lead, mail_settings),
        "acknowledgement": acknowledgement(lead, mail_settings, templates),
        "summary": held_back_summary([lead, lead], mail_settings, templates),
    }
    for which, email in emails.items():
        assert problems(email.raw) == [], which
    sales = read_back(emails["sales"].raw)
    subject = raw_header(sales, "Subject")
    assert "\n" in subject and str(sales["Subject"]) == emails["sales"].subject
    assert len(emails["sales"].subject) > 78


@EXAMPLES
@given(
    address=addresses
    | st.builds("{}@{}".format, st.lists(atoms, min_size=1, max_size=3).map(".".join), atoms)
)
def test_a_plain_address_reads_back_from_a_header_as_itself(address: str) -> None:
    # email_check.survives_a_header skips the parser for these: the parser must agree.
    if "=?" in address:
        return
    assert PLAIN_ADDRESS.match(address)
    assert reads_back_from_a_header(address)
    message = read_back(Email(SENDER, (address,), "Hi", "Hi", None, reply_to=("N", address)).raw)
    assert [a.addr_spec for a in message["To"].addresses] == [address]
    assert [a.addr_spec for a in message["Reply-To"].addresses] == [address]


@pytest.mark.parametrize(
    "address",
    [
        "=?utf-8?q?x?=@example.com",
        "a b@example.com",
        "jörg@example.com",
        "a@b@example.com",
        "<a@example.com>",
        "a\r\nBcc: x@example.com",
        "a\\b@example.com",
        "",
    ],
)
def test_an_address_a_header_cannot_carry_faithfully_is_refused(address: str) -> None:
    for email in (
        Email(SENDER, (address,), "Hello", "Hi", None),
        Email(SENDER, (SALES,), "Hello", "Hi", None, reply_to=("Name", address)),
    ):
        with pytest.raises(ValueError):
            _ = email.raw


def test_a_control_character_in_a_header_value_is_refused() -> None:
    for subject in ("a\r\nBcc: x@example.com", "a\x00b", "a\x85b"):
        with pytest.raises(ValueError):
            _ = Email(SENDER, (SALES,), subject, "Hi", None).raw


def test_a_site_page_and_a_long_cjk_name_stay_intact(mail_settings: Settings) -> None:
    name = "上海汽配有限公司采购部" * 4  # one run of 44 characters: several encoded-words
    lead = buyer_lead()
    inquiry = Inquiry(name=name, email="li@example.cn", message="报价", locale="zh", page=SITE)
    lead = Lead.new(inquiry, LEAD_ID, 1_795_000_000, spam=False, retention_days=730)
    raw = sales_notification(lead, mail_settings, Templates()).raw
    assert problems(raw) == []
    message = read_back(raw)
    assert raw_header(message, "Reply-To").count("=?utf-8?") > 1
    assert display_name_as_clients_read(message, "Reply-To") == name
    assert as_mail_clients_read(message, "Subject") == f"[C] Inquiry from {name}"


def test_deliverability_checks_share_one_caching_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    import email_validator

    from chalicelib.inquiries import email_check

    made: list[dict[str, Any]] = []
    seen: list[dict[str, Any]] = []
    real = email_validator.validate_email

    def resolver(**kwargs: Any) -> object:
        made.append(kwargs)
        return object()

    def validate(address: str, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return real(address, check_deliverability=False)

    monkeypatch.setattr(email_check, "_resolvers", [])
    monkeypatch.setattr(email_validator, "caching_resolver", resolver)
    monkeypatch.setattr(email_validator, "validate_email", validate)
    for address in ("a@example.com", "b@example.com"):
        assert email_check.normalized_email(address, check_deliverability=True) == address
    assert made == [{"timeout": email_check.DNS_TIMEOUT_SECONDS}]
    assert seen[0]["dns_resolver"] is seen[1]["dns_resolver"] and "timeout" not in seen[0]
    email_check.normalized_email("c@example.com", check_deliverability=False)
    assert seen[2]["timeout"] == email_check.DNS_TIMEOUT_SECONDS and "dns_resolver" not in seen[2]
