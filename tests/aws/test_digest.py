"""The daily digest (chalicelib/followup/digest.py): from DIGEST_HOUR in DIGEST_TIMEZONE,
once a day however many sweeps race, yesterday's leads by country, product and score, the
unanswered ones oldest first, and every failed notification and chat alert, again each day
until someone acts on it."""

from __future__ import annotations

import datetime
import json
import threading
from typing import Any

import boto3

from chalicelib.followup.sweeps import run_follow_ups
from tests.conftest import REGION, SALES, body_of, post_json, sent_emails
from tests.data import BUYER
from tests.fakes import FakeChat

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def at(day: int, hour: int, minute: int = 0) -> float:
    """Epoch seconds of 2026-11-<day> <hour>:<minute> in Shanghai."""
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).timestamp()


def digests() -> list[Any]:
    return [m for m in sent_emails() if str(m["Subject"]).startswith("Leads digest")]


def test_the_digest_reports_yesterday_and_every_lead_still_waiting_once_a_day(
    make_client: Any, clock: Any, faults: Any, chat: str
) -> None:
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/t/chat", Value=json.dumps([{"kind": "slack", "url": f"{chat}/s"}]), Type="String"
    )
    api = make_client(
        MAX_NOTIFY_ATTEMPTS="1", CHAT_WEBHOOKS="ssm:/t/chat", DIGEST_EMAILS="boss@example.com"
    )

    def lead(when: float, **fields: Any) -> str:
        clock.now = when
        values = {k: v for k, v in {**BUYER, **fields}.items() if v is not None}
        return str(post_json(api, values).json_body["id"])

    lead(at(17, 23, 30), email="before@example.com")  # the day before yesterday
    rfq = [{"part_number": "90915-YZZE1", "quantity": 50}, {"description": "oil", "quantity": 9}]
    first = lead(
        at(18, 0, 10),
        country="China",
        items=rfq,
        product=None,
        quantity=None,
        email="a@example.com",
    )
    faults.fail("sesv2.SendEmail", "reject")
    failed = lead(at(18, 9), email="b@example.com")  # Germany, brake pads: failed for good
    faults.heal()
    lead(at(18, 12), email="c@example.com", website="spam")  # the honeypot: left out
    FakeChat.answers = [404]  # the chat refuses the next alert for good
    rfq = [
        {"description": "Brake pads 04465-33450, rotors", "quantity": 4},
        {"part_number": "X1", "quantity": 2},
    ]
    lead(at(18, 23, 50), email="d@example.com", product=None, quantity=None, items=rfq)
    lead(at(19, 1), email="today@example.com")  # today: in tomorrow's digest
    clock.now = at(19, 7, 59)
    run_follow_ups(api.runtime)  # the alerts go out; the digest is not due yet
    assert digests() == []

    clock.now = at(19, 8, 5)
    racers = [threading.Thread(target=run_follow_ups, args=(api.runtime,)) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    clock.advance(3600)
    run_follow_ups(api.runtime)
    (digest,) = digests()
    assert digest["To"] == "boss@example.com"
    assert digest["Subject"] == "Leads digest 2026-11-18: 3 new, 5 unanswered, 2 FAILED"
    text = body_of(digest, "plain").replace("\r\n", "\n")
    assert "3 new inquiries yesterday" in text
    assert "  2  Germany\n  1  China\n" in text
    assert "  2  Brake pads 04465-33450\n  1  90915-YZZE1\n" in text  # an RFQ: its first part
    failed_part = text.split("FAILED for good", 1)[1].split("chat alerts given up", 1)[0]
    assert failed in failed_part and first not in failed_part
    unanswered = text.split("unanswered (sales status new), oldest first:", 1)[1]
    assert unanswered.index(first) < unanswered.index(failed)  # oldest first
    assert "Brake pads 04465-33450 × 4 +1 more" in unanswered  # an RFQ: its first row
    assert "90915-YZZE1 × 50 +1 more" in unanswered
    assert any("90915-YZZE1 × 50 +1 more".encode() in body for _, _, body in FakeChat.seen)
    assert "@" not in text.replace(SALES, "")  # no buyer's address in the digest

    clock.now = at(20, 9)
    run_follow_ups(api.runtime)
    second = digests()[1]
    assert second["Subject"].startswith("Leads digest 2026-11-19: 1 new, 5 unanswered, 2 FAILED")
    assert failed in body_of(second, "plain")  # still failed: still in the digest
