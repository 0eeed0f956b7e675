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
