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
