"""HMAC-SHA256 signatures for links the API hands out (attachment downloads in the sales
email): `sign` a message with a key, `verify` a signature in constant time.

The key comes from whoever calls (a provider the composition root builds from a setting
such as LINK_SIGNING_KEY, an SSM SecureString read once per instance): this module holds
no key and reads no setting. Signatures are URL-safe base64 without padding (43 chars).
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(message: bytes, key: bytes) -> str:
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify(message: bytes, signature: str, key: bytes) -> bool:
    """True when `signature` is `sign(message, key)`; never raises on a malformed one."""
    if not key:
        return False
    expected = sign(message, key)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace"))
