"""The HMAC primitive: sign a message with a key, verify it against one or more keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable


def sign(key: bytes, message: str) -> str:
    """HMAC-SHA256 of the UTF-8 message, URL-safe base64 without padding (43 characters)."""
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify(keys: Iterable[bytes], message: str, signature: str) -> bool:
    """Did one of these keys sign the message? Constant-time comparisons."""
    found = False
    for key in keys:
        found |= hmac.compare_digest(sign(key, message), signature)
    return found
