"""The local service (admin.local.LocalService) on free loopback ports, for the bench and the
live tests: a clean embedded moto, an outbox in a temporary folder, and the process
environment restored afterwards (LocalService points AWS_ENDPOINT_URL at its emulator)."""

from __future__ import annotations

import email
import os
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

REGION = "us-east-1"
HIGH_RATE_LIMITS = {
    "RATE_LIMIT_PER_IP_PER_HOUR": "100000",
    "RATE_LIMIT_PER_EMAIL_PER_HOUR": "100000",
}


def reset_emulator() -> None:
    """Forget every table, stack and sent message of the in-process moto."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


@contextmanager
def running_service(
    env: Mapping[str, str] | None = None, hooks: tuple[Any, ...] = ()
) -> Iterator[Any]:
    """A started LocalService (API, demo site, embedded moto); stopped and cleaned up after."""
    from admin.local import LocalOptions, LocalService

    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL") or name == "AWS_PROFILE":
            del os.environ[name]
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
        }
    )
    os.environ.pop("AWS_SESSION_TOKEN", None)
    reset_emulator()
    with tempfile.TemporaryDirectory(prefix="vigor-outbox-") as outbox:
        options = LocalOptions(
            host="127.0.0.1",
            api_port=0,
            site_port=0,
            moto_port=0,
            outbox=Path(outbox),
            quiet=True,
            env=dict(env or {}),
            hooks=hooks,
        )
        service = LocalService(options)
        try:
            service.start()
            yield service
        finally:
            service.stop()
            reset_emulator()
            os.environ.clear()
            os.environ.update(saved)


class Observer:
    """What the service did, seen from outside: stored leads (a Scan: tools may scan, request
    paths never do) and the emails SES accepted (the outbox copies)."""

    def __init__(self, service: Any) -> None:
        import boto3

        self.service = service
        self.leads_table = service.runtime.settings.leads_table
        self.sales = service.runtime.settings.sales_emails
        self.db = boto3.client(
            "dynamodb",
            endpoint_url=service.endpoint_url,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def leads(self) -> list[dict[str, Any]]:
        from chalicelib.dynamo import from_item

        items: list[dict[str, Any]] = []
        for page in self.db.get_paginator("scan").paginate(
            TableName=self.leads_table,
            FilterExpression="begins_with(pk, :lead)",
            ExpressionAttributeValues={":lead": {"S": "LEAD#"}},
        ):
            items += [from_item(item) for item in page["Items"]]
        return items

    def email_files(self) -> list[Path]:
        return sorted(Path(self.service.options.outbox).glob("*.eml"))

    def emails(self, skip: frozenset[Path] = frozenset()) -> list[EmailMessage]:
        """Every message in the outbox (but those in `skip`), parsed as a mail client would."""
        messages = []
        for path in self.email_files():
            if path not in skip:
                message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
                messages.append(message)
        return messages  # type: ignore[return-value]

    def sales_emails(self) -> list[EmailMessage]:
        return [m for m in self.emails() if str(m["To"]) in self.sales]

    def acknowledgements(self) -> list[EmailMessage]:
        return [m for m in self.emails() if m["Auto-Submitted"] == "auto-replied"]

    def ses_accepted(self) -> int:
        """How many messages moto's SES accepted (must match the outbox)."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        return len(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


def wait_until(condition: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


# ---- moto: transactions without copying whole tables ------------------------------------

_touched = threading.local()


@contextmanager
def cheap_transaction_rollback() -> Iterator[None]:
    """Make moto's TransactWriteItems O(items touched) instead of O(table size), same semantics.

    moto saves a copy.deepcopy() of every table a transaction touches, to restore it if the
    transaction is cancelled. With a few thousand leads that copy takes longer than the
    app's whole request, holds the GIL and the emulator's write lock, and under concurrency
    pushes calls past the app's 5 s read timeout: the load would measure the emulator.
    moto also records every model instance it creates in a class-level list emptied only by
    a reset, so each of those copies stays in memory for good (1.8 GB per transaction on a
    table of 100,000 leads). While this is active, the saved copy shares every item the
    transaction cannot change and deep-copies the ones it names (Put/Update/Delete/
    ConditionCheck keys), so a rollback restores exactly the same state, and it is built
    without moto's instance tracking. Writes stay serialized (admin.emulator). Undone on exit.
    """
    from moto.dynamodb import models

    backend = models.DynamoDBBackend
    original = backend.transact_write_items
    real_copy = models.copy

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        _touched.keys = _keys_of(self, transact_items)
        try:
            return original(self, transact_items)
        finally:
            _touched.keys = None

    backend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    models.copy = _CopyShim(real_copy)  # type: ignore[assignment]
    try:
        yield
    finally:
        backend.transact_write_items = original  # type: ignore[method-assign]
        models.copy = real_copy


class _CopyShim:
    """Stands in for the `copy` module inside moto.dynamodb.models."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        keys = getattr(_touched, "keys", None)
        if keys is None or not isinstance(value, Table):
            return self._real.deepcopy(value, memo)
        return _snapshot(value, keys.get(value.name, ()), self._real)


def _keys_of(backend: Any, transact_items: list[dict[str, Any]]) -> dict[str, list[Any]]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    keys: dict[str, list[Any]] = {}
    for entry in transact_items:
        for op in entry.values():
            table = backend.tables.get(op.get("TableName"))
            source = op.get("Item") if "Item" in op else op.get("Key")
            if table is None or not isinstance(source, dict):
                continue
            try:
                hash_key = DynamoType(source[table.hash_key_attr])
                range_key = (
                    DynamoType(source[table.range_key_attr]) if table.range_key_attr else None
                )
            except (KeyError, TypeError):
                continue  # moto reports the invalid request itself
            keys.setdefault(table.name, []).append((hash_key, range_key))
    return keys


def _snapshot(table: Any, keys: list[Any], real_copy: Any) -> Any:
    # Not copy.copy(): moto's BaseModel.__new__ records every instance in a class-level list
    # that is only emptied by a reset, so each saved copy would stay in memory for good.
    snapshot = object.__new__(type(table))
    snapshot.__dict__.update(table.__dict__)
    items = type(table.items)(dict) if table.range_key_attr else type(table.items)()
    for hash_key, rows in table.items.items():
        items[hash_key] = dict(rows) if table.range_key_attr else rows
    for hash_key, range_key in keys:
        if hash_key not in table.items:
            continue
        if table.range_key_attr:
            item = table.items[hash_key].get(range_key)
            if item is not None:
                items[hash_key][range_key] = real_copy.deepcopy(item)
        else:
            items[hash_key] = real_copy.deepcopy(table.items[hash_key])
    snapshot.items = items
    return snapshot
