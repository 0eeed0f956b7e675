"""The in-memory leads store keeps the LeadStore contract (so the fast tier's service tests
mean what they say about the DynamoDB adapter, which keeps the same contract)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import InMemoryLeads
from tests.leads_contract import LeadStoreContract


class TestInMemoryLeads(LeadStoreContract):
    @pytest.fixture
    def store(self, clock: Any) -> InMemoryLeads:
        return InMemoryLeads(clock)


def test_a_full_history_keeps_the_item_far_below_dynamodbs_400_kb(clock: Any) -> None:
    """MAX_HISTORY changes, each with the longest note, on a lead whose message and rows are
    as long as validation allows, all in 4-byte characters: the stored item stays under
    DynamoDB's 400 KB with room to spare, so the trimmed history can always be written."""
    import json
    from dataclasses import replace

    from chalicelib.leads.dynamodb import lead_item
    from chalicelib.leads.model import MAX_HISTORY, MAX_NOTE, Change, Lead, LineItem
    from tests.data import HANS

    wide = "𝄞"  # 4 bytes in UTF-8, as DynamoDB counts
    row = LineItem(part_number=wide * 64, description=wide * 200, quantity=1)
    inquiry = replace(HANS, message=wide * 5000, items=(row,) * 50)
    lead = Lead.new(inquiry, "01KCVY8Z4Q5M7T0V2W3X4Y0001", clock.now, spam=False, retention_days=1)
    note = wide * MAX_NOTE
    changes = tuple(Change(1, "x" * 254, "status", "won", "lost", note) for _ in range(MAX_HISTORY))
    item = lead_item(replace(lead, history=changes))
    assert len(json.dumps(item, ensure_ascii=False).encode()) < 300_000
