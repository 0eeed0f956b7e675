"""Retention: every lead carries the TTL attribute expires_at; spam goes much sooner.

DynamoDB's TTL (infra/resources.json: TimeToLiveSpecification on expires_at) deletes an
item some time (usually within days) after expires_at has passed. Leads are kept
LEAD_RETENTION_DAYS (default 730), spam SPAM_RETENTION_DAYS (default 30); the counters,
acknowledgement markers and idempotency records expire within hours to a day.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from admin.stages import stage_environment
from tests.conftest import lead_items, post_json
from tests.data import BUYER

ROOT = Path(__file__).resolve().parents[2]
DAY = 86400


def epoch(iso: str) -> int:
    import datetime

    return int(datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def test_the_template_expires_leads_table_items_by_expires_at() -> None:
    template = json.loads((ROOT / "infra" / "resources.json").read_text(encoding="utf-8"))
    ttl = template["Resources"]["LeadsTable"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_stage_keeps_spam_for_less_time_than_leads(stage: str) -> None:
    env = stage_environment(stage)
    assert 0 < int(env["SPAM_RETENTION_DAYS"]) < int(env["LEAD_RETENTION_DAYS"])


def test_spam_expires_sooner_than_a_lead(make_client: Any, settings: Any, clock: Any) -> None:
    api = make_client(LEAD_RETENTION_DAYS="730", SPAM_RETENTION_DAYS="30")
    lead_id = post_json(api, BUYER).json_body["id"]
    clock.advance(5)
    spam_id = post_json(api, {**BUYER, "email": "bot@example.com", "website": "x"}).json_body["id"]
    leads = {item["id"]: item for item in lead_items(settings)}
    lead, spam = leads[lead_id], leads[spam_id]
    assert spam["status"] == "spam" and lead["status"] == "sent"
    assert lead["expires_at"] == epoch(lead["received_at"]) + 730 * DAY
    assert spam["expires_at"] == epoch(spam["received_at"]) + 30 * DAY
    assert spam["expires_at"] < lead["expires_at"]


def test_retention_days_come_from_the_settings(make_client: Any, settings: Any) -> None:
    api = make_client(LEAD_RETENTION_DAYS="400", SPAM_RETENTION_DAYS="7")
    post_json(api, BUYER)
    post_json(api, {**BUYER, "email": "bot@example.com", "website": "x"})
    days = {
        item["status"]: (item["expires_at"] - epoch(item["received_at"])) // DAY
        for item in lead_items(settings)
    }
    assert days == {"sent": 400, "spam": 7}
