"""Make moto's DynamoDB keep DynamoDB's isolation guarantees under concurrency.

moto runs TransactWriteItems by deep-copying the tables and restoring that copy when the
transaction fails. Two concurrent requests can therefore undo each other's committed
writes — something real DynamoDB never does, and exactly what the idempotency and retry
races exercise. Serializing moto's write operations restores DynamoDB's semantics
(each write and each transaction is atomic and isolated) for tests and `make run`.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_WRITES = (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "batch_write_item",
)
_lock = threading.RLock()
_applied = False


def serialize_moto_dynamodb_writes() -> None:
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        original = getattr(DynamoDBBackend, name, None)
        if original is None:
            continue
        setattr(DynamoDBBackend, name, _locked(original))
    _applied = True


def _locked(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    return wrapper
