"""Plain dicts <-> DynamoDB attribute values, for the low-level client.

The low-level client is used instead of the resource API: it is cheaper to create
(cold start) and makes every call explicit, which the call-count budgets rely on.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from chalicelib.aws import error_code

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in values.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    """Decimals become int (all our numbers are whole); nested values likewise."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


def conditional_write(write: Callable[..., Any], **request: Any) -> dict[str, Any] | None:
    """Run a conditional put/update/delete; None when its condition did not hold.

    Every state change is a conditional write, and a failed condition is an answer
    ("someone else got there first"), not an error. Any other error is raised.
    """
    try:
        response: dict[str, Any] = write(**request)
    except Exception as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return None
        raise
    return response
