"""Lead ids: ULIDs (26 chars, Crockford base32), time-ordered and unique.

Sorting ids sorts leads by time, so one index lists leads newest first, and the id is
short and unambiguous enough to be the reference number a visitor reads to sales.
"""

from __future__ import annotations

import os
import time

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(now: float | None = None) -> str:
    millis = int((time.time() if now is None else now) * 1000)
    return _encode((millis << 80) | int.from_bytes(os.urandom(10), "big"))


def id_floor(epoch: float) -> str:
    """The smallest id minted at or after `epoch` (seconds): a time as a key bound."""
    return _encode(int(epoch * 1000) << 80)


def time_of(lead_id: str) -> float:
    """When the id was minted (epoch seconds): a ULID's first 48 bits are its milliseconds."""
    millis = 0
    for char in lead_id[:10]:
        millis = millis * 32 + ALPHABET.index(char)
    return millis / 1000


def is_id(text: str) -> bool:
    return len(text) == 26 and all(ch in ALPHABET for ch in text) and text[0] in "01234567"


def _encode(value: int) -> str:
    chars = []
    for _ in range(26):
        value, index = divmod(value, 32)
        chars.append(ALPHABET[index])
    return "".join(reversed(chars))
