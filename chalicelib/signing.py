"""The one key and the one HMAC for every signed link the API hands out: the action links
of the sales email (chalicelib/actions/links.py) and the download links of files too large
to attach (chalicelib/attachments/files.py).

The key is an SSM SecureString parameter (LINK_KEY names it) and, during a rotation, the
one before it (the same name + PREVIOUS_SUFFIX). Both are read in ONE GetParameters call,
on first use, and kept for the container's life; a link whose signature matches neither
may have been signed with a key rotated in since, so the keys are read again then (at
most once per REFRESH_SECONDS). `manage.py provision` creates the key, `manage.py keys
rotate` rotates it (admin/keys.py).

Each kind of link signs a message that starts with its own label (KINDS), so a signature
made for one kind can never be replayed as another. Signatures are HMAC-SHA256, URL-safe
base64 without padding (43 characters), checked in constant time against both keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

PREVIOUS_SUFFIX = "-previous"
REFRESH_SECONDS = 300
# The label each kind of link's message starts with (domain separation).
KINDS = frozenset({"action", "file"})


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")


def message(kind: str, *parts: str | int) -> bytes:
    """What a link of this kind signs: its label, then its parts, one per line."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of link {kind!r}")
    return "\n".join([kind, *(str(part) for part in parts)]).encode("utf-8")


def hmac_sign(key: bytes, text: bytes) -> str:
    digest = hmac.new(key, text, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class LinkKeys:
    current: bytes
    previous: bytes | None = None

    def all(self) -> tuple[bytes, ...]:
        return (self.current,) if self.previous is None else (self.current, self.previous)

    def match(self, text: bytes, signature: str) -> bool:
        """Did one of these keys sign the text? Constant-time comparisons."""
        given = signature.encode("utf-8", "replace")
        found = False
        for key in self.all():
            found |= hmac.compare_digest(hmac_sign(key, text).encode("ascii"), given)
        return found


class KeyRing:
    """The link keys of one container: read lazily, kept, re-read after a rotation."""

    def __init__(self, ssm: Callable[[], Any], parameter: str, clock: Callable[[], float]) -> None:
        self._ssm = ssm
        self._parameter = parameter
        self._clock = clock
        self._keys: LinkKeys | None = None
        self._read_at = 0.0

    def keys(self) -> LinkKeys | None:
        """The keys; None while SSM cannot be read (the next use tries again)."""
        if self._keys is None:
            self._read()
        return self._keys

    def reread(self) -> bool:
        """Read the keys again, unless that was done lately; True when read."""
        if self._keys is not None and self._clock() - self._read_at < REFRESH_SECONDS:
            return False
        return self._read()

    def _read(self) -> bool:
        from chalicelib.aws import error_code

        previous = self._parameter + PREVIOUS_SUFFIX
        try:
            answer = self._ssm().get_parameters(
                Names=[self._parameter, previous], WithDecryption=True
            )
        except Exception as exc:
            log.warning("link key %s unreadable (%s)", self._parameter, error_code(exc))
            return False
        values = {p["Name"]: str(p["Value"]).encode("utf-8") for p in answer["Parameters"]}
        current = values.get(self._parameter)
        if current is None:
            log.warning("link key %s missing: run manage.py provision", self._parameter)
            return False
        self._keys = LinkKeys(current, values.get(previous))
        self._read_at = self._clock()
        return True


class LinkSigner:
    """Signs links with the current key; checks them against the current and the previous
    one (re-reading the keys once when neither matches: a rotation since)."""

    def __init__(self, keys: KeyRing) -> None:
        self._keys = keys

    def sign(self, kind: str, *parts: str | int) -> str | None:
        """The signature; None while the key cannot be read (links are then left out)."""
        keys = self._keys.keys()
        return None if keys is None else hmac_sign(keys.current, message(kind, *parts))

    def verify(self, signature: str, kind: str, *parts: str | int) -> bool | None:
        """Genuine or not; None while the keys cannot be read (try again later)."""
        keys = self._keys.keys()
        if keys is None:
            return None
        text = message(kind, *parts)
        if keys.match(text, signature):
            return True
        fresh = self._keys.keys() if self._keys.reread() else None
        return fresh is not None and fresh.match(text, signature)
