"""The one time format of the project: ISO 8601 in UTC to the second ("2026-11-18T09:30:00Z")."""

from __future__ import annotations

import datetime

ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime(ISO_FORMAT)


def epoch_of(text: object) -> int | None:
    """Epoch seconds of an ISO 8601 time ("Z" or an offset), None when it is not one."""
    if not isinstance(text, str):
        return None
    try:
        return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None
