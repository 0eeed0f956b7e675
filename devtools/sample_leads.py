"""Leads as the service stores them once sales got the email: for the bench and the tests
that need many leads in the table (an export of 10,000, the flat-cost bench)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from chalicelib.ids import new_id
from chalicelib.leads.dynamodb import lead_item
from chalicelib.leads.model import Inquiry, Lead, Status


def sent_lead(number: int, received: float, **fields: Any) -> Lead:
    """Lead `number`, received at `received` (epoch seconds), emailed a second later."""
    values: dict[str, Any] = {
        "name": f"Buyer {number}",
        "email": f"buyer{number}@example.com",
        "message": "Please quote 200 sets of front brake pads, delivery to Hamburg.",
        "locale": "en",
        "company": "Autoteile Nord GmbH",
        "country": "Germany",
        "product": "Brake pads 04465-33450",
        "quantity": 200,
        **fields,
    }
    taken = Lead.new(Inquiry(**values), new_id(received), received, spam=False, retention_days=730)
    return replace(
        taken,
        status=Status.SENT,
        notify_attempts=1,
        notified_at=int(received) + 1,
        message_id=f"sample-{number}",
        ack="sent",
        next_attempt_at=None,
        claim_token=None,
    )


def sent_lead_items(count: int, newest: float, every_seconds: int) -> Iterator[dict[str, Any]]:
    """`count` stored lead items (plain values), one every `every_seconds` back from
    `newest`."""
    for number in range(count):
        yield lead_item(sent_lead(number, newest - number * every_seconds))
