"""The DynamoDB leads table (moto, made from infra/resources.json) keeps the LeadStore
contract: the same tests the in-memory fake passes."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from chalicelib.leads.dynamodb import LeadsTable
from chalicelib.settings import Settings
from tests.conftest import REGION
from tests.leads_contract import LeadStoreContract


class TestLeadsTable(LeadStoreContract):
    @pytest.fixture
    def store(self, settings: Settings, clock: Any) -> LeadsTable:
        db = boto3.client("dynamodb", region_name=REGION)
        return LeadsTable(db, settings.leads_table, clock=clock)


def test_an_item_stored_before_sales_status_reads_sensibly_and_can_change(
    settings: Settings, clock: Any
) -> None:
    """Leads stored before sales status existed: new, or a retired contacted/closed."""
    from chalicelib.dynamo import to_item
    from chalicelib.leads.dynamodb import Filter, lead_item
    from chalicelib.leads.model import Lead, SalesStatus, Status
    from tests.data import HANS

    db = boto3.client("dynamodb", region_name=REGION)
    table = LeadsTable(db, settings.leads_table, clock=clock)
    old = {"01KCVY8Z4Q5M7T0V2W3X4Y0001": "sent", "01KCVY8Z4Q5M7T0V2W3X4Y0002": "contacted"}
    for lead_id, status in old.items():
        lead = Lead.new(HANS, lead_id, clock.now, spam=False, retention_days=730)
        item = lead_item(lead)
        for added in ("sales_status", "owner", "score", "score_reasons", "follow_up_at"):
            item.pop(added, None)
        db.put_item(TableName=settings.leads_table, Item=to_item({**item, "status": status}))
    fresh, contacted = (table.find(lead_id) for lead_id in old)
    assert (fresh.status, fresh.sales_status) == (Status.SENT, SalesStatus.NEW)
    assert (contacted.status, contacted.sales_status) == (Status.SENT, SalesStatus.REPLIED)

    def listed(status: SalesStatus) -> list[str]:
        since = clock.now - 400 * 86400  # the ids above are of December 2025
        return [lead.id for lead in table.newest_first(since, Filter(sales_status=status))]

    assert listed(SalesStatus.NEW) == [fresh.id] and listed(SalesStatus.REPLIED) == [contacted.id]
    won = table.set_sales_status(contacted.id, SalesStatus.WON, "bo@example.com", None, 5)
    assert won.sales_status == SalesStatus.WON and [c.old for c in won.history] == ["replied"]
    replied = table.set_sales_status(fresh.id, SalesStatus.REPLIED, "bo@example.com", None, 7)
    assert replied.first_reply_at == 7 and listed(SalesStatus.REPLIED) == [fresh.id]
